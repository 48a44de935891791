"""On-disk encoding of the file channel: segment headers, log records, events.

A segment file is a 32-byte header followed by records::

    segment header   magic b"FLUMESEG" | version u32 | reserved u32 | segment id u64 |
                     first sequence number u64 (the next put's, when the segment was created)
    record           magic u16 | type u8 | flags u8 | payload length u32 | crc32 u32 | payload

The record CRC covers the payload first and then the first eight header bytes, so a
put record's CRC can be computed from the pre-encoded events before the sequence number
is known.  Bytes after the last record are zeros (segments are preallocated), so an
all-zero header means "no more records".

Record payloads:

    PUT   events... | first sequence number u64 | event count u32
    TAKE  range count u32 | (first sequence number u64 | count u32) * range count
    SEAL  empty; the last record of a segment the writer moved on from

An event is ``body length u32 | header count u16 | (key length u16 | value length u32 |
key | value) * header count | body``, keys and values in UTF-8.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

__all__ = [
    "HEADER_SIZE",
    "RECORD_HEADER",
    "RECORD_MAGIC",
    "SEGMENT_HEADER",
    "SEGMENT_MAGIC",
    "EventLike",
    "RecordType",
    "decode_events",
    "decode_put_trailer",
    "decode_take",
    "encode_events",
    "encode_put",
    "encode_record",
    "encode_segment_header",
    "encode_take",
    "merge_ranges",
    "record_crc",
]

SEGMENT_MAGIC = b"FLUMESEG"
SEGMENT_VERSION = 1
SEGMENT_HEADER = struct.Struct("<8sIIQQ")
HEADER_SIZE = SEGMENT_HEADER.size

RECORD_MAGIC = 0xF17E
RECORD_HEADER = struct.Struct("<HBBII")
_HEADER_PREFIX = struct.Struct("<HBBI")
_PUT_TRAILER = struct.Struct("<QI")
_RANGE = struct.Struct("<QI")
_COUNT = struct.Struct("<I")
_EVENT = struct.Struct("<IH")
_HEADER_ITEM = struct.Struct("<HI")


class RecordType:
    """Record type codes stored in the third header byte."""

    PUT = 1
    TAKE = 2
    SEAL = 3
    ALL = frozenset({1, 2, 3})


class EventLike(Protocol):
    """What the storage engine needs from an event."""

    body: bytes
    headers: dict[str, str]


E = TypeVar("E")


def encode_segment_header(segment_id: int, first_seq: int) -> bytes:
    """Return the fixed header that opens segment ``segment_id``."""
    return SEGMENT_HEADER.pack(SEGMENT_MAGIC, SEGMENT_VERSION, 0, segment_id, first_seq)


def record_crc(record_type: int, payload_crc: int, length: int) -> int:
    """Finish a record CRC from the CRC of its payload."""
    return zlib.crc32(_HEADER_PREFIX.pack(RECORD_MAGIC, record_type, 0, length), payload_crc)


def encode_record(record_type: int, payload: bytes) -> bytes:
    """Frame ``payload`` as one record with header and checksum."""
    crc = record_crc(record_type, zlib.crc32(payload), len(payload))
    return RECORD_HEADER.pack(RECORD_MAGIC, record_type, 0, len(payload), crc) + payload


def encode_events(events: Iterable[EventLike]) -> bytes:
    """Encode events back to back (no count; the put trailer carries it)."""
    parts: list[bytes] = []
    append = parts.append
    pack_event = _EVENT.pack
    pack_item = _HEADER_ITEM.pack
    for event in events:
        body = event.body
        headers = event.headers
        append(pack_event(len(body), len(headers)))
        for key, value in headers.items():
            kb = key.encode()
            vb = value.encode()
            append(pack_item(len(kb), len(vb)))
            append(kb)
            append(vb)
        append(bytes(body))
    return b"".join(parts)


def encode_put(encoded_events: bytes, events_crc: int, first_seq: int, count: int) -> list[bytes]:
    """Return the buffers of a put record (header, events, trailer) for one ``writev``."""
    trailer = _PUT_TRAILER.pack(first_seq, count)
    length = len(encoded_events) + len(trailer)
    crc = record_crc(RecordType.PUT, zlib.crc32(trailer, events_crc), length)
    header = RECORD_HEADER.pack(RECORD_MAGIC, RecordType.PUT, 0, length, crc)
    return [header, encoded_events, trailer]


def decode_put_trailer(payload: bytes | memoryview) -> tuple[int, int]:
    """Return ``(first_seq, count)`` from a put payload."""
    first_seq, count = _PUT_TRAILER.unpack_from(payload, len(payload) - _PUT_TRAILER.size)
    return first_seq, count


def decode_events(
    payload: bytes, count: int, factory: Callable[[bytes, dict[str, str]], E]
) -> list[E]:
    """Decode ``count`` events from the start of a put payload."""
    out: list[E] = []
    unpack_event = _EVENT.unpack_from
    unpack_item = _HEADER_ITEM.unpack_from
    pos = 0
    for _ in range(count):
        body_len, n_headers = unpack_event(payload, pos)
        pos += 6
        headers: dict[str, str] = {}
        for _ in range(n_headers):
            klen, vlen = unpack_item(payload, pos)
            pos += 6
            key = payload[pos : pos + klen].decode()
            pos += klen
            headers[key] = payload[pos : pos + vlen].decode()
            pos += vlen
        out.append(factory(payload[pos : pos + body_len], headers))
        pos += body_len
    return out


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge ``(first, count)`` ranges that touch, keeping their order."""
    merged: list[tuple[int, int]] = []
    for first, count in ranges:
        if merged and merged[-1][0] + merged[-1][1] == first:
            merged[-1] = (merged[-1][0], merged[-1][1] + count)
        else:
            merged.append((first, count))
    return merged


def encode_take(ranges: Sequence[tuple[int, int]]) -> bytes:
    """Encode a take record for the given ``(first_seq, count)`` ranges."""
    body = b"".join(_RANGE.pack(first, count) for first, count in ranges)
    return encode_record(RecordType.TAKE, _COUNT.pack(len(ranges)) + body)


def decode_take(payload: bytes | memoryview) -> list[tuple[int, int]]:
    """Return the ``(first_seq, count)`` ranges of a take payload."""
    (n,) = _COUNT.unpack_from(payload, 0)
    return [_RANGE.unpack_from(payload, 4 + i * _RANGE.size) for i in range(n)]
