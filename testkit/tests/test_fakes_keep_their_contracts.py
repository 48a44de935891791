"""The testkit's own fakes, and two small reference components, pass the contract suites."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from flume_testkit import (
    ChannelContract,
    EventFactory,
    InterceptorContract,
    RecordingChannel,
    RecordingInterceptor,
    RecordingSink,
    ScriptedSource,
    SerializerContract,
    SinkContract,
    SourceContract,
    SourceDriver,
)

from flume_sdk import Channel, Event, EventSerializer, Interceptor, Sink, Source

__all__: list[str] = []


class TestRecordingChannelContract(ChannelContract):
    @pytest.fixture
    def make_channel(self) -> Callable[..., Channel]:
        return lambda **overrides: RecordingChannel.from_config("c1", overrides)


class TestRecordingSinkContract(SinkContract):
    @pytest.fixture
    def make_sink(self) -> Callable[..., Sink]:
        return lambda **overrides: RecordingSink.from_config("k1", overrides)

    @pytest.fixture
    def delivered(self) -> Callable[[Sink], list[Event]]:
        return lambda sink: list(sink.delivered)  # type: ignore[attr-defined]

    @pytest.fixture
    def break_destination(self) -> Callable[[Sink], None]:
        return lambda sink: sink.break_destination()  # type: ignore[attr-defined]

    @pytest.fixture
    def heal_destination(self) -> Callable[[Sink], None]:
        return lambda sink: sink.heal_destination()  # type: ignore[attr-defined]

    @pytest.fixture
    def break_destination_after(self) -> Callable[[Sink, int], None]:
        return lambda sink, n: sink.break_destination_after(n)  # type: ignore[attr-defined]


def _drive_scripted(driver: SourceDriver, count: int) -> int:
    source = driver.source
    assert isinstance(source, ScriptedSource)
    before = len(source.acknowledged)
    source.feed(EventFactory().batch(count))
    driver.process(times=count)
    return len(source.acknowledged) - before


class TestScriptedSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self) -> Callable[..., Source]:
        return lambda **overrides: ScriptedSource.from_config("r1", overrides)

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        return _drive_scripted


class TestRecordingInterceptorContract(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self) -> Callable[..., Interceptor]:
        return lambda **overrides: RecordingInterceptor.from_config("i1", overrides)


class DropEmpty(Interceptor):
    """Drops events with an empty body and stamps the rest."""

    def intercept(self, event: Event) -> Event | None:
        if not event.body:
            return None
        event.headers["stamped"] = "yes"
        return event


class TestDropEmptyInterceptorContract(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self) -> Callable[..., Interceptor]:
        return lambda **overrides: DropEmpty.from_config("i1", overrides)


class LengthPrefixed(EventSerializer):
    """Each body as a 4-byte big-endian length and the bytes; no headers."""

    def write(self, event: Event) -> None:
        self.out.write(struct.pack(">I", len(event.body)) + event.body)


def read_length_prefixed(data: bytes) -> list[Event]:
    out, offset = [], 0
    while offset < len(data):
        (size,) = struct.unpack_from(">I", data, offset)
        out.append(Event(data[offset + 4:offset + 4 + size]))
        offset += 4 + size
    return out


class TestLengthPrefixedSerializerContract(SerializerContract):
    round_trip_headers: ClassVar[bool] = False

    @pytest.fixture
    def make_serializer(self) -> Callable[..., EventSerializer]:
        return lambda out, **overrides: LengthPrefixed.create(out, overrides)

    @pytest.fixture
    def read_events(self) -> Iterator[Callable[[bytes], list[Event]]]:
        yield read_length_prefixed


class NoReopen(LengthPrefixed):
    supports_reopen: ClassVar[bool] = False


class TestNoReopenSerializerContract(SerializerContract):
    """Without a reader: the round-trip checks skip and say why."""

    @pytest.fixture
    def make_serializer(self) -> Callable[..., EventSerializer]:
        return lambda out, **overrides: NoReopen.create(out, overrides)
