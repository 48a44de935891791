"""``/health`` tells the truth, checked against real ``flume-ng agent`` processes.

Dead destinations are ports nothing listens on (taken from the OS, then released).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess, free_port

AVRO_SINK = """\
a1.sinks.{name}.type = avro
a1.sinks.{name}.channel = c1
a1.sinks.{name}.hostname = 127.0.0.1
a1.sinks.{name}.port = {port}
a1.sinks.{name}.connect-timeout = 1000
"""


def _pipeline(total: int, sinks: str, *extra: str, capacity: int = 1000) -> list[str]:
    return [
        "a1.sources = r1", "a1.channels = c1", f"a1.sinks = {sinks}",
        "a1.sources.r1.type = seq", f"a1.sources.r1.totalEvents = {total}",
        "a1.sources.r1.channels = c1",
        "a1.channels.c1.type = memory", f"a1.channels.c1.capacity = {capacity}",
        *extra,
    ]


def _avro(name: str) -> list[str]:
    return AVRO_SINK.format(name=name, port=free_port()).splitlines()


@pytest.fixture
def agents() -> Iterator[list[FlumeAgentProcess]]:
    started: list[FlumeAgentProcess] = []
    yield started
    for agent in started:
        agent.stop()


def _run(agents: list[FlumeAgentProcess], tmp_path: Path, lines: list[str],
         *defines: str) -> FlumeAgentProcess:
    conf = tmp_path / "a1.properties"
    conf.write_text("\n".join(lines) + "\n")
    agent = FlumeAgentProcess("a1", conf, tmp_path, defines=defines, args=["--drain-timeout", "0"])
    agents.append(agent)
    agent.start_and_wait()
    return agent


def _condition(doc: dict[str, Any], component: str, check: str) -> dict[str, Any] | None:
    return next((c for c in doc["conditions"]
                 if c["component"] == component and c["check"] == check), None)


def _wait_health(agent: FlumeAgentProcess, status: int, ok: Any, what: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def check() -> bool:
        code, doc = agent.health()
        seen.clear()
        seen.update(doc, code=code)
        return code == status and bool(ok(doc))

    try:
        wait_until(check, timeout=60, what=what)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; last /health: {seen}\n{agent.log_tail()}") from None
    return seen


def test_failover_group_with_both_sinks_down_and_events_stuck_is_503(
        agents: list[FlumeAgentProcess], tmp_path: Path) -> None:
    lines = _pipeline(200, "k1 k2", *_avro("k1"), *_avro("k2"), "a1.sinkgroups = g1",
                      "a1.sinkgroups.g1.sinks = k1 k2", "a1.sinkgroups.g1.processor.type = failover",
                      capacity=250)
    agent = _run(agents, tmp_path, lines, "flume.health.channel.fillThreshold=50",
                 "flume.health.sink.stallTimeout=2")
    doc = _wait_health(agent, 503, lambda d: {"SINKGROUP.g1", "CHANNEL.c1"} <= set(d["failing"])
                       and _condition(d, "SINKGROUP.g1", "stalled"), "group failing")
    assert doc["status"] == "failing"
    no_live = _condition(doc, "SINKGROUP.g1", "no-live-sink")
    assert no_live is not None and "refused" in no_live["lastError"].lower()
    assert no_live["since"].endswith("Z") and no_live["sinceMillis"] > 0
    assert "holds 200 of 250 events" in _condition(doc, "CHANNEL.c1", "fill")["lastError"]
    stalled = _condition(doc, "SINKGROUP.g1", "stalled")
    assert "channel c1 holds 200 event(s)" in stalled["lastError"]
    assert {"SINK.k1", "SINK.k2"} <= set(doc["degraded"])


def test_failed_standby_is_degraded_but_200(agents: list[FlumeAgentProcess], tmp_path: Path) -> None:
    lines = _pipeline(50, "k1 k2", *_avro("k1"), "a1.sinks.k2.type = null",
                      "a1.sinks.k2.channel = c1", "a1.sinkgroups = g1",
                      "a1.sinkgroups.g1.sinks = k1 k2", "a1.sinkgroups.g1.processor.type = failover",
                      "a1.sinkgroups.g1.processor.priority.k1 = 10",
                      "a1.sinkgroups.g1.processor.priority.k2 = 5")
    agent = _run(agents, tmp_path, lines)
    doc = _wait_health(agent, 200, lambda d: "SINK.k1" in d["degraded"], "k1 degraded")
    assert doc["status"] == "degraded" and doc["failing"] == {}
    wait_until(lambda: agent.metrics()["SINK.k2"]["EventDrainSuccessCount"] == "50", timeout=30)


def test_sink_whose_last_processes_failed_is_503_with_since_and_last_error(
        agents: list[FlumeAgentProcess], tmp_path: Path) -> None:
    lines = _pipeline(20, "k1", *_avro("k1"))
    agent = _run(agents, tmp_path, lines, "flume.health.sink.maxFailures=2")
    doc = _wait_health(agent, 503, lambda d: _condition(d, "SINK.k1", "delivery") and
                       _condition(d, "SINK.k1", "delivery")["severity"] == "failing",
                       "sink k1 failing")
    delivery = _condition(doc, "SINK.k1", "delivery")
    assert delivery["failures"] >= 2
    assert "refused" in delivery["lastError"].lower()


def test_source_that_cannot_read_is_503_and_recovers(agents: list[FlumeAgentProcess],
                                                       tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    lines = ["a1.sources = r1", "a1.channels = c1", "a1.sinks = k1",
             "a1.sources.r1.type = spooldir", f"a1.sources.r1.spoolDir = {spool}",
             f"a1.sources.r1.trackerDir = {tmp_path / 'tracker'}",
             "a1.sources.r1.channels = c1", "a1.channels.c1.type = memory",
             "a1.sinks.k1.type = null", "a1.sinks.k1.channel = c1"]
    agent = _run(agents, tmp_path, lines)
    _wait_health(agent, 200, lambda d: d["status"] == "ok", "healthy")
    spool.rmdir()
    doc = _wait_health(agent, 503, lambda d: _condition(d, "SOURCE.r1", "read"), "source failing")
    assert str(spool) in _condition(doc, "SOURCE.r1", "read")["lastError"]
    spool.mkdir()
    _wait_health(agent, 200, lambda d: d["status"] == "ok", "recovered")
    assert "source r1: read: recovered after" in agent.log_text()


def test_rejected_reload_is_visible_but_200(agents: list[FlumeAgentProcess], tmp_path: Path) -> None:
    lines = _pipeline(10, "k1", "a1.sinks.k1.type = null", "a1.sinks.k1.channel = c1")
    agent = _run(agents, tmp_path, lines)
    _wait_health(agent, 200, lambda d: d["status"] == "ok", "healthy")
    conf = tmp_path / "a1.properties"
    conf.write_text(conf.read_text().replace("type = null", "type = nul"))
    assert agent.pid is not None
    os.kill(agent.pid, signal.SIGHUP)
    doc = _wait_health(agent, 200, lambda d: d["lastReloadError"], "reload rejected")
    assert doc["status"] == "degraded"
    assert "did you mean 'null'" in _condition(doc, "AGENT.a1", "reload")["lastError"]
