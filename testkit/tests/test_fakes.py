"""The recording fakes record faithfully and fail exactly as scripted."""

from __future__ import annotations

import pytest
from flume_testkit import (
    ONE_MIB,
    ChannelFailure,
    EventFactory,
    FakeClock,
    RecordingChannel,
    RecordingSink,
    ScriptedSource,
    event_ids,
)

from flume_sdk import (
    ChannelException,
    ChannelFullException,
    ChannelProcessor,
    ChannelSelector,
    EventDeliveryException,
    Status,
)

__all__: list[str] = []


def test_event_factory_ids_are_unique() -> None:
    factory = EventFactory()
    ids = event_ids(factory.batch(50) + factory.edge_case_list())
    assert len(set(ids)) == len(ids)


def test_edge_cases_include_a_one_mib_body_and_an_empty_body() -> None:
    sizes = {len(e.body) for e in EventFactory().edge_case_list()}
    assert {0, ONE_MIB} <= sizes


def test_recording_channel_records_commits_and_rollbacks(
    recording_channel: RecordingChannel, event_factory: EventFactory
) -> None:
    with recording_channel.transaction() as tx:
        tx.put_batch(event_factory.batch(2))
    with pytest.raises(KeyError), recording_channel.transaction() as tx:
        tx.take_batch(1)
        raise KeyError("an error inside the block rolls the take back")
    assert (recording_channel.commits, recording_channel.rollbacks) == (1, 1)
    assert len(recording_channel.committed) == 2 and recording_channel.size == 2


def test_full_channel_refuses_the_commit(recording_channel: RecordingChannel) -> None:
    recording_channel.script_failure(ChannelFailure.FULL)
    with pytest.raises(ChannelFullException), recording_channel.transaction() as tx:
        tx.put_batch(EventFactory().batch(1))
    assert recording_channel.committed == []


def test_fail_on_put_raises_at_the_put(recording_channel: RecordingChannel) -> None:
    recording_channel.script_failure(ChannelFailure.FAIL_ON_PUT, times=1)
    with pytest.raises(ChannelException, match="on put"), recording_channel.transaction() as tx:
        tx.put_batch(EventFactory().batch(1))


def test_scripted_failure_stops_after_its_times(recording_channel: RecordingChannel) -> None:
    recording_channel.script_failure(ChannelFailure.FAIL_ON_COMMIT, times=1)
    with pytest.raises(ChannelException), recording_channel.transaction() as tx:
        tx.put_batch(EventFactory("a").batch(1))
    with recording_channel.transaction() as tx:
        tx.put_batch(EventFactory("b").batch(1))
    assert event_ids(recording_channel.committed) == ["b-0"]


def test_slow_commit_sleeps_on_the_channels_clock() -> None:
    clock = FakeClock()
    channel = RecordingChannel("c1", clock=clock)
    channel.slow_delay = 2.0
    channel.script_failure(ChannelFailure.SLOW, times=1)
    with channel.transaction() as tx:
        tx.put_batch(EventFactory().batch(1))
    assert clock.sleeps == [2.0]


def test_open_transactions_are_visible_until_completed(recording_channel: RecordingChannel) -> None:
    tx = recording_channel.get_transaction()
    tx.begin()
    assert recording_channel.open_transactions == [tx]
    tx.commit()
    assert recording_channel.open_transactions == [] and recording_channel.unclosed_transactions
    tx.close()
    assert recording_channel.unclosed_transactions == []


def test_recording_sink_follows_its_script(
    recording_sink: RecordingSink, recording_channel: RecordingChannel
) -> None:
    recording_channel.preload(EventFactory().batch(3))
    recording_sink.script(Status.BACKOFF, EventDeliveryException("scripted"))
    assert recording_sink.process() is Status.BACKOFF
    with pytest.raises(EventDeliveryException, match="scripted"):
        recording_sink.process()
    assert recording_sink.process() is Status.READY and len(recording_sink.delivered) == 3


def test_scripted_source_retries_a_refused_batch_and_acks_after_commit() -> None:
    channel = RecordingChannel("c1")
    source = ScriptedSource("r1")
    source.set_channel_processor(ChannelProcessor(ChannelSelector([channel])))
    source.feed(EventFactory().batch(3))
    channel.script_failure(ChannelFailure.FULL, times=1)
    assert source.process() is Status.BACKOFF and source.acknowledged == []
    assert source.process() is Status.READY
    assert event_ids(source.acknowledged) == event_ids(channel.committed)
