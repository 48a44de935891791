"""A real ``flume-ng agent`` relays to a real ngircd and survives the server's restart."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess, free_port
from flume_testkit.servers.ircd import IrcListener, Ngircd

pytestmark = pytest.mark.timeout(180)

CONF = """\
a1.sources = seq netcat
a1.channels = c1
a1.sinks = k1
a1.sources.seq.type = seq
a1.sources.seq.totalEvents = 300
a1.sources.seq.batchSize = 50
a1.sources.seq.channels = c1
a1.sources.netcat.type = netcat
a1.sources.netcat.bind = 127.0.0.1
a1.sources.netcat.port = {netcat}
a1.sources.netcat.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.sinks.k1.type = org.apache.flume.sink.irc.IRCSink
a1.sinks.k1.channel = c1
a1.sinks.k1.hostname = 127.0.0.1
a1.sinks.k1.port = {irc}
a1.sinks.k1.nick = flumeagt
a1.sinks.k1.chan = flume
"""


def _send_lines(port: int, lines: list[str]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        reader = client.makefile("rb")
        for line in lines:
            client.sendall(line.encode() + b"\n")
            assert reader.readline().strip() == b"OK"


def test_agent_relays_every_event_and_reconnects_after_a_server_restart(
        tmp_path: Path, ngircd: Ngircd) -> None:
    listener = IrcListener(ngircd.port, "#flume").connect()
    netcat = free_port()
    conf = tmp_path / "agent.conf"
    conf.write_text(CONF.format(netcat=netcat, irc=ngircd.port))
    agent = FlumeAgentProcess("a1", conf, tmp_path)
    agent.start_and_wait()
    try:
        got = listener.wait_for(300, timeout=60)
        assert got == [str(n) for n in range(300)]
        ngircd.restart()
        listener.close()
        listener.connect()
        _send_lines(netcat, [f"after-{n}" for n in range(50)])
        got = listener.wait_for(350, timeout=60)
        assert got[300:] == [f"after-{n}" for n in range(50)]
        wait_until(lambda: agent.metrics()["SINK.k1"]["EventDrainSuccessCount"] == "350",
                   timeout=30, what="the sink's drain count")
        assert int(agent.metrics()["SINK.k1"]["ConnectionCreatedCount"]) >= 2
    finally:
        agent.stop()
        listener.close()
