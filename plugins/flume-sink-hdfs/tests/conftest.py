"""Helpers for the HDFS sink tests: a serializer registry, channels and sinks on file://."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flume_sink_hdfs import HdfsEventSink

from flume_sdk import Clock, Event, PluginInfo, PluginKind, PluginRegistry
from flume_sdk.components.memory_channel import MemoryChannel

__all__ = ["MakeSink", "make_channel", "make_local_sink", "serializer_registry"]

_SERIALIZERS = "flume_sdk.components.serializers"
REGISTRY = PluginRegistry([
    PluginInfo(PluginKind.SERIALIZER, name, f"{_SERIALIZERS}:{cls}", "flume-sdk", "test")
    for name, cls in [("text", "TextSerializer"), ("header_and_text", "HeaderAndTextSerializer"),
                      ("avro_event", "AvroEventSerializer")]
])


def _channel_with(events: list[Event]) -> MemoryChannel:
    channel = MemoryChannel.from_config("c1", {"capacity": "100000",
                                               "transactionCapacity": "10000",
                                               "keep-alive": "0"})
    channel.start()
    if events:
        with channel.transaction() as tx:
            tx.put_batch(events)
    return channel


@pytest.fixture
def make_channel() -> Callable[[list[Event]], MemoryChannel]:
    """``events -> started memory channel holding them`` (keep-alive 0)."""
    return _channel_with


MakeSink = Callable[..., HdfsEventSink]


@pytest.fixture
def serializer_registry() -> PluginRegistry:
    """The kernel's serializers by alias (the kernel does not register them yet)."""
    return REGISTRY


@pytest.fixture
def make_local_sink(tmp_path: Path) -> Iterator[MakeSink]:
    """``(clock=None, **props) -> started sink`` writing DataStream text under tmp_path/out."""
    started: list[HdfsEventSink] = []

    def make(clock: Clock | None = None, start: bool = True, **props: str) -> HdfsEventSink:
        base: dict[str, Any] = {
            "hdfs.path": f"file://{tmp_path}/out", "hdfs.fileType": "DataStream",
            "hdfs.rollCount": "0", "hdfs.rollSize": "0", "hdfs.rollInterval": "0",
            "hdfs.stateDir": str(tmp_path / "state"),
        }
        base.update({k.replace("__", "."): v for k, v in props.items()})
        kwargs: dict[str, Any] = {"registry": REGISTRY, "component": "a1.sinks.k1"}
        if clock is not None:
            kwargs["clock"] = clock
        sink = HdfsEventSink.from_config("k1", base, **kwargs)
        if start:
            sink.start()
            started.append(sink)
        return sink

    yield make
    for sink in started:
        sink.stop()
