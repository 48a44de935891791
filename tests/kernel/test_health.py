"""Health conditions and quiet failure logs, on a fake clock."""

from __future__ import annotations

import logging
from pathlib import Path

from flume_testkit import FakeClock, LogRecorder, wait_until

from flume_sdk import FailureLog, HealthChecks, PollableSource, Status, describe_error
from flume_sdk._agent import Agent


def _messages(recorder: LogRecorder) -> list[str]:
    return [r.getMessage() for r in recorder.records if r.levelno >= logging.INFO]


def test_failure_is_logged_once_then_with_backoff_and_a_count() -> None:
    clock, recorder = FakeClock(), LogRecorder("test.failures", logging.INFO).attach()
    failures = FailureLog(logging.getLogger("test.failures"), "sink k1", clock=clock)
    try:
        for _ in range(5):
            failures.failed(OSError("connection refused"))
            clock.advance(1)
        clock.advance(10)
        failures.failed(OSError("connection refused"))
    finally:
        recorder.detach()
    assert _messages(recorder) == [
        "sink k1: OSError: connection refused",
        "sink k1: still failing after 6 tries, last error: OSError: connection refused",
    ]


def test_repeat_interval_doubles_up_to_the_maximum() -> None:
    clock = FakeClock()
    failures = FailureLog(logging.getLogger("test.failures"), "x", clock=clock,
                          first_repeat=10, max_repeat=40)
    logged_at = []
    for second in range(200):
        if failures.failed("down"):
            logged_at.append(second)
        clock.advance(1)
    assert logged_at[:5] == [0, 10, 30, 70, 110]


def test_traceback_only_at_debug() -> None:
    recorder = LogRecorder("test.tb", logging.DEBUG).attach()
    try:
        try:
            raise ValueError("bad")
        except ValueError as exc:
            FailureLog(logging.getLogger("test.tb"), "x").failed(exc)
    finally:
        recorder.detach()
    errors = [r for r in recorder.records if r.levelno == logging.ERROR]
    debug = [r for r in recorder.records if r.levelno == logging.DEBUG]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert debug and debug[0].exc_info is not None


def test_recovery_is_logged_once() -> None:
    recorder = LogRecorder("test.rec", logging.INFO).attach()
    failures = FailureLog(logging.getLogger("test.rec"), "source r1: accept")
    try:
        failures.failed("EMFILE")
        failures.failed("EMFILE")
        failures.recovered()
        failures.recovered()
    finally:
        recorder.detach()
    assert _messages(recorder)[-1] == "source r1: accept: recovered after 2 failed tries"
    assert len(_messages(recorder)) == 2


def test_describe_error_is_one_line_with_its_cause() -> None:
    try:
        try:
            raise OSError("no\nroute")
        except OSError as inner:
            raise RuntimeError("connect failed") from inner
    except RuntimeError as exc:
        text = describe_error(exc)
    assert text == "RuntimeError: connect failed (caused by OSError: no route)"


def test_health_check_keeps_since_last_error_and_count_until_ok() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    checks = HealthChecks("SOURCE.r1", "source r1", clock=clock)
    checks.failing("accept", OSError(24, "Too many open files"))
    clock.advance(5)
    checks.failing("accept", OSError(24, "Too many open files"), log=False)
    [condition] = checks.conditions()
    assert (condition.subject, condition.check, condition.required) == ("SOURCE.r1", "accept", True)
    assert condition.since == 1_700_000_000.0 and condition.failures == 2
    assert "Too many open files" in condition.last_error
    assert condition.to_json()["since"] == "2023-11-14T22:13:20.000Z"
    checks.ok("accept")
    assert checks.conditions() == []


def test_not_required_condition_is_degraded() -> None:
    checks = HealthChecks("SINK.k2", "sink k2")
    checks.failing("delivery", "refused", required=False, log=False)
    assert checks.conditions()[0].to_json()["severity"] == "degraded"


class _NeverStarts(PollableSource):
    """A source whose start always fails."""

    attempts = 0

    def do_start(self) -> None:
        type(self).attempts += 1
        raise OSError("cannot open /dev/nothing")

    def process(self) -> Status:
        return Status.BACKOFF


def test_a_component_that_keeps_failing_to_start_is_logged_once_and_shown_in_health(
        tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text(f"a1.sources = r1\na1.channels = c1\na1.sinks = k1\n"
                    f"a1.sources.r1.type = {__name__}:_NeverStarts\na1.sources.r1.channels = c1\n"
                    "a1.channels.c1.type = memory\na1.sinks.k1.type = null\n"
                    "a1.sinks.k1.channel = c1\n")
    recorder = LogRecorder("flume_sdk", logging.INFO).attach()
    agent = Agent("a1", [conf], supervise_interval=0.05)
    _NeverStarts.attempts = 0
    try:
        agent.start()
        wait_until(lambda: _NeverStarts.attempts >= 3, timeout=30)
        doc = agent.health()
    finally:
        agent.stop()
        recorder.detach()
    lines = [r for r in recorder.records if "cannot open /dev/nothing" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert lines[0].getMessage() == "source r1: start: OSError: cannot open /dev/nothing"
    assert doc["status"] == "failing" and "SOURCE.r1" in doc["failing"]
