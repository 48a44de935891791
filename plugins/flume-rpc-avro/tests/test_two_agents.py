"""Two agents as two processes, in the users' classic shape:

    agent A: spooldir -> memory channel -> avro sink
        => agent B: avro source -> file channel -> file_roll

Agent B is killed with SIGKILL mid-stream and restarted. Nothing is lost; duplicates stay
within one batch per hop (A may resend a batch B committed but could not acknowledge; B's
file_roll may rewrite a batch it wrote but could not commit the take of).
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flume_testkit.servers._process import free_port

__all__: list[str] = []

pytestmark = pytest.mark.timeout(240)
pytest.importorskip("flume_channel_file", reason="agent B needs the durable file channel")

FILES = 10
LINES_PER_FILE = 300
TOTAL = FILES * LINES_PER_FILE
BATCH = 50


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _agent_a(work: Path, spool: Path, b_port: int) -> Path:
    return _write(work / "a.properties", [
        "a.sources = r1", "a.channels = c1", "a.sinks = k1",
        "a.sources.r1.type = spooldir", f"a.sources.r1.spoolDir = {spool}",
        f"a.sources.r1.batchSize = {BATCH}", "a.sources.r1.pollDelay = 100",
        "a.sources.r1.channels = c1",
        "a.channels.c1.type = memory", "a.channels.c1.capacity = 10000",
        "a.channels.c1.transactionCapacity = 100",
        "a.sinks.k1.type = avro", "a.sinks.k1.channel = c1", "a.sinks.k1.hostname = 127.0.0.1",
        f"a.sinks.k1.port = {b_port}", f"a.sinks.k1.batch-size = {BATCH}",
        "a.sinks.k1.request-timeout = 3000", "a.sinks.k1.connect-timeout = 1000",
    ])


def _agent_b(work: Path, b_port: int, out: Path) -> Path:
    return _write(work / "b.properties", [
        "b.sources = r1", "b.channels = c1", "b.sinks = k1",
        "b.sources.r1.type = avro", "b.sources.r1.bind = 127.0.0.1",
        f"b.sources.r1.port = {b_port}", "b.sources.r1.channels = c1",
        "b.channels.c1.type = file", f"b.channels.c1.checkpointDir = {work / 'cp'}",
        f"b.channels.c1.dataDirs = {work / 'data'}", "b.channels.c1.keep-alive = 0.2",
        "b.channels.c1.transactionCapacity = 1000", "b.channels.c1.minimumRequiredSpace = 0",
        "b.sinks.k1.type = file_roll", "b.sinks.k1.channel = c1",
        f"b.sinks.k1.sink.directory = {out}", "b.sinks.k1.sink.rollInterval = 0",
        f"b.sinks.k1.sink.batchSize = {BATCH}",
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


def _spool(spool: Path, staging: Path, index: int) -> None:
    """Drop one complete file into the spool directory (written aside, then renamed in)."""
    lines = [f"line-{index * LINES_PER_FILE + i:05d}" for i in range(LINES_PER_FILE)]
    aside = _write(staging / f"in-{index:02d}.log", lines)
    aside.rename(spool / aside.name)


def _delivered(out: Path) -> list[str]:
    if not out.exists():
        return []
    lines: list[str] = []
    for file in sorted(out.iterdir()):
        lines += [ln for ln in file.read_text().splitlines() if ln.startswith("line-")]
    return lines


def test_collector_killed_mid_stream_loses_nothing(tmp_path: Path) -> None:
    spool, staging, out = tmp_path / "spool", tmp_path / "staging", tmp_path / "out"
    spool.mkdir()
    staging.mkdir()
    b_port = free_port()
    conf_b = _agent_b(tmp_path, b_port, out)
    conf_a = _agent_a(tmp_path, spool, b_port)
    log = tmp_path / "agents.log"
    for index in range(FILES // 2):
        _spool(spool, staging, index)
    agent_b = _start_agent("b", conf_b, log)
    agent_a = _start_agent("a", conf_a, log)
    try:
        _wait(lambda: len(set(_delivered(out))) >= TOTAL // 10, 60, "a tenth of the events at B")
        os.kill(agent_b.pid, signal.SIGKILL)
        agent_b.wait(timeout=10)
        arrived_before_kill = len(set(_delivered(out)))
        for index in range(FILES // 2, FILES):
            _spool(spool, staging, index)
        agent_b = _start_agent("b", conf_b, log)
        _wait(lambda: len(set(_delivered(out))) >= TOTAL, 120, "every event at B's file_roll")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- agent log tail ---\n{log.read_text()[-3000:]}") from None
    finally:
        _stop(agent_a)
        _stop(agent_b)
    assert arrived_before_kill < TOTAL, "B was not killed mid-stream"
    counts = collections.Counter(_delivered(out))
    duplicates = sum(n - 1 for n in counts.values())
    assert set(counts) == {f"line-{i:05d}" for i in range(TOTAL)}
    assert duplicates <= 2 * BATCH, f"{duplicates} duplicates (one batch per hop allowed)"
    assert sorted(p.name for p in spool.iterdir() if p.is_file()) == [
        f"in-{i:02d}.log.COMPLETED" for i in range(FILES)]
