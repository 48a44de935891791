"""Two agents as two processes: A (seq -> memory -> avro sink) => B (avro source -> file
channel -> avro sink) => a collector in the test. B is killed with SIGKILL mid-stream and
restarted: nothing is lost, and duplicates stay within one batch per hop.

Spooldir and file_roll did not exist when this was written, so agent A generates events
with ``seq`` and the collector at the end is an Avro server run by the test.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flume_rpc_avro import AvroRpcServer, AvroStatus, ServerOptions
from flume_testkit.servers._process import free_port

pytestmark = pytest.mark.timeout(240)
pytest.importorskip("flume_channel_file", reason="agent B needs the durable file channel")

TOTAL = 2000
BATCH = 50


class _Collector:
    """The last hop: an Avro server that records every body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        self.server = AvroRpcServer(ServerOptions(host="127.0.0.1", port=0), self._handle)

    def _handle(self, message: str, events: list[dict[str, Any]]) -> AvroStatus:
        with self._lock:
            self.bodies.extend(e["body"] for e in events)
        return AvroStatus.OK

    def distinct(self) -> int:
        with self._lock:
            return len(set(self.bodies))


@pytest.fixture
def collector() -> Iterator[_Collector]:
    c = _Collector()
    c.server.start()
    yield c
    c.server.stop()


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _agent_a(conf_dir: Path, b_port: int) -> Path:
    return _write(conf_dir / "a.properties", [
        "a.sources = r1", "a.channels = c1", "a.sinks = k1",
        "a.sources.r1.type = seq", f"a.sources.r1.batchSize = {BATCH}",
        f"a.sources.r1.totalEvents = {TOTAL}", "a.sources.r1.channels = c1",
        "a.channels.c1.type = memory", "a.channels.c1.capacity = 10000",
        "a.channels.c1.transactionCapacity = 100",
        "a.sinks.k1.type = avro", "a.sinks.k1.channel = c1", "a.sinks.k1.hostname = 127.0.0.1",
        f"a.sinks.k1.port = {b_port}", f"a.sinks.k1.batch-size = {BATCH}",
        "a.sinks.k1.request-timeout = 3000", "a.sinks.k1.connect-timeout = 1000",
    ])


def _agent_b(conf_dir: Path, b_port: int, collector_port: int) -> Path:
    return _write(conf_dir / "b.properties", [
        "b.sources = r1", "b.channels = c1", "b.sinks = k1",
        "b.sources.r1.type = avro", "b.sources.r1.bind = 127.0.0.1",
        f"b.sources.r1.port = {b_port}", "b.sources.r1.channels = c1",
        "b.channels.c1.type = file", f"b.channels.c1.checkpointDir = {conf_dir / 'cp'}",
        f"b.channels.c1.dataDirs = {conf_dir / 'data'}", "b.channels.c1.keep-alive = 0.2",
        "b.channels.c1.transactionCapacity = 1000",
        "b.sinks.k1.type = avro", "b.sinks.k1.channel = c1", "b.sinks.k1.hostname = 127.0.0.1",
        f"b.sinks.k1.port = {collector_port}", f"b.sinks.k1.batch-size = {BATCH}",
    ])


def _start_agent(name: str, conf: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flume_sdk.cli", "agent", "-n", name, "-f", str(conf),
             "--no-reload-conf"], stdout=out, stderr=subprocess.STDOUT)


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_collector_tier_crash_loses_nothing(collector: _Collector, tmp_path: Path) -> None:
    b_port = free_port()
    conf_b = _agent_b(tmp_path, b_port, collector.server.port)
    conf_a = _agent_a(tmp_path, b_port)
    log = tmp_path / "agents.log"
    agent_b = _start_agent("b", conf_b, log)
    agent_a = _start_agent("a", conf_a, log)
    try:
        _wait(lambda: collector.distinct() >= TOTAL // 4, 60, "a quarter of the events")
        os.kill(agent_b.pid, signal.SIGKILL)
        agent_b.wait(timeout=10)
        agent_b = _start_agent("b", conf_b, log)
        _wait(lambda: collector.distinct() >= TOTAL, 120, "every event at the collector")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- agent log tail ---\n{log.read_text()[-3000:]}") from None
    finally:
        _stop(agent_a)
        _stop(agent_b)
    counts = collections.Counter(collector.bodies)
    duplicates = sum(n - 1 for n in counts.values())
    assert set(counts) == {str(i).encode() for i in range(TOTAL)}
    assert duplicates <= 2 * BATCH, f"{duplicates} duplicates (one batch per hop allowed)"
