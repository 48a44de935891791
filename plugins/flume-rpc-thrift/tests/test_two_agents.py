"""Two ``flume-ng agent`` processes in the classic tiered shape, joined by thrift:

    agent A: seq -> memory channel -> thrift sink
        => agent B: thrift source -> (memory | file) channel -> file_roll

With memory channels everywhere every event arrives. Then agent B is killed with
SIGKILL mid-stream and restarted: with B's durable file channel nothing is lost, and
duplicates stay within one batch per hop (A resends a batch B committed but could not
acknowledge; B's file_roll may rewrite a batch whose take it could not commit). A memory
channel in B would lose what B acknowledged but had not yet written, as in Flume.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers._process import free_port

pytestmark = pytest.mark.timeout(240)

BATCH = 50


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _agent_a(work: Path, b_port: int, total: int) -> Path:
    return _write(work / "a.properties", [
        "a.sources = r1", "a.channels = c1", "a.sinks = k1",
        "a.sources.r1.type = seq", f"a.sources.r1.totalEvents = {total}",
        "a.sources.r1.batchSize = 500", "a.sources.r1.channels = c1",
        "a.channels.c1.type = memory", f"a.channels.c1.capacity = {total}",
        "a.channels.c1.transactionCapacity = 500",
        "a.sinks.k1.type = thrift", "a.sinks.k1.channel = c1", "a.sinks.k1.hostname = 127.0.0.1",
        f"a.sinks.k1.port = {b_port}", f"a.sinks.k1.batch-size = {BATCH}",
        "a.sinks.k1.request-timeout = 3000", "a.sinks.k1.connect-timeout = 1000",
    ])


def _agent_b(work: Path, b_port: int, out: Path, durable: bool) -> Path:
    channel = (["b.channels.c1.type = file", f"b.channels.c1.checkpointDir = {work / 'cp'}",
                f"b.channels.c1.dataDirs = {work / 'data'}",
                "b.channels.c1.minimumRequiredSpace = 0"] if durable else
               ["b.channels.c1.type = memory", "b.channels.c1.capacity = 10000"])
    return _write(work / "b.properties", [
        "b.sources = r1", "b.channels = c1", "b.sinks = k1",
        "b.sources.r1.type = org.apache.flume.source.ThriftSource",
        "b.sources.r1.bind = 127.0.0.1", f"b.sources.r1.port = {b_port}",
        "b.sources.r1.channels = c1",
        *channel, "b.channels.c1.keep-alive = 0.2", "b.channels.c1.transactionCapacity = 1000",
        "b.sinks.k1.type = file_roll", "b.sinks.k1.channel = c1",
        f"b.sinks.k1.sink.directory = {out}", "b.sinks.k1.sink.rollInterval = 0",
        "b.sinks.k1.sink.batchSize = 20",
    ])


def _start(name: str, conf: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flume_sdk.cli", "agent", "-n", name, "-f", str(conf),
             "--no-reload-conf"], stdout=out, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _delivered(out: Path) -> list[str]:
    if not out.exists():
        return []
    return [line for file in sorted(out.iterdir()) for line in file.read_text().splitlines()
            if line]


def _wait_for(out: Path, count: int, timeout: float, log: Path) -> None:
    try:
        wait_until(lambda: len(set(_delivered(out))) >= count, timeout=timeout,
                   what=f"{count} distinct events at B's file_roll")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- agent log tail ---\n{log.read_text()[-3000:]}") from None


def test_two_agents_over_thrift_deliver_everything(tmp_path: Path) -> None:
    total, out, log = 5000, tmp_path / "out", tmp_path / "agents.log"
    b_port = free_port()
    agent_b = _start("b", _agent_b(tmp_path, b_port, out, durable=False), log)
    agent_a = _start("a", _agent_a(tmp_path, b_port, total), log)
    try:
        _wait_for(out, total, 60, log)
    finally:
        _stop(agent_a)
        _stop(agent_b)
    assert sorted(map(int, _delivered(out))) == list(range(total))


def test_collector_killed_mid_stream_loses_nothing(tmp_path: Path) -> None:
    pytest.importorskip("flume_channel_file", reason="agent B needs the durable file channel")
    total, out, log = 20_000, tmp_path / "out", tmp_path / "agents.log"
    b_port = free_port()
    conf_b = _agent_b(tmp_path, b_port, out, durable=True)
    agent_b = _start("b", conf_b, log)
    agent_a = _start("a", _agent_a(tmp_path, b_port, total), log)
    try:
        _wait_for(out, total // 20, 60, log)
        os.kill(agent_b.pid, signal.SIGKILL)
        agent_b.wait(timeout=10)
        arrived_before_kill = len(set(_delivered(out)))
        agent_b = _start("b", conf_b, log)
        _wait_for(out, total, 120, log)
    finally:
        _stop(agent_a)
        _stop(agent_b)
    assert arrived_before_kill < total, "B was not killed mid-stream"
    counts = collections.Counter(_delivered(out))
    assert set(counts) == {str(i) for i in range(total)}
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= 2 * BATCH, f"{duplicates} duplicates (one batch per hop allowed)"
