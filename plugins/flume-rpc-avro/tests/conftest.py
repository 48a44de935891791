"""Fixtures: a memory channel behind a real Avro source, a sink aimed at it, TLS files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flume_rpc_avro.sink import AvroSink
from flume_rpc_avro.source import AvroSource
from flume_testkit import memory_channel

from flume_sdk import Channel, ChannelProcessor
from flume_sdk.components.selectors import ReplicatingSelector


@pytest.fixture
def channel() -> Iterator[Channel]:
    ch = memory_channel()
    yield ch
    ch.stop()


@pytest.fixture
def start_source() -> Iterator[Callable[..., AvroSource]]:
    """Start an AvroSource on a free port writing to the given channel."""
    started: list[AvroSource] = []

    def start(channel: Channel, **props: str) -> AvroSource:
        config = {"bind": "127.0.0.1", "port": "0", **props}
        source = AvroSource.from_config("r1", config)
        source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
        source.start()
        started.append(source)
        return source

    yield start
    for source in started:
        source.stop()


@pytest.fixture
def start_sink() -> Iterator[Callable[..., AvroSink]]:
    """Start an AvroSink taking from the given channel and aimed at the given port."""
    started: list[AvroSink] = []

    def start(channel: Channel, port: int, **props: str) -> AvroSink:
        config: dict[str, Any] = {"hostname": "127.0.0.1", "port": str(port), **props}
        sink = AvroSink.from_config("k1", config)
        sink.set_channel(channel)
        sink.start()
        started.append(sink)
        return sink

    yield start
    for sink in started:
        sink.stop()


# the Java peer fixture, until the testkit registers it as a pytest plugin
from flume_testkit.servers.avro_peer import avro_java_peer  # noqa: E402, F401
