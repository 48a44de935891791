"""The stress source: Flume's limits, batch size, body size and pacing on the fake clock."""

from __future__ import annotations

import pytest
from flume_testkit import ChannelFailure, FakeClock, RecordingChannel, SourceDriver

from flume_sdk import ConfigurationError, Status
from flume_sdk.components.stress_source import StressSource


def _driver(clock: FakeClock | None = None, **props: str) -> SourceDriver:
    kwargs = {"clock": clock} if clock else {}
    source = StressSource.from_config("r1", props, **kwargs)
    return SourceDriver(source, RecordingChannel("c1", RecordingChannel.Settings(capacity=10**6)))


def test_events_carry_size_bytes_and_come_in_batches() -> None:
    with _driver(size="7", batchSize="5").start() as driver:
        driver.process(times=2)
        channel = driver.channel
        assert isinstance(channel, RecordingChannel)
        assert len(channel.committed) == 10 and {len(e.body) for e in channel.committed} == {7}
        assert channel.commits == 2


def test_max_total_events_stops_the_source_and_shrinks_the_last_batch() -> None:
    with _driver(batchSize="4", maxTotalEvents="10").start() as driver:
        statuses = driver.process(times=5)
        assert len(driver.events) == 10
        assert statuses[3:] == [Status.BACKOFF, Status.BACKOFF]


def test_failed_batches_count_toward_max_total_but_not_max_successful() -> None:
    with _driver(maxTotalEvents="3", maxSuccessfulEvents="2").start() as driver:
        channel = driver.channel
        assert isinstance(channel, RecordingChannel)
        channel.script_failure(ChannelFailure.FAIL_ON_COMMIT, times=1)
        driver.process(times=5)
        source = driver.source
        assert isinstance(source, StressSource)
        assert (source.total_events, source.successful_events) == (3, 2)
        assert source.counter.get("ChannelWriteFail") == 1


def test_max_events_per_second_paces_on_the_clock() -> None:
    clock = FakeClock()
    with _driver(clock, maxEventsPerSecond="10", batchSize="5").start() as driver:
        start = clock.monotonic()
        while len(driver.events) < 50:
            driver.process()
        # 50 events at 10/s: the last batch of 5 is due 4.5 s after the first.
        assert clock.monotonic() - start == pytest.approx(4.5, abs=0.11)


@pytest.mark.parametrize(("key", "value"), [
    ("size", "-1"), ("batchSize", "0"), ("maxTotalEvents", "-2"), ("maxEventsPerSecond", "x"),
])
def test_bad_settings_name_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        StressSource.from_config("r1", {key: value}, component="a1.sources.r1")
