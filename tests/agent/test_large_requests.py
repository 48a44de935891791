"""Through a real ``flume-ng agent``: a read or a request larger than the channel's
transactionCapacity is accepted whole (Source.deliver commits it in slices).

Flume puts such a request in one transaction and refuses it forever; the quick-start
config (memory channel, transactionCapacity 100) must answer OK to lines pipelined by
``cat file | nc``.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

from flume_testkit import connect_when_listening
from flume_testkit.servers import free_port, running_agent, source_to_null

QUICK_START = Path(__file__).resolve().parents[2] / "examples" / "netcat-logger.conf"


def _read_lines(client: socket.socket, count: int) -> list[bytes]:
    data = b""
    while data.count(b"\n") < count:
        chunk = client.recv(65536)
        assert chunk, f"connection closed after {len(data.splitlines())} of {count} replies"
        data += chunk
    return data.splitlines()


def test_quick_start_config_answers_ok_to_10000_pipelined_lines(tmp_path: Path) -> None:
    port = free_port()
    conf = QUICK_START.read_text()
    assert "a1.sources.r1.port = 44444" in conf and "transactionCapacity = 100" in conf
    with running_agent(conf.replace("port = 44444", f"port = {port}"), tmp_path) as agent, \
            connect_when_listening(port) as client:
        client.sendall(b"".join(b"line %d\n" % i for i in range(10_000)))
        replies = _read_lines(client, 10_000)
        assert replies == [b"OK"] * 10_000, {r for r in replies if r != b"OK"}
        agent.assert_accepted(10_000)
        assert agent.counter("SOURCE.r1", "EventReceivedCount") == 10_000


def test_http_post_of_5000_events_into_transaction_capacity_100_is_accepted(
    tmp_path: Path,
) -> None:
    port = free_port()
    events = [{"headers": {"n": str(i)}, "body": f"event {i}"} for i in range(5_000)]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", method="POST",
                                     data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json"})
    with running_agent(source_to_null("a1", "http", port), tmp_path) as agent:
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
        agent.assert_accepted(5_000, batches=1)
