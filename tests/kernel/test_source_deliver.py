"""Source.deliver: slices to what the channels take, counts once, true only when all committed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from flume_testkit import ChannelFailure, RecordingChannel, memory_channel, take_all

from flume_sdk import (
    Channel,
    ChannelFullException,
    ChannelProcessor,
    ChannelSelector,
    Counter,
    Event,
    EventDrivenSource,
    Interceptor,
)
from flume_sdk.components.seq_source import SequenceSource


def _source(*channels: Channel, interceptors: Sequence[Interceptor] = ()) -> EventDrivenSource:
    source = EventDrivenSource("r1")
    source.set_channel_processor(ChannelProcessor(ChannelSelector(channels), interceptors))
    return source


def _events(count: int) -> list[Event]:
    return [Event(str(i).encode()) for i in range(count)]


def _counts(source: EventDrivenSource, *names: str) -> tuple[int, ...]:
    return tuple(source.counter.get(name) for name in names)


def test_a_batch_larger_than_transaction_capacity_commits_in_slices() -> None:
    channel = RecordingChannel("c1", RecordingChannel.Settings(transaction_capacity=3))
    source = _source(channel)
    delivered = source.deliver(_events(10))
    assert delivered and delivered.accepted == 10 and delivered.error is None
    assert [e.body for e in channel.committed] == [e.body for e in _events(10)]
    assert channel.commits == 4


def test_the_smallest_transaction_capacity_of_the_channels_sets_the_slice() -> None:
    wide = RecordingChannel("wide", RecordingChannel.Settings(transaction_capacity=100))
    narrow = RecordingChannel("narrow", RecordingChannel.Settings(transaction_capacity=4))
    assert _source(wide, narrow).deliver(_events(10))
    assert (wide.commits, narrow.commits) == (3, 3)
    assert len(wide.committed) == len(narrow.committed) == 10


def test_a_source_batch_size_smaller_than_transaction_capacity_sets_the_slice() -> None:
    channel = RecordingChannel("c1")
    source = SequenceSource.from_config("r1", {"batchSize": "4"})
    source.set_channel_processor(ChannelProcessor(ChannelSelector([channel])))
    assert source.deliver(_events(10))
    assert channel.commits == 3


def test_counters_are_counted_once_per_delivery_after_the_commit() -> None:
    channel = RecordingChannel("c1", RecordingChannel.Settings(transaction_capacity=3))
    source = _source(channel)
    source.deliver(_events(10))
    assert _counts(source, "EventReceivedCount", "EventAcceptedCount", "AppendBatchReceivedCount",
                   "AppendBatchAcceptedCount", "ChannelWriteFail") == (10, 10, 1, 1, 0)


def test_a_single_append_counts_append_counters() -> None:
    source = _source(RecordingChannel("c1"))
    assert source.deliver([Event(b"a")], single=True)
    assert _counts(source, "AppendReceivedCount", "AppendAcceptedCount",
                   "AppendBatchReceivedCount", "EventAcceptedCount") == (1, 1, 0, 1)


def test_a_refusal_part_way_reports_the_committed_prefix_and_counts_only_it() -> None:
    channel = memory_channel(capacity=5, transaction_capacity=3)
    try:
        source = _source(channel)
        delivered = source.deliver(_events(10))
        assert not delivered and delivered.accepted == 3
        assert isinstance(delivered.error, ChannelFullException)
        assert [e.body for e in take_all(channel)] == [b"0", b"1", b"2"]
        assert _counts(source, "EventReceivedCount", "EventAcceptedCount",
                       "AppendBatchAcceptedCount", "ChannelWriteFail") == (10, 3, 0, 1)
    finally:
        channel.stop()


def test_a_refused_first_slice_accepts_nothing() -> None:
    channel = RecordingChannel("c1")
    channel.script_failure(ChannelFailure.FAIL_ON_COMMIT)
    source = _source(channel)
    delivered = source.deliver(_events(3))
    assert not delivered and delivered.accepted == 0
    assert _counts(source, "EventAcceptedCount", "ChannelWriteFail") == (0, 1)


def test_the_retry_of_a_delivery_refused_part_way_may_duplicate_but_loses_nothing() -> None:
    channel = memory_channel(capacity=4, transaction_capacity=2)
    try:
        with channel.transaction() as tx:
            tx.put(Event(b"filler"))
        source = _source(channel)
        events = _events(4)
        assert source.deliver(events).accepted == 2
        first = [e.body for e in take_all(channel)]
        assert source.deliver(events)
        second = [e.body for e in take_all(channel)]
        assert (first, second) == ([b"filler", b"0", b"1"], [b"0", b"1", b"2", b"3"])
    finally:
        channel.stop()


class _Doubler(Interceptor):
    """Emits every event twice: a batch the source sized grows past transactionCapacity."""

    def intercept(self, event: Event) -> Event | None:
        return event

    def intercept_batch(self, events: Sequence[Event]) -> list[Event]:
        return [e for event in events for e in (event, Event(event.body + b"'"))]


def test_an_interceptor_that_grows_a_batch_still_fits_transaction_capacity() -> None:
    channel = RecordingChannel("c1", RecordingChannel.Settings(transaction_capacity=3))
    source = _source(channel, interceptors=[_Doubler("double")])
    assert source.deliver(_events(3))
    assert len(channel.committed) == 6 and channel.commits == 2


def test_transaction_limit_is_the_smallest_channel_transaction_capacity() -> None:
    channels = [RecordingChannel(n, RecordingChannel.Settings(transaction_capacity=c))
                for n, c in (("a", 50), ("b", 7))]
    assert ChannelProcessor(ChannelSelector(channels)).transaction_limit == 7


def test_incr_each_adds_to_several_counters_and_refuses_an_unknown_name() -> None:
    counter = Counter("SOURCE", "r1")
    counter.incr_each(("EventReceivedCount", 5), ("AppendBatchReceivedCount", 1))
    assert (counter.get("EventReceivedCount"), counter.get("AppendBatchReceivedCount")) == (5, 1)
    with pytest.raises(KeyError, match="has no counter 'Nope'"):
        counter.incr_each(("Nope", 1))
