"""Hadoop's SequenceFile format (version 6), written in Python.

The output is what ``org.apache.hadoop.io.SequenceFile.Writer`` writes and its
``Reader`` reads: the header (``SEQ`` 6, key and value class names, compression
flags, the codec class, metadata, a 16-byte sync marker), then records with a
sync marker about every 2000 bytes, each value compressed on its own (RECORD),
or blocks of records whose key lengths, keys, value lengths and values are
compressed as four buffers, each block after a sync marker (BLOCK).

The writer holds no stream: :meth:`SequenceFileWriter.header` and
:meth:`SequenceFileWriter.append` return bytes, so a caller can put them in one
HDFS append per batch. Every append ends on a record (NONE, RECORD) or block
(BLOCK) boundary, so a file cut after any append is a complete SequenceFile.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Mapping

from flume_sink_hdfs._codecs import Codec

__all__ = [
    "BYTES_WRITABLE",
    "LONG_WRITABLE",
    "SYNC_INTERVAL",
    "TEXT",
    "SequenceFileWriter",
    "bytes_writable",
    "long_writable",
    "text_writable",
    "write_vint",
]

LONG_WRITABLE = "org.apache.hadoop.io.LongWritable"
BYTES_WRITABLE = "org.apache.hadoop.io.BytesWritable"
TEXT = "org.apache.hadoop.io.Text"
SYNC_INTERVAL = 100 * (4 + 16)
"""Hadoop 2.7's ``SequenceFile.SYNC_INTERVAL``: a sync marker at least this often."""

_BLOCK_LIMIT = 1_000_000  # io.seqfile.compress.blocksize
_SYNC_ESCAPE = struct.pack(">i", -1)
_COMPRESSIONS = ("NONE", "RECORD", "BLOCK")


def write_vint(value: int) -> bytes:
    """Hadoop's ``WritableUtils.writeVLong`` encoding of ``value``."""
    if -112 <= value <= 127:
        return struct.pack(">b", value)
    length = -112
    if value < 0:
        value ^= -1
        length = -120
    tmp = value
    while tmp != 0:
        tmp >>= 8
        length -= 1
    size = -(length + 120) if length < -120 else -(length + 112)
    body = bytes((value >> (8 * (i - 1))) & 0xFF for i in range(size, 0, -1))
    return struct.pack(">b", length) + body


def long_writable(value: int) -> bytes:
    """A ``LongWritable``: eight big-endian bytes."""
    return struct.pack(">q", value)


def bytes_writable(value: bytes) -> bytes:
    """A ``BytesWritable``: a four-byte length, then the bytes."""
    return struct.pack(">i", len(value)) + value


def text_writable(value: bytes) -> bytes:
    """A ``Text``: a vint length, then UTF-8 bytes (passed through as given)."""
    return write_vint(len(value)) + value


class SequenceFileWriter:
    """Encodes one SequenceFile as a header and a series of appended batches.

    Args:
        key_class: the key's Writable class name.
        value_class: the value's Writable class name.
        compression: ``NONE``, ``RECORD`` or ``BLOCK``.
        codec: the codec for RECORD and BLOCK (required for them).
        metadata: the header's metadata pairs.
        sync: the 16-byte sync marker; random when None.

    Raises:
        ValueError: unknown compression, a missing codec or a bad sync marker.
    """

    def __init__(
        self,
        key_class: str = LONG_WRITABLE,
        value_class: str = BYTES_WRITABLE,
        *,
        compression: str = "NONE",
        codec: Codec | None = None,
        metadata: Mapping[str, str] | None = None,
        sync: bytes | None = None,
    ) -> None:
        self.compression = compression.upper()
        if self.compression not in _COMPRESSIONS:
            msg = f"compression must be one of {', '.join(_COMPRESSIONS)} (got {compression!r})"
            raise ValueError(msg)
        if self.compression != "NONE" and codec is None:
            msg = f"compression {self.compression} needs a codec (got None)"
            raise ValueError(msg)
        self.key_class = key_class
        self.value_class = value_class
        self.codec = codec if self.compression != "NONE" else None
        self.metadata = dict(metadata or {})
        self.sync = sync if sync is not None else os.urandom(16)
        if len(self.sync) != 16:
            msg = f"the sync marker must be 16 bytes (got {len(self.sync)})"
            raise ValueError(msg)
        self.position = 0
        self._last_sync = 0

    def header(self) -> bytes:
        """The file header; call once, before the first :meth:`append`."""
        parts = [b"SEQ\x06", _text(self.key_class), _text(self.value_class),
                 bytes([self.compression != "NONE", self.compression == "BLOCK"])]
        if self.codec is not None:
            parts.append(_text(self.codec.hadoop_class))
        parts.append(struct.pack(">i", len(self.metadata)))
        for key, value in self.metadata.items():
            parts += [_text(key), _text(value)]
        parts.append(self.sync)
        data = b"".join(parts)
        self.position += len(data)
        return data

    def append(self, records: Iterable[tuple[bytes, bytes]]) -> bytes:
        """Encode serialized ``(key, value)`` Writables; return the bytes to append."""
        if self.compression == "BLOCK":
            return self._blocks(list(records))
        out: list[bytes] = []
        for key, value in records:
            if self.codec is not None:
                value = self.codec.compress(value)
            self._maybe_sync(out)
            record = struct.pack(">ii", len(key) + len(value), len(key)) + key + value
            out.append(record)
            self.position += len(record)
        return b"".join(out)

    def _maybe_sync(self, out: list[bytes]) -> None:
        if self.position >= self._last_sync + SYNC_INTERVAL:
            self._write_sync(out)

    def _write_sync(self, out: list[bytes]) -> None:
        out.append(_SYNC_ESCAPE + self.sync)
        self.position += 20
        self._last_sync = self.position

    def _blocks(self, records: list[tuple[bytes, bytes]]) -> bytes:
        out: list[bytes] = []
        start = 0
        while start < len(records):
            size, end = 0, start
            while end < len(records) and (end == start or size < _BLOCK_LIMIT):
                size += len(records[end][0]) + len(records[end][1])
                end += 1
            self._block(records[start:end], out)
            start = end
        return b"".join(out)

    def _block(self, records: list[tuple[bytes, bytes]], out: list[bytes]) -> None:
        assert self.codec is not None
        self._write_sync(out)
        buffers = (
            b"".join(write_vint(len(k)) for k, _ in records),
            b"".join(k for k, _ in records),
            b"".join(write_vint(len(v)) for _, v in records),
            b"".join(v for _, v in records),
        )
        parts = [write_vint(len(records))]
        for buffer in buffers:
            packed = self.codec.compress(buffer)
            parts += [write_vint(len(packed)), packed]
        block = b"".join(parts)
        out.append(block)
        self.position += len(block)


def _text(value: str) -> bytes:
    return text_writable(value.encode("utf-8"))
