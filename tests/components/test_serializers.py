"""text, header_and_text and avro_event serializers: bytes written, keys, Avro readability."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys

import fastavro
import pytest
from fastavro import block_reader

from flume_sdk import ConfigurationError, Event, EventSerializer, PluginKind, PluginRegistry
from flume_sdk.components.serializers import (
    FLUME_EVENT_SCHEMA,
    AvroEventSerializer,
    HeaderAndTextSerializer,
    TextSerializer,
    java_map_string,
)


def _write(cls: type[EventSerializer], events: list[Event], props: dict[str, str] | None = None,
           *, batch: bool = False) -> bytes:
    out = io.BytesIO()
    serializer = cls.create(out, props or {})
    serializer.after_create()
    if batch:
        serializer.write_batch(events)
    else:
        for event in events:
            serializer.write(event)
    serializer.flush()
    serializer.before_close()
    return out.getvalue()


EVENTS = [Event(b"first", {"a": "1"}), Event(b"", {}), Event(b"third \xff", {"k": "v", "x": "y"})]


def test_text_writes_each_body_followed_by_a_newline() -> None:
    assert _write(TextSerializer, EVENTS) == b"first\n\nthird \xff\n"


def test_text_without_append_newline_writes_bodies_only() -> None:
    assert _write(TextSerializer, EVENTS, {"appendNewline": "false"}) == b"firstthird \xff"


@pytest.mark.parametrize("props", [{}, {"appendNewline": "false"}])
def test_text_write_batch_equals_writing_each_event(props: dict[str, str]) -> None:
    batched = _write(TextSerializer, EVENTS, props, batch=True)
    assert batched == _write(TextSerializer, EVENTS, props)


def test_text_supports_reopen() -> None:
    assert TextSerializer.supports_reopen


def test_header_and_text_writes_java_map_then_space_then_body() -> None:
    out = _write(HeaderAndTextSerializer, [Event(b"body", {"k": "v", "k2": "v2"})])
    assert out == b"{k=v, k2=v2} body\n"


def test_header_and_text_writes_empty_braces_without_headers() -> None:
    assert _write(HeaderAndTextSerializer, [Event(b"b", {})]) == b"{} b\n"


def test_header_and_text_write_batch_equals_writing_each_event() -> None:
    one_by_one = _write(HeaderAndTextSerializer, EVENTS, {"appendNewline": "false"})
    batched = _write(HeaderAndTextSerializer, EVENTS, {"appendNewline": "false"}, batch=True)
    assert batched == one_by_one


def test_java_map_string_matches_java_abstract_map_to_string() -> None:
    assert java_map_string({"a": "1", "b": "x=y"}) == "{a=1, b=x=y}"


def test_unknown_serializer_key_is_a_configuration_error_naming_the_key() -> None:
    with pytest.raises(ConfigurationError, match=r"appendNewLine.*did you mean 'appendNewline'"):
        TextSerializer.create(io.BytesIO(), {"appendNewLine": "false"}, component="k1.serializer")


def test_non_boolean_append_newline_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="appendNewline: must be true or false"):
        TextSerializer.create(io.BytesIO(), {"appendNewline": "yes"})


def _read_avro(data: bytes) -> tuple[list[dict[str, object]], dict[str, object]]:
    reader = fastavro.reader(io.BytesIO(data))
    records = list(reader)
    return records, {"schema": reader.writer_schema, "codec": reader.codec}


def test_avro_event_records_are_readable_by_fastavro_with_headers_and_body() -> None:
    records, _ = _read_avro(_write(AvroEventSerializer, EVENTS))
    assert records == [{"headers": e.headers, "body": e.body} for e in EVENTS]


def test_avro_event_writer_schema_is_flumes_event_record() -> None:
    _, meta = _read_avro(_write(AvroEventSerializer, EVENTS))
    schema = meta["schema"]
    assert isinstance(schema, dict)
    assert schema["name"] == FLUME_EVENT_SCHEMA["name"] == "Event"
    assert schema["fields"] == [
        {"name": "headers", "type": {"type": "map", "values": "string"}},
        {"name": "body", "type": "bytes"},
    ]


_NO_CRAMJAM = importlib.util.find_spec("cramjam") is None
SNAPPY = pytest.param("snappy", marks=pytest.mark.skipif(
    _NO_CRAMJAM, reason="snappy needs cramjam: pip install cramjam"))


@pytest.mark.parametrize("codec", ["null", "deflate", SNAPPY, "bzip2", "xz"])
def test_avro_event_compression_codec_round_trips(codec: str) -> None:
    data = _write(AvroEventSerializer, EVENTS, {"compressionCodec": codec})
    records, meta = _read_avro(data)
    assert meta["codec"] == codec
    assert [r["body"] for r in records] == [e.body for e in EVENTS]


def test_avro_event_sync_interval_bytes_splits_records_into_blocks() -> None:
    events = [Event(b"x" * 100) for _ in range(50)]
    data = _write(AvroEventSerializer, events, {"syncIntervalBytes": "1000"}, batch=True)
    blocks = list(block_reader(io.BytesIO(data)))
    assert len(blocks) >= 5
    assert sum(b.num_records for b in blocks) == 50


def test_avro_event_flush_ends_a_block_so_the_file_is_valid_after_it() -> None:
    out = io.BytesIO()
    serializer = AvroEventSerializer.create(out, {})
    serializer.after_create()
    serializer.write(Event(b"a"))
    serializer.flush()
    cut = out.getvalue()
    serializer.write(Event(b"b"))  # buffered, never flushed: as if the process died here
    assert [r["body"] for r in fastavro.reader(io.BytesIO(cut))] == [b"a"]


def test_avro_event_does_not_support_reopen() -> None:
    serializer = AvroEventSerializer.create(io.BytesIO(), {})
    assert not serializer.supports_reopen
    with pytest.raises(RuntimeError, match="cannot append"):
        serializer.after_reopen()


def test_avro_event_unknown_codec_is_a_configuration_error_naming_the_key() -> None:
    with pytest.raises(ConfigurationError, match="compressionCodec: must be one of"):
        AvroEventSerializer.create(io.BytesIO(), {"compressionCodec": "lzma2"})


def test_avro_event_sync_interval_below_one_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="syncIntervalBytes: must be at least 1"):
        AvroEventSerializer.create(io.BytesIO(), {"syncIntervalBytes": "0"})


_WITHOUT_CRAMJAM = """
import importlib.abc, io, sys
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('cramjam', 'snappy'):
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, Hide())
from flume_sdk import ConfigurationError
from flume_sdk.components.serializers import AvroEventSerializer
try:
    AvroEventSerializer.create(io.BytesIO(), {'compressionCodec': 'snappy'})
except ConfigurationError as exc:
    print(exc)
"""


def test_avro_event_snappy_without_cramjam_is_a_configuration_error_saying_what_to_install(
) -> None:
    run = subprocess.run([sys.executable, "-c", _WITHOUT_CRAMJAM], capture_output=True, text=True,
                         timeout=60, check=False)
    assert "compressionCodec: snappy needs the cramjam library" in run.stdout, run.stderr
    assert "pip install cramjam" in run.stdout


FLUME_NAMES: dict[str, type[EventSerializer]] = {
    "text": TextSerializer,
    "org.apache.flume.serialization.BodyTextEventSerializer$Builder": TextSerializer,
    "header_and_text": HeaderAndTextSerializer,
    "org.apache.flume.serialization.HeaderAndBodyTextEventSerializer$Builder":
        HeaderAndTextSerializer,
    "avro_event": AvroEventSerializer,
    "org.apache.flume.serialization.FlumeEventAvroEventSerializer$Builder": AvroEventSerializer,
}


@pytest.mark.parametrize("type_name", sorted(FLUME_NAMES))
def test_alias_and_flume_builder_name_load_the_serializer(type_name: str) -> None:
    registry = PluginRegistry()
    if not registry.available(PluginKind.SERIALIZER):
        pytest.skip("the kernel's flume_sdk.serializers entry points are not installed yet")
    assert registry.load(PluginKind.SERIALIZER, type_name) is FLUME_NAMES[type_name]
