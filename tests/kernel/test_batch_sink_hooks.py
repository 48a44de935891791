"""BatchSink's hooks after the commit: on_commit after success, on_commit_failed after a
delivered batch whose commit failed, neither when delivery itself failed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from flume_testkit import ChannelFailure, RecordingChannel

from flume_sdk import BatchSink, ChannelException, Event, EventDeliveryException, Status


class HookedSink(BatchSink):
    def __init__(self, fail_delivery: bool = False) -> None:
        super().__init__("k1")
        self.fail_delivery = fail_delivery
        self.calls: list[tuple[str, list[bytes]]] = []

    def deliver(self, events: Sequence[Event]) -> None:
        if self.fail_delivery:
            raise OSError("destination down")
        self.calls.append(("deliver", [e.body for e in events]))

    def on_commit(self, events: Sequence[Event]) -> None:
        self.calls.append(("on_commit", [e.body for e in events]))

    def on_commit_failed(self, events: Sequence[Event]) -> None:
        self.calls.append(("on_commit_failed", [e.body for e in events]))


@pytest.fixture
def channel() -> RecordingChannel:
    channel = RecordingChannel("c1")
    channel.start()
    with channel.transaction() as tx:
        tx.put_batch([Event(b"a"), Event(b"b")])
    return channel


def test_on_commit_follows_the_commit(channel: RecordingChannel) -> None:
    sink = HookedSink()
    sink.set_channel(channel)
    assert sink.process() is Status.READY
    assert sink.calls == [("deliver", [b"a", b"b"]), ("on_commit", [b"a", b"b"])]


def test_on_commit_failed_when_the_commit_fails_after_delivery(channel: RecordingChannel) -> None:
    sink = HookedSink()
    sink.set_channel(channel)
    channel.script_failure(ChannelFailure.FAIL_ON_COMMIT, times=1)
    with pytest.raises(ChannelException):
        sink.process()
    assert sink.calls == [("deliver", [b"a", b"b"]), ("on_commit_failed", [b"a", b"b"])]


def test_no_hook_when_delivery_fails(channel: RecordingChannel) -> None:
    sink = HookedSink(fail_delivery=True)
    sink.set_channel(channel)
    with pytest.raises(EventDeliveryException, match="destination down"):
        sink.process()
    assert sink.calls == []
