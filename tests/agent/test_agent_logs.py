"""A failing component is logged once, in one line; ``--log-level`` and ``--log-format json``.

Real ``flume-ng agent`` processes; the failing sink is an avro sink aimed at a port
nothing listens on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess, free_port


def _failing_sink_conf(tmp_path: Path) -> Path:
    conf = tmp_path / "a1.properties"
    conf.write_text("\n".join([
        "a1.sources = r1", "a1.channels = c1", "a1.sinks = k1",
        "a1.sources.r1.type = seq", "a1.sources.r1.totalEvents = 20", "a1.sources.r1.channels = c1",
        "a1.channels.c1.type = memory",
        "a1.sinks.k1.type = avro", "a1.sinks.k1.channel = c1", "a1.sinks.k1.hostname = 127.0.0.1",
        f"a1.sinks.k1.port = {free_port()}", "a1.sinks.k1.connect-timeout = 1000", ""]))
    return conf


@pytest.fixture
def failing_agent(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FlumeAgentProcess]:
    agent = FlumeAgentProcess("a1", _failing_sink_conf(tmp_path), tmp_path,
                              args=["--drain-timeout", "0", *request.param])
    agent.start_and_wait()
    try:
        yield agent
    finally:
        agent.stop()


def _delivery_failures(agent: FlumeAgentProcess) -> int:
    doc = agent.health()[1]
    return max([c["failures"] for c in doc["conditions"]
                if c["component"] == "SINK.k1" and c["check"] == "delivery"], default=0)


@pytest.mark.parametrize("failing_agent", [["--log-format", "json"]], indirect=True)
def test_failing_sink_is_logged_once_in_one_json_line(failing_agent: FlumeAgentProcess) -> None:
    wait_until(lambda: _delivery_failures(failing_agent) >= 2, timeout=30, what="two failures")
    failing_agent.stop()
    records = [json.loads(line) for line in failing_agent.log_text().splitlines()]
    failures = [r for r in records if r["message"].startswith("sink k1: delivery:")]
    assert len(failures) == 1, failures
    assert failures[0]["level"] == "ERROR" and "refused" in failures[0]["message"].lower()
    assert set(records[0]) >= {"time", "level", "logger", "thread", "message"}
    assert not any("traceback" in r for r in records)


@pytest.mark.parametrize("failing_agent", [["--log-level", "debug"]], indirect=True)
def test_traceback_is_written_at_debug_only(failing_agent: FlumeAgentProcess) -> None:
    wait_until(lambda: _delivery_failures(failing_agent) >= 1, timeout=30, what="a failure")
    wait_until(lambda: "Traceback (most recent call last)" in failing_agent.log_text(),
               timeout=10, what="a traceback at DEBUG")


@pytest.mark.parametrize("failing_agent", [[]], indirect=True)
def test_default_log_has_no_traceback(failing_agent: FlumeAgentProcess) -> None:
    wait_until(lambda: _delivery_failures(failing_agent) >= 2, timeout=30, what="two failures")
    text = failing_agent.log_text()
    assert "Traceback" not in text
    assert text.count("sink k1: delivery:") == 1
