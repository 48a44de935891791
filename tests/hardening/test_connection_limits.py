"""Issue 20, items 10 and 11: idle and slow-drip clients are closed, connections are capped.

One agent runs every network source with small limits; each test plays a hostile
client against it: one that connects and says nothing, one that drips bytes and never
completes a message or frame, and one too many. The counters show open and refused
connections.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_testkit import closed_by_peer
from flume_testkit.servers import free_port, wait_until

from flume_sdk._agent import Agent

CONF = """\
a1.sources = netcat syslog avro thrift
a1.channels = c1
a1.sinks = k1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10000
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sources.netcat.type = netcat
a1.sources.netcat.bind = 127.0.0.1
a1.sources.netcat.port = 0
a1.sources.netcat.max-connections = 2
a1.sources.netcat.idle-timeout = 0.5
a1.sources.netcat.channels = c1
a1.sources.syslog.type = syslogtcp
a1.sources.syslog.host = 127.0.0.1
a1.sources.syslog.port = 0
a1.sources.syslog.maxConnections = 2
a1.sources.syslog.idleTimeout = 0.5
a1.sources.syslog.channels = c1
a1.sources.avro.type = avro
a1.sources.avro.bind = 127.0.0.1
a1.sources.avro.port = 0
a1.sources.avro.max-connections = 2
a1.sources.avro.idle-timeout = 0.5
a1.sources.avro.frame-timeout = 0.5
a1.sources.avro.channels = c1
a1.sources.thrift.type = thrift
a1.sources.thrift.bind = 127.0.0.1
a1.sources.thrift.port = 0
a1.sources.thrift.max-connections = 2
a1.sources.thrift.idle-timeout = 0.5
a1.sources.thrift.frame-timeout = 0.5
a1.sources.thrift.channels = c1
"""

SOURCES = ("netcat", "syslog", "avro", "thrift")
# The start of a message or frame that never ends: a line without its newline, a frame
# header announcing one buffer of 1,000 bytes (avro), a frame length of 1,000 (thrift).
PARTIAL = {"netcat": b"no newline ever", "syslog": b"<13>Dec  7 01:02:03 host app: drip",
           "avro": bytes.fromhex("00000001" "00000001" "000003e8"),
           "thrift": bytes.fromhex("000003e8")}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    conf = tmp_path_factory.mktemp("limits") / "a.conf"
    conf.write_text(CONF)
    running = Agent("a1", [conf])
    running.start()
    yield running
    running.stop()


def _port(agent: Agent, name: str) -> int:
    assert agent.pipeline is not None
    source = agent.pipeline.sources[name]
    return int(source.ports[0] if name == "syslog" else source.port)  # type: ignore[attr-defined]


def _counter(agent: Agent, name: str, counter: str) -> int:
    assert agent.pipeline is not None
    return int(agent.pipeline.sources[name].counter.get(counter))


@pytest.mark.parametrize("name", SOURCES)
def test_a_silent_client_is_disconnected_after_the_idle_timeout(agent: Agent, name: str) -> None:
    with socket.create_connection(("127.0.0.1", _port(agent, name)), timeout=5) as silent:
        assert closed_by_peer(silent, timeout=10)


@pytest.mark.parametrize("name", SOURCES)
def test_a_client_dripping_a_message_it_never_completes_is_disconnected(
        agent: Agent, name: str) -> None:
    with socket.create_connection(("127.0.0.1", _port(agent, name)), timeout=5) as slow:
        slow.sendall(PARTIAL[name])
        slow.settimeout(0.1)
        deadline = time.monotonic() + 15
        closed = False
        while not closed and time.monotonic() < deadline:
            try:
                slow.send(b"x")  # one more byte every 0.1 s: never a whole message
                closed = slow.recv(100) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
    assert closed, f"{name} kept a slow-drip client for 15 s"


@pytest.mark.parametrize("name", SOURCES)
def test_a_client_beyond_the_connection_cap_is_refused_and_counted(
        agent: Agent, name: str) -> None:
    port = _port(agent, name)
    refused = _counter(agent, name, "RefusedConnectionCount")
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    try:
        wait_until(lambda: _counter(agent, name, "OpenConnectionCount") == 2)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as third:
            assert closed_by_peer(third, timeout=5)
        wait_until(lambda: _counter(agent, name, "RefusedConnectionCount") == refused + 1)
    finally:
        for sock in held:
            sock.close()
    wait_until(lambda: _counter(agent, name, "OpenConnectionCount") == 0, timeout=10)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_idle_syslog_connections_cost_little_memory(tmp_path: Path) -> None:
    ports = {"syslog": free_port(), "monitoring": free_port()}
    conf = tmp_path / "s.conf"
    conf.write_text(f"""\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = syslogtcp
a1.sources.r1.host = 127.0.0.1
a1.sources.r1.port = {ports['syslog']}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
""")
    proc = subprocess.Popen([sys.executable, "-m", "flume_sdk.cli", "agent", "-n", "a1", "-f",
                             str(conf), "--no-reload-conf", "-Dflume.monitoring.type=http",
                             f"-Dflume.monitoring.port={ports['monitoring']}",
                             "-Dflume.monitoring.host=127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{ports['monitoring']}/metrics"

    def open_connections() -> int:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(json.loads(response.read())["SOURCE.r1"]["OpenConnectionCount"])

    held: list[socket.socket] = []
    try:
        wait_until(lambda: open_connections() == 0, timeout=30)
        before = _rss_kib(proc.pid)
        for _ in range(400):
            sock = socket.create_connection(("127.0.0.1", ports["syslog"]), timeout=5)
            sock.sendall(b"<13>Dec  7 01:02:03 host app: hello\n")
            held.append(sock)
        wait_until(lambda: open_connections() == 400, timeout=30)
        grown = _rss_kib(proc.pid) - before
    finally:
        for sock in held:
            sock.close()
        proc.terminate()
        proc.wait(30)
    # 400 connections with a 256 KiB read buffer each would add 100 MiB
    assert grown < 40 * 1024, f"400 idle connections grew RSS by {grown} KiB"
