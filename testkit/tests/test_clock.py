"""FakeClock: virtual time that only moves when told, or when something sleeps."""

from __future__ import annotations

import threading

import pytest
from flume_testkit import FakeClock

from flume_sdk import Clock

__all__: list[str] = []


def test_fake_clock_implements_the_clock_protocol() -> None:
    assert isinstance(FakeClock(), Clock)


def test_advance_moves_monotonic_and_wall_time_together() -> None:
    clock = FakeClock(start=100.0, monotonic_start=5.0)
    clock.advance(2.5)
    assert (clock.time(), clock.monotonic()) == (102.5, 7.5)


def test_advance_refuses_negative_seconds() -> None:
    with pytest.raises(ValueError, match="time cannot go back"):
        FakeClock().advance(-1)


def test_sleep_advances_virtual_time_and_is_recorded() -> None:
    clock = FakeClock()
    before = clock.monotonic()
    clock.sleep(30)
    assert clock.monotonic() - before == 30 and clock.sleeps == [30.0]


def test_wait_on_a_set_event_returns_true_without_advancing() -> None:
    clock, event = FakeClock(), threading.Event()
    event.set()
    before = clock.monotonic()
    assert clock.wait(event, 10) is True and clock.monotonic() == before


def test_wait_on_an_unset_event_advances_by_the_timeout_and_returns_false() -> None:
    clock = FakeClock()
    before = clock.monotonic()
    assert clock.wait(threading.Event(), 4) is False and clock.monotonic() - before == 4
