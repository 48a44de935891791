"""RpcSource: OK only after the commit, FAILED when the channel refuses, Flume's counters."""

from __future__ import annotations

from flume_testkit import ChannelFailure, RecordingChannel

from flume_sdk import ChannelProcessor, Event, RpcSource
from flume_sdk.components.selectors import ReplicatingSelector


class FakeServer:
    def __init__(self) -> None:
        self.port, self.running = 4141, False

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False


class Source(RpcSource):
    def make_server(self) -> FakeServer:
        self.server = FakeServer()
        return self.server


def _source(channel: RecordingChannel) -> Source:
    source = Source("r1")
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    return source


def test_a_call_is_ok_once_committed_and_counted() -> None:
    channel = RecordingChannel("c1")
    channel.start()
    source = _source(channel)
    source.start()
    assert source.port == 4141 and source.server.running
    assert source.deliver_call([Event(b"a"), Event(b"b")], single=False) is True
    assert [e.body for e in channel.committed] == [b"a", b"b"]
    counts = source.counter.values()
    assert (counts["AppendBatchReceivedCount"], counts["AppendBatchAcceptedCount"],
            counts["EventAcceptedCount"]) == (1, 1, 2)
    source.stop()
    assert not source.server.running


def test_a_refused_batch_answers_failed_and_counts_the_write_failure() -> None:
    channel = RecordingChannel("c1")
    channel.start()
    channel.script_failure(ChannelFailure.FULL)
    source = _source(channel)
    assert source.deliver_call([Event(b"a")], single=True) is False
    counts = source.counter.values()
    assert (counts["AppendReceivedCount"], counts["AppendAcceptedCount"],
            counts["ChannelWriteFail"]) == (1, 0, 1)


def test_bad_input_and_connections_are_counted() -> None:
    source = Source("r1")
    source.count_bad_input("127.0.0.1:5", ValueError("garbage"))
    source.count_connections(3)
    assert (source.counter.get("EventReadFail"), source.counter.get("OpenConnectionCount")) == (1, 3)
