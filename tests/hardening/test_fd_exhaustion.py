"""Issue 20, items 4 and 5: running out of file descriptors stops no source and floods no log.

A real agent (``flume-ng agent``) runs every network source with a small
``RLIMIT_NOFILE``; clients hold connections until ``accept()`` fails with ``EMFILE``
everywhere, then go away. Every source must serve a new client afterwards, and the
agent's log must stay small (the repeated failure is logged once, then counted).
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
from flume_rpc_avro import AvroRpcClient
from flume_rpc_thrift import ThriftRpcClient
from flume_testkit.servers import free_port, wait_until

from flume_sdk import Event

SOURCES = ("netcat", "syslog", "avro", "thrift", "http")
NOFILE = 200

CONF = """\
a1.sources = netcat syslog avro thrift http
a1.channels = c1
a1.sinks = k1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10000
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sources.netcat.type = netcat
a1.sources.netcat.bind = 127.0.0.1
a1.sources.netcat.port = {netcat}
a1.sources.netcat.max-connections = 1000
a1.sources.netcat.channels = c1
a1.sources.syslog.type = syslogtcp
a1.sources.syslog.host = 127.0.0.1
a1.sources.syslog.port = {syslog}
a1.sources.syslog.channels = c1
a1.sources.avro.type = avro
a1.sources.avro.bind = 127.0.0.1
a1.sources.avro.port = {avro}
a1.sources.avro.channels = c1
a1.sources.thrift.type = thrift
a1.sources.thrift.bind = 127.0.0.1
a1.sources.thrift.port = {thrift}
a1.sources.thrift.channels = c1
a1.sources.http.type = http
a1.sources.http.bind = 127.0.0.1
a1.sources.http.port = {http}
a1.sources.http.channels = c1
"""

_LIMITED = ("import resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, ({n}, {n})); "
            "from flume_sdk.cli import main; sys.exit(main(sys.argv[1:]))")


class Agent:
    """``flume-ng agent`` under a file descriptor limit, with monitoring on 127.0.0.1."""

    def __init__(self, tmp_path: Path, nofile: int) -> None:
        self.ports = {name: free_port() for name in (*SOURCES, "monitoring")}
        conf = tmp_path / "a.conf"
        conf.write_text(CONF.format(**self.ports))
        self.log_path = tmp_path / "agent.log"
        argv = [sys.executable, "-c", _LIMITED.format(n=nofile), "agent", "-n", "a1", "-f",
                str(conf), "--no-reload-conf", "-Dflume.monitoring.type=http",
                f"-Dflume.monitoring.port={self.ports['monitoring']}",
                "-Dflume.monitoring.host=127.0.0.1"]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def get(self, path: str) -> dict[str, object]:
        url = f"http://127.0.0.1:{self.ports['monitoring']}{path}"
        with urllib.request.urlopen(url, timeout=5) as response:
            document: dict[str, object] = json.loads(response.read())
        return document

    def accepted(self, source: str) -> int:
        metrics = self.get("/metrics")
        return int(metrics[f"SOURCE.{source}"]["EventAcceptedCount"])  # type: ignore[index]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    running = Agent(tmp_path, NOFILE)
    try:
        wait_until(lambda: _answers(running), timeout=30)
        yield running
    finally:
        running.stop()


def _answers(agent: Agent) -> bool:
    assert agent.proc.poll() is None, agent.log_path.read_text()[-3000:]
    try:
        return bool(agent.get("/metrics"))
    except OSError:
        return False


def _exhaust(agent: Agent, seconds: float) -> None:
    """Open connections to every source until the agent is out of descriptors; hold; close."""
    held: list[socket.socket] = []
    open_to = set(SOURCES)
    try:
        for _ in range(NOFILE):
            for name in sorted(open_to):
                try:
                    held.append(socket.create_connection(("127.0.0.1", agent.ports[name]),
                                                         timeout=0.5))
                except OSError:  # its listen backlog is full: the agent cannot accept any more
                    open_to.discard(name)
        time.sleep(seconds)  # the accept loops run into EMFILE all this time
    finally:
        for sock in held:
            sock.close()


def _send_one(agent: Agent, source: str, n: int) -> None:
    port = agent.ports[source]
    if source == "netcat":
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(b"good %d\n" % n)
            assert client.recv(100) == b"OK\n"
    elif source == "syslog":
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(b"<13>Dec  7 01:02:03 host app: good %d\n" % n)
    elif source == "avro":
        with AvroRpcClient("127.0.0.1", port, connect_timeout=10, request_timeout=10) as client:
            client.append({"headers": {}, "body": b"good %d" % n})
    elif source == "thrift":
        with ThriftRpcClient("127.0.0.1", port, connect_timeout=10, request_timeout=10) as client:
            client.append(Event(b"good %d" % n))
    else:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/", method="POST",
                                         data=json.dumps([{"body": f"good {n}"}]).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def test_every_source_serves_new_clients_after_running_out_of_descriptors(agent: Agent) -> None:
    _exhaust(agent, 3.0)
    for n, source in enumerate(SOURCES):
        before = agent.accepted(source)
        _send_one(agent, source, n)
        wait_until(lambda source=source, before=before: agent.accepted(source) > before,
                   timeout=15)
    assert agent.proc.poll() is None


def test_running_out_of_descriptors_is_logged_once_then_counted(agent: Agent) -> None:
    _exhaust(agent, 3.0)
    wait_until(lambda: _answers(agent), timeout=15)
    text = agent.log_path.read_text(errors="replace")
    assert len(text) < 20_000, f"{len(text)} bytes of log; the start: {text[:2000]}"
    assert "Too many open files" in text
