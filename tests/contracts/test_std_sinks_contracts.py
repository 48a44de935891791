"""file_roll, the interceptor set and the three serializers run their testkit contracts."""

from __future__ import annotations

import importlib.util
import io
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import fastavro
import pytest
from flume_testkit import (
    EventFactory,
    FakeClock,
    InterceptorContract,
    SerializerContract,
    SinkContract,
)

from flume_sdk import Event, EventSerializer, Interceptor, PluginInfo, PluginKind, PluginRegistry, Sink
from flume_sdk.components.file_roll_sink import FileRollSink
from flume_sdk.components.interceptors import (
    MILLIS_SERIALIZER,
    HostInterceptor,
    RegexExtractorInterceptor,
    RegexFilteringInterceptor,
    RemoveHeaderInterceptor,
    SearchAndReplaceInterceptor,
    StaticInterceptor,
    TimestampInterceptor,
    UUIDInterceptor,
)
from flume_sdk.components.serializers import (
    AvroEventSerializer,
    HeaderAndTextSerializer,
    TextSerializer,
)

__all__ = [
    "TestAvroEventSerializerContract",
    "TestFileRollSinkContract",
    "TestHeaderAndTextSerializerContract",
    "TestHostContract",
    "TestRegexExtractorContract",
    "TestRegexFilterContract",
    "TestRemoveHeaderContract",
    "TestSearchReplaceContract",
    "TestStaticContract",
    "TestTextSerializerContract",
    "TestTimestampContract",
    "TestUUIDContract",
]

REGISTRY = PluginRegistry([
    PluginInfo(PluginKind.SERIALIZER, "avro_event",
               "flume_sdk.components.serializers:AvroEventSerializer", "flume-sdk", "test"),
])


def _read_avro(data: bytes) -> list[Event]:
    return [Event(r["body"], dict(r["headers"]))  # type: ignore[index, call-overload]
            for r in fastavro.reader(io.BytesIO(data))]


# -- sink ----------------------------------------------------------------------------------------


class TestFileRollSinkContract(SinkContract):
    """file_roll with avro_event, so the files read back as whole events with headers."""

    @pytest.fixture
    def directory(self, tmp_path: Path) -> Path:
        return tmp_path / "out"

    @pytest.fixture
    def make_sink(self, directory: Path) -> Callable[..., Sink]:
        def make(**overrides: str) -> Sink:
            props = {"sink.directory": str(directory), "sink.serializer": "avro_event",
                     "sink.rollInterval": "0", **overrides}
            return FileRollSink.from_config("k1", props, registry=REGISTRY)
        return make

    @pytest.fixture
    def delivered(self, directory: Path) -> Callable[[Sink], Sequence[Event]]:
        def read(sink: Sink) -> list[Event]:
            if not directory.is_dir():
                return []
            return [e for path in sorted(directory.iterdir()) for e in _read_avro(path.read_bytes())]
        return read

    @pytest.fixture
    def break_destination(self, directory: Path) -> Callable[[Sink], None]:
        def block(sink: Sink) -> None:
            # A regular file where the directory should be: no file can be created,
            # even for root (chmod would not stop root).
            if directory.is_dir():
                directory.rename(directory.with_name("out.moved"))
            directory.write_bytes(b"")
        return block

    @pytest.fixture
    def heal_destination(self, directory: Path) -> Callable[[Sink], None]:
        def unblock(sink: Sink) -> None:
            directory.unlink()
            moved = directory.with_name("out.moved")
            if moved.is_dir():
                shutil.move(str(moved), str(directory))
        return unblock


# -- serializers ---------------------------------------------------------------------------------


def _lines_reader(data: bytes) -> list[Event]:
    return [Event(line) for line in data.split(b"\n")[:-1]]


class TestTextSerializerContract(SerializerContract):
    round_trip_headers: ClassVar[bool] = False

    @pytest.fixture
    def make_serializer(self) -> Callable[..., EventSerializer]:
        return lambda out, **overrides: TextSerializer.create(out, overrides)

    @pytest.fixture
    def read_events(self) -> Callable[[bytes], list[Event]]:
        return _lines_reader

    @pytest.fixture
    def serializer_events(self) -> list[Event]:
        # A line format cannot carry a body that contains the line separator.
        factory = EventFactory("ser")
        events = [*factory.edge_case_list(), *factory.batch(5)]
        return [e for e in events if b"\n" not in e.body]


class TestHeaderAndTextSerializerContract(SerializerContract):
    """No reader: Java's ``{k=v, ...}`` cannot be parsed back unambiguously."""

    @pytest.fixture
    def make_serializer(self) -> Callable[..., EventSerializer]:
        return lambda out, **overrides: HeaderAndTextSerializer.create(out, overrides)


class TestAvroEventSerializerContract(SerializerContract):
    @pytest.fixture(params=["null", "deflate", pytest.param("snappy", marks=pytest.mark.skipif(
        importlib.util.find_spec("cramjam") is None, reason="snappy needs cramjam"))])
    def make_serializer(self, request: pytest.FixtureRequest) -> Callable[..., EventSerializer]:
        codec = request.param
        return lambda out, **overrides: AvroEventSerializer.create(
            out, {"compressionCodec": codec, **overrides})

    @pytest.fixture
    def read_events(self) -> Callable[[bytes], list[Event]]:
        return _read_avro


# -- interceptors --------------------------------------------------------------------------------


def _factory(cls: type[Interceptor], base: dict[str, str],
             clock: FakeClock | None = None) -> Callable[..., Interceptor]:
    def make(**overrides: Any) -> Interceptor:
        kwargs = {"clock": clock} if clock is not None else {}
        return cls.from_config("i1", {**base, **overrides}, **kwargs)
    return make


class TestTimestampContract(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self, fake_clock: FakeClock) -> Callable[..., Interceptor]:
        return _factory(TimestampInterceptor, {}, fake_clock)


class TestHostContract(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self) -> Callable[..., Interceptor]:
        return _factory(HostInterceptor, {"preserveExisting": "true"})


class TestStaticContract(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self) -> Callable[..., Interceptor]:
        return _factory(StaticInterceptor, {"key": "kind", "value": "static"})


_RANDOM_UUID = ("each call draws a new random UUID by design; covered in test_interceptors.py "
                "with the id header set aside")


class TestUUIDContract(InterceptorContract):
    skip_contract: ClassVar[dict[str, str]] = {
        "test_intercept_batch_equals_the_filtered_map_of_intercept": _RANDOM_UUID,
        "test_intercept_batch_equals_the_map_at_real_batch_sizes": _RANDOM_UUID,
    }

    @pytest.fixture
    def make_interceptor(self) -> Callable[..., Interceptor]:
        return _factory(UUIDInterceptor, {"prefix": "p-"})


class TestRemoveHeaderContract(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self) -> Callable[..., Interceptor]:
        return _factory(RemoveHeaderInterceptor, {"fromList": "kind, city", "matching": "h1.*"})

    @pytest.fixture
    def bad_config(self) -> dict[str, str]:
        return {"matching": "[unclosed"}


class TestRegexFilterContract(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self) -> Callable[..., Interceptor]:
        return _factory(RegexFilteringInterceptor, {"regex": "-[0-9]*[13579]$"})

    @pytest.fixture
    def bad_config(self) -> dict[str, str]:
        return {"regex": "(unclosed"}


class TestRegexExtractorContract(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self) -> Callable[..., Interceptor]:
        return _factory(RegexExtractorInterceptor, {
            "regex": r"^(\w+)-(\d+)", "serializers": "p n",
            "serializers.p.name": "prefix", "serializers.n.name": "number",
        })

    @pytest.fixture
    def bad_config(self) -> dict[str, str]:
        return {"serializers.n.type": MILLIS_SERIALIZER}


class TestSearchReplaceContract(InterceptorContract):
    @pytest.fixture
    def make_interceptor(self) -> Callable[..., Interceptor]:
        return _factory(SearchAndReplaceInterceptor,
                        {"searchPattern": r"(\w+)-(\d+)", "replaceString": "$2:$1"})

    @pytest.fixture
    def bad_config(self) -> dict[str, str]:
        return {"replaceString": "$7"}
