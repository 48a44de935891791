"""``hdfs.fileType``: how one file's bytes are made from events.

A format is made fresh for each file and is stateful: :meth:`FileFormat.header`
gives the bytes a new file starts with, :meth:`FileFormat.encode` the bytes of one
batch (ending on a boundary a reader can stop at), :meth:`FileFormat.trailer` the
bytes written at close. ``DataStream`` is the serializer's output as it is,
``CompressedStream`` the same compressed as one codec stream per batch, and
``SequenceFile`` Hadoop's SequenceFile with ``LongWritable`` timestamp keys and
``BytesWritable`` (``writeFormat = Writable``) or ``Text`` values.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO, Protocol, cast

from flume_sdk import Clock, Event, EventSerializer
from flume_sink_hdfs._codecs import Codec
from flume_sink_hdfs.sequencefile import (
    BYTES_WRITABLE,
    LONG_WRITABLE,
    TEXT,
    SequenceFileWriter,
    bytes_writable,
    long_writable,
    text_writable,
)

__all__ = [
    "CompressedStreamFormat",
    "DataStreamFormat",
    "FileFormat",
    "FormatFactory",
    "SequenceFileFormat",
]


class FileFormat(Protocol):
    def header(self) -> bytes: ...

    def encode(self, events: Sequence[Event]) -> bytes: ...

    def trailer(self) -> bytes: ...


FormatFactory = Callable[[], FileFormat]


class _Buffer(io.RawIOBase):
    """A write-only stream a serializer writes into; :meth:`take` empties it.

    It keeps the ``bytes`` it is given instead of copying them into a growing
    buffer: a serializer that writes a batch as one ``bytes`` (``text`` does) hands
    it to the filesystem without a copy. (A ``BytesIO`` emptied after every batch
    costs a page fault per 4 KiB written here: glibc gives its multi-MiB buffer
    back to the OS each time.) It is not seekable, and :meth:`tell` is the count
    of bytes written since it was made.
    """

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = data if type(data) is bytes else bytes(data)  # a caller may reuse its buffer
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        chunks, self._chunks = self._chunks, []
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class DataStreamFormat:
    """``DataStream``: the serializer's bytes, unchanged."""

    def __init__(self, serializer_cls: type[EventSerializer], settings: Any) -> None:
        self._buffer = _Buffer()
        self._serializer = serializer_cls(cast(BinaryIO, self._buffer), settings)  # write-only

    def header(self) -> bytes:
        self._serializer.after_create()
        self._serializer.flush()
        return self._buffer.take()

    def encode(self, events: Sequence[Event]) -> bytes:
        self._serializer.write_batch(events if isinstance(events, list) else list(events))
        self._serializer.flush()
        return self._buffer.take()

    def trailer(self) -> bytes:
        self._serializer.before_close()
        self._serializer.flush()
        return self._buffer.take()


class CompressedStreamFormat:
    """``CompressedStream``: the serializer's bytes, one compressed stream per batch."""

    def __init__(self, inner: DataStreamFormat, codec: Codec) -> None:
        self._inner = inner
        self._codec = codec
        self._pending = b""

    def header(self) -> bytes:
        # The serializer's header travels inside the first batch's stream.
        self._pending = self._inner.header()
        return b""

    def encode(self, events: Sequence[Event]) -> bytes:
        raw = self._pending + self._inner.encode(events)
        self._pending = b""
        return self._codec.compress(raw) if raw else b""

    def trailer(self) -> bytes:
        raw = self._pending + self._inner.trailer()
        return self._codec.compress(raw) if raw else b""


class SequenceFileFormat:
    """``SequenceFile``: ``LongWritable`` keys (the ``timestamp`` header, else now).

    Args:
        write_format: ``Writable`` (``BytesWritable`` values) or ``Text``.
        codec: compress with this codec (None: uncompressed).
        compression: ``BLOCK`` or ``RECORD`` when a codec is set.
        clock: gives the key of events without a usable ``timestamp`` header.
    """

    def __init__(self, write_format: str, codec: Codec | None, compression: str,
                 clock: Clock) -> None:
        text = write_format.lower() == "text"
        self._value = text_writable if text else bytes_writable
        self._clock = clock
        self._writer = SequenceFileWriter(
            LONG_WRITABLE, TEXT if text else BYTES_WRITABLE,
            compression=compression if codec is not None else "NONE", codec=codec)

    def header(self) -> bytes:
        return self._writer.header()

    def encode(self, events: Sequence[Event]) -> bytes:
        value = self._value
        return self._writer.append(
            (long_writable(self._key(event)), value(event.body)) for event in events)

    def _key(self, event: Event) -> int:
        stamp = event.headers.get("timestamp")
        if stamp is not None:
            try:
                return int(stamp)
            except ValueError:
                pass
        return int(self._clock.time() * 1000)

    def trailer(self) -> bytes:
        return b""
