"""Fixtures: a memory channel behind a real thrift source, a sink aimed at a port."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flume_rpc_thrift.sink import ThriftSink
from flume_rpc_thrift.source import ThriftSource
from flume_testkit import memory_channel

from flume_sdk import Channel, ChannelProcessor, Event
from flume_sdk.components.selectors import ReplicatingSelector

StartSource = Callable[..., ThriftSource]
StartSink = Callable[..., ThriftSink]


def fill(channel: Channel, count: int, prefix: str = "e") -> list[Event]:
    """Put ``count`` numbered events into ``channel`` in one transaction; return them."""
    events = [Event(body=f"{prefix}{i}".encode(), headers={"n": str(i)}) for i in range(count)]
    with channel.transaction() as tx:
        tx.put_batch(events)
    return events


@pytest.fixture
def channel() -> Iterator[Channel]:
    ch = memory_channel()
    yield ch
    ch.stop()


@pytest.fixture
def start_source() -> Iterator[StartSource]:
    """Start a ThriftSource on a free port writing to the given channel."""
    started: list[ThriftSource] = []

    def start(channel: Channel, **props: str) -> ThriftSource:
        source = ThriftSource.from_config("r1", {"bind": "127.0.0.1", "port": "0", **props})
        source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
        source.start()
        started.append(source)
        return source

    yield start
    for source in started:
        source.stop()


@pytest.fixture
def start_sink() -> Iterator[StartSink]:
    """Start a ThriftSink taking from the given channel, aimed at the given port."""
    started: list[ThriftSink] = []

    def start(channel: Channel, port: int, **props: str) -> ThriftSink:
        sink = ThriftSink.from_config("k1", {"hostname": "127.0.0.1", "port": str(port),
                                             "connect-timeout": "2000",
                                             "request-timeout": "5000", **props})
        sink.set_channel(channel)
        sink.start()
        started.append(sink)
        return sink

    yield start
    for sink in started:
        sink.stop()
