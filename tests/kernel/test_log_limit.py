"""Rate-limited logging: one line, then a count of repeats at growing intervals."""

from __future__ import annotations

import errno
import logging
import threading

from flume_testkit.clock import FakeClock
from flume_testkit.drivers import LogRecorder

from flume_sdk import AcceptBackoff, RateLimitedLog


def test_a_repeated_message_is_logged_once_then_with_the_count_of_repeats() -> None:
    clock = FakeClock()
    with LogRecorder("test.limit") as records:
        limited = RateLimitedLog(logging.getLogger("test.limit"), clock=clock)
        for _ in range(1000):
            limited.warning("emfile", "cannot accept: %s", "EMFILE")
        clock.advance(1.5)
        limited.warning("emfile", "cannot accept: %s", "EMFILE")
    lines = records.messages()
    assert len(lines) == 2
    assert lines[0] == "cannot accept: EMFILE"
    assert "999 more like this" in lines[1]


def test_the_quiet_interval_doubles_while_the_problem_repeats() -> None:
    clock = FakeClock()
    with LogRecorder("test.limit") as records:
        limited = RateLimitedLog(logging.getLogger("test.limit"), clock=clock, max_interval=8)
        for _ in range(600):  # one attempt every 0.1 s for a minute
            limited.warning("k", "again")
            clock.advance(0.1)
    # 1 + 2 + 4 + 8 + 8 + ... seconds: a handful of lines, not 600
    assert 5 <= len(records.messages()) <= 10


def test_different_keys_are_limited_separately() -> None:
    clock = FakeClock()
    with LogRecorder("test.limit") as records:
        limited = RateLimitedLog(logging.getLogger("test.limit"), clock=clock)
        assert limited.warning("a", "a") and limited.warning("b", "b")
        assert not limited.warning("a", "a")
    assert records.messages() == ["a", "b"]


class _Component:
    name = "r1"

    def __init__(self) -> None:
        self.degraded: dict[str, str] = {}


def test_accept_backoff_waits_longer_each_time_and_shows_the_condition_until_it_clears() -> None:
    clock, component, stopping = FakeClock(), _Component(), threading.Event()
    backoff = AcceptBackoff(component, logging.getLogger("test.limit"), clock=clock)
    error = OSError(errno.EMFILE, "Too many open files")
    assert backoff.is_transient(error)
    backoff.failed(error, stopping)
    first = clock.total_slept
    backoff.failed(error, stopping)
    assert clock.total_slept - first > first
    assert "Too many open files" in component.degraded["accept"]
    backoff.succeeded()
    assert component.degraded == {}
