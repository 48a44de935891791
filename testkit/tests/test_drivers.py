"""Drivers step components synchronously and give up at a hard timeout."""

from __future__ import annotations

import logging
import threading

import pytest
from flume_testkit import (
    ChannelDriver,
    DriverTimeout,
    EventFactory,
    LogRecorder,
    RecordingChannel,
    RecordingSink,
    ScriptedSource,
    SinkDriver,
    SourceDriver,
    run_in_thread,
)

from flume_sdk import EventDeliveryException, Status

__all__: list[str] = []


def test_source_driver_runs_until_the_condition_holds() -> None:
    source = ScriptedSource("r1")
    source.feed(EventFactory().batch(25))
    with SourceDriver(source).start() as driver:
        driver.run_until(lambda: len(driver.events) == 25)
        assert driver.counters["EventAcceptedCount"] == 25


def test_source_driver_times_out_with_what_it_saw() -> None:
    with SourceDriver(ScriptedSource("r1")).start() as driver, \
            pytest.raises(DriverTimeout, match="condition still false"):
        driver.run_until(lambda: False, timeout=0.05)


def test_sink_driver_collects_errors_instead_of_raising() -> None:
    sink = RecordingSink("k1")
    sink.script(EventDeliveryException("boom"))
    with SinkDriver(sink).start() as driver:
        driver.feed(EventFactory().batch(2))
        assert driver.process() is None
        driver.run_until_empty()
        assert [type(e) for e in driver.errors] == [EventDeliveryException]
        assert driver.statuses == [Status.READY]


def test_stop_reports_threads_left_behind() -> None:
    driver = ChannelDriver(RecordingChannel("c1")).start()
    release = threading.Event()
    thread = threading.Thread(target=release.wait, args=(5,), name="stray", daemon=True)
    thread.start()
    try:
        assert [t.name for t in driver.stop(thread_timeout=0.05)] == ["stray"]
    finally:
        release.set()


def test_log_recorder_collects_records_while_attached() -> None:
    with LogRecorder("testkit.demo") as recorder:
        logging.getLogger("testkit.demo").info("hello %s", "there")
    logging.getLogger("testkit.demo").info("after")
    assert recorder.messages() == ["hello there"]


def test_run_in_thread_reraises_the_threads_exception() -> None:
    def fail() -> None:
        raise KeyError("from the other thread")

    with pytest.raises(KeyError, match="other thread"):
        run_in_thread(fail)


def test_run_in_thread_times_out_on_a_blocked_call() -> None:
    release = threading.Event()
    try:
        with pytest.raises(DriverTimeout, match="did not return"):
            run_in_thread(lambda: release.wait(5), timeout=0.05)
    finally:
        release.set()
