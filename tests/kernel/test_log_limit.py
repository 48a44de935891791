"""Repeated troubles logged once per kind, then counted; accept loops back off and report."""

from __future__ import annotations

import errno
import logging
import threading

from flume_testkit.clock import FakeClock
from flume_testkit.drivers import LogRecorder

from flume_sdk import AcceptBackoff, RateLimitedLog
from flume_sdk.components.netcat_source import NetcatSource


def test_a_repeated_trouble_is_logged_once_then_with_a_count() -> None:
    clock = FakeClock()
    with LogRecorder("test.limit") as records:
        limited = RateLimitedLog(logging.getLogger("test.limit"), "source r1", clock=clock)
        for _ in range(1000):
            limited.failed("refused", "max-connections = 2 are open")
        clock.advance(11)
        limited.failed("refused", "max-connections = 2 are open")
    lines = records.messages()
    assert len(lines) == 2
    assert lines[0] == "source r1: refused: max-connections = 2 are open"
    assert "still failing after 1001 tries" in lines[1]


def test_kinds_of_trouble_are_limited_separately() -> None:
    clock = FakeClock()
    with LogRecorder("test.limit") as records:
        limited = RateLimitedLog(logging.getLogger("test.limit"), "source r1", clock=clock)
        assert limited.failed("refused", "a") and limited.failed("bad input", "b")
        assert not limited.failed("refused", "a")
    assert len(records.messages()) == 2


def test_accept_backoff_waits_longer_each_time_and_fails_the_accept_check_until_it_works() -> None:
    clock, stopping = FakeClock(), threading.Event()
    source = NetcatSource.from_config("r1", {"bind": "127.0.0.1", "port": "0"}, clock=clock)
    backoff = AcceptBackoff(source, logging.getLogger("test.limit"), clock=clock)
    error = OSError(errno.EMFILE, "Too many open files")
    assert backoff.is_transient(error)
    backoff.failed(error, stopping)
    first = clock.total_slept
    backoff.failed(error, stopping)
    assert clock.total_slept - first > first
    [condition] = source.health.conditions()
    assert condition.check == "accept" and "Too many open files" in condition.last_error
    backoff.succeeded()
    assert source.health.conditions() == []
