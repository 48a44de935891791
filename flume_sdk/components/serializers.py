"""``text``, ``header_and_text`` and ``avro_event``: Flume's event serializers.

Each turns events into bytes on a binary stream for file_roll (``sink.serializer``)
and hdfs (``serializer``). ``text`` writes the body, ``header_and_text`` writes Java's
``Map.toString()`` of the headers, a space and the body, and ``avro_event`` writes an
Avro object container file whose records follow Flume's event schema, readable by
fastavro and by any Avro reader.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, BinaryIO, ClassVar

import attrs
from fastavro import parse_schema
from fastavro.write import Writer

from flume_sdk import Event, EventSerializer, at_least, one_of, setting

__all__ = [
    "AVRO_CODECS",
    "FLUME_EVENT_SCHEMA",
    "AvroEventSerializer",
    "AvroEventSerializerSettings",
    "HeaderAndTextSerializer",
    "TextSerializer",
    "TextSerializerSettings",
    "java_map_string",
]

FLUME_EVENT_SCHEMA: Mapping[str, Any] = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "headers", "type": {"type": "map", "values": "string"}},
        {"name": "body", "type": "bytes"},
    ],
}
"""Flume's ``FlumeEventAvroEventSerializer`` schema, byte for byte the same record."""

AVRO_CODECS: tuple[str, ...] = ("null", "deflate", "snappy", "bzip2", "xz")
"""Values accepted for ``compressionCodec``; ``snappy`` also needs cramjam installed."""

_NEWLINE = b"\n"


@attrs.frozen(kw_only=True)
class TextSerializerSettings:
    append_newline: bool = setting(default=True, help="write a newline after each event")


class TextSerializer(EventSerializer):
    """``text``: the body, then ``\\n`` unless ``appendNewline = false``.

    Appending to an existing file is supported, as in Flume.
    """

    Settings: ClassVar[type] = TextSerializerSettings
    settings: TextSerializerSettings

    def write(self, event: Event) -> None:
        self.out.write(event.body)
        if self.settings.append_newline:
            self.out.write(_NEWLINE)

    def write_batch(self, events: list[Event]) -> None:
        # One write per batch: the per-event cost dominates file_roll's throughput.
        bodies = [event.body for event in events]
        if self.settings.append_newline:
            bodies.append(b"")
            self.out.write(_NEWLINE.join(bodies))
        else:
            self.out.write(b"".join(bodies))


def java_map_string(headers: Mapping[str, str]) -> str:
    """Java's ``AbstractMap.toString()``: ``{k=v, k2=v2}``, ``{}`` when empty."""
    return "{" + ", ".join(f"{key}={value}" for key, value in headers.items()) + "}"


class HeaderAndTextSerializer(EventSerializer):
    """``header_and_text``: ``{k=v, ...}``, a space, the body, then ``\\n`` unless disabled.

    Headers are written in the event's insertion order (Java writes hash order) and
    encoded as UTF-8.
    """

    Settings: ClassVar[type] = TextSerializerSettings
    settings: TextSerializerSettings

    def write(self, event: Event) -> None:
        self.out.write(self._line(event))

    def write_batch(self, events: list[Event]) -> None:
        self.out.write(b"".join(map(self._line, events)))

    def _line(self, event: Event) -> bytes:
        head = (java_map_string(event.headers) + " ").encode("utf-8")
        tail = _NEWLINE if self.settings.append_newline else b""
        return head + event.body + tail


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _codec_available(codec: str) -> bool:
    """fastavro's snappy needs cramjam (or python-snappy); the other codecs are built in."""
    return codec != "snappy" or _importable("cramjam") or _importable("snappy")


@attrs.frozen(kw_only=True)
class AvroEventSerializerSettings:
    sync_interval_bytes: int = setting(default=2048000, validator=at_least(1),
                                       help="bytes of records per Avro block before a sync marker")
    compression_codec: str = setting(default="null", validator=one_of(*AVRO_CODECS),
                                     help="block codec: null, deflate, snappy, bzip2 or xz")

    def problems(self) -> list[tuple[str, str]]:
        codec = self.compression_codec.lower()
        if not _codec_available(codec):
            return [("compressionCodec",
                     "snappy needs the cramjam library, which is not installed "
                     "(install it with 'pip install cramjam', or use deflate)")]
        return []


class AvroEventSerializer(EventSerializer):
    """``avro_event``: an Avro container of ``{headers: map<string>, body: bytes}`` records.

    ``flush`` ends the current block, so a file cut right after a flush is still a
    valid container. Appending to an existing file is not supported (as in Flume).
    """

    Settings: ClassVar[type] = AvroEventSerializerSettings
    settings: AvroEventSerializerSettings
    supports_reopen: ClassVar[bool] = False
    _schema: ClassVar[Any] = parse_schema(dict(FLUME_EVENT_SCHEMA))

    def __init__(self, out: BinaryIO, settings: Any = None) -> None:
        super().__init__(out, settings)
        self._writer: Writer | None = None

    def after_create(self) -> None:
        self._writer = Writer(self.out, self._schema,
                              codec=self.settings.compression_codec.lower(),
                              sync_interval=self.settings.sync_interval_bytes)

    def _require_writer(self) -> Writer:
        if self._writer is None:
            msg = "avro_event serializer: call after_create() before write()"
            raise RuntimeError(msg)
        return self._writer

    def write(self, event: Event) -> None:
        self._require_writer().write({"headers": event.headers, "body": event.body})

    def write_batch(self, events: list[Event]) -> None:
        write = self._require_writer().write
        for event in events:
            write({"headers": event.headers, "body": event.body})

    def flush(self) -> None:
        self._require_writer().flush()

    def before_close(self) -> None:
        if self._writer is not None:
            self._writer.flush()
