"""Through a real ``flume-ng agent``: a syslog burst larger than the channel's
transactionCapacity is accepted whole, over TCP and over UDP."""

from __future__ import annotations

import socket
from pathlib import Path

from flume_testkit import connect_when_listening
from flume_testkit.servers import free_port, running_agent, source_to_null

BURST = 1_000


def _lines(count: int) -> list[bytes]:
    return [b"<13>Jan  1 00:00:00 host app: burst line %d" % i for i in range(count)]


def test_a_tcp_burst_larger_than_transaction_capacity_is_accepted(tmp_path: Path) -> None:
    port = free_port()
    conf = source_to_null("a1", "syslogtcp", port, address_key="host")
    with running_agent(conf, tmp_path) as agent, connect_when_listening(port) as client:
        client.sendall(b"".join(line + b"\n" for line in _lines(BURST)))
        agent.assert_accepted(BURST)


def test_a_udp_burst_larger_than_transaction_capacity_is_accepted(tmp_path: Path) -> None:
    port = free_port()
    conf = source_to_null("a1", "syslogudp", port, address_key="host")
    with running_agent(conf, tmp_path) as agent, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for line in _lines(BURST // 5):
            client.sendto(line, ("127.0.0.1", port))
        agent.assert_accepted(BURST // 5)
        assert agent.counter("SOURCE.r1", "EventDroppedCount") == 0
