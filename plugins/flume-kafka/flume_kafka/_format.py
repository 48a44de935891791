"""Flume events as Kafka record values: Flume's Avro event record, or the plain body.

Java Flume agents write ``AvroFlumeEvent`` (``{headers: map<string>, body:
bytes}``) as schemaless Avro binary (no container, no schema header) when
``useFlumeEventFormat`` (source, sink) or ``parseAsFlumeEvent`` (channel) is
true. Reading and writing exactly that record lets Python and Java agents share
a topic. Without it only the body travels in the value; this module then
carries the Flume headers as Kafka record headers, which Java Flume ignores.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

import fastavro

from flume_sdk import Event

__all__ = [
    "AVRO_FLUME_EVENT_SCHEMA",
    "decode_avro_event",
    "encode_avro_event",
    "event_from_value",
    "headers_from_record",
    "headers_to_record",
    "value_from_event",
]

#: Flume's ``org.apache.flume.source.avro.AvroFlumeEvent`` record (flume.avdl).
AVRO_FLUME_EVENT_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "AvroFlumeEvent",
    "namespace": "org.apache.flume.source.avro",
    "fields": [
        {"name": "headers", "type": {"type": "map", "values": "string"}},
        {"name": "body", "type": "bytes"},
    ],
}
_PARSED = fastavro.parse_schema(AVRO_FLUME_EVENT_SCHEMA)


def encode_avro_event(event: Event) -> bytes:
    """``event`` as one schemaless Avro ``AvroFlumeEvent`` (what Java Flume writes)."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, _PARSED, {"headers": event.headers, "body": event.body})
    return out.getvalue()


def decode_avro_event(data: bytes) -> Event:
    """Read one schemaless Avro ``AvroFlumeEvent``.

    Raises:
        ValueError: ``data`` is not such a record (names the length and first bytes).
    """
    try:
        record: Any = fastavro.schemaless_reader(io.BytesIO(data), _PARSED, None)
    except Exception as exc:  # fastavro raises EOFError, UnicodeDecodeError, IndexError...
        msg = (f"Kafka record value: expected a Flume Avro event (AvroFlumeEvent), got "
               f"{len(data)} bytes starting {data[:16]!r} that do not decode ({exc}); set "
               "useFlumeEventFormat/parseAsFlumeEvent = false if the producers write plain bodies")
        raise ValueError(msg) from exc
    return Event(bytes(record["body"]), dict(record["headers"]))


def value_from_event(event: Event, *, avro: bool) -> bytes:
    """The Kafka record value for ``event``: the Avro record, or the body alone."""
    return encode_avro_event(event) if avro else event.body


def event_from_value(value: bytes | None, *, avro: bool) -> Event:
    """An event from a Kafka record value (a ``None`` value, a tombstone, is an empty body)."""
    data = value or b""
    return decode_avro_event(data) if avro else Event(data, {})


def headers_to_record(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    """Flume headers as Kafka record headers (UTF-8 values)."""
    return [(key, value.encode("utf-8")) for key, value in headers.items()]


def headers_from_record(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Kafka record headers as Flume headers; undecodable bytes are replaced, ``None`` is empty."""
    return {key: (value or b"").decode("utf-8", "replace") for key, value in headers or ()}
