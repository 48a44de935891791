"""Netty framing of Avro IPC messages (``NettyTransportCodec``), with a size limit.

A frame is ``serial`` (int32 BE), buffer count N (int32 BE), then N times
(length int32 BE + bytes). The receiver concatenates the buffers; how the sender
split them carries no meaning. The decoder is incremental and checks every announced
size against ``max_frame_size`` *before* buffering it, so a hostile peer cannot make
the receiver allocate more than the limit.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from flume_rpc_avro._errors import AvroRpcError, FrameTooLargeError

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "FrameDecoder", "encode_frame"]

DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024
_INT = struct.Struct(">i")
_HEADER = struct.Struct(">ii")


def encode_frame(serial: int, buffers: Sequence[bytes]) -> bytes:
    """Encode one Netty frame carrying ``buffers`` under ``serial``."""
    parts = [_HEADER.pack(serial, len(buffers))]
    for buf in buffers:
        parts.append(_INT.pack(len(buf)))
        parts.append(buf)
    return b"".join(parts)


class FrameDecoder:
    """Split a byte stream into ``(serial, payload)`` frames, in time linear in the bytes.

    What has been parsed is consumed at once: a frame arriving in many reads (say one
    of a million empty buffers) is never parsed again from its start.

    Args:
        max_frame_size: the most bytes one frame may carry, counting the length words.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self._max = max_frame_size
        self._data = bytearray()
        self._pos = 0
        self._serial: int | None = None  # the frame in progress, once its header was read
        self._left = 0  # its buffers still to read
        self._length: int | None = None  # the announced length of the buffer being read
        self._total = 0  # bytes it announced so far, length words included
        self._chunks: list[bytes] = []

    @property
    def has_partial_frame(self) -> bool:
        """True while some bytes of an incomplete frame are buffered."""
        return self._serial is not None or len(self._data) > self._pos

    @property
    def buffered(self) -> int:
        """Received bytes not parsed yet (at most one header, length word or buffer)."""
        return len(self._data) - self._pos

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Add received bytes; return every frame they complete, in order.

        Raises:
            FrameTooLargeError: a frame announces more than ``max_frame_size`` bytes.
            AvroRpcError: a negative buffer count or length.
        """
        self._data += data
        frames = []
        while True:
            frame = self._next_frame()
            if frame is None:
                break
            frames.append(frame)
        if self._pos:
            del self._data[: self._pos]
            self._pos = 0
        return frames

    def _next_frame(self) -> tuple[int, bytes] | None:
        if self._serial is None and not self._read_header():
            return None
        while self._left:
            if self._length is None and not self._read_length():
                return None
            chunk = self._read_buffer()
            if chunk is None:
                return None
            self._chunks.append(chunk)
        frame = (self._serial, b"".join(self._chunks))
        self._serial, self._chunks = None, []
        return frame  # type: ignore[return-value]

    def _read_header(self) -> bool:
        if len(self._data) - self._pos < 8:
            return False
        serial, count = _HEADER.unpack_from(self._data, self._pos)
        if count < 0:
            msg = f"malformed Avro RPC frame: buffer count must be >= 0, got {count}"
            raise AvroRpcError(msg)
        self._check_size(4 * count)
        self._pos += 8
        self._serial, self._left, self._total = serial, count, 4 * count
        return True

    def _read_length(self) -> bool:
        if len(self._data) - self._pos < 4:
            return False
        (length,) = _INT.unpack_from(self._data, self._pos)
        if length < 0:
            msg = f"malformed Avro RPC frame: buffer length must be >= 0, got {length}"
            raise AvroRpcError(msg)
        self._total += length
        self._check_size(self._total)
        self._pos += 4
        self._length = length
        return True

    def _read_buffer(self) -> bytes | None:
        length, pos = self._length or 0, self._pos
        if len(self._data) - pos < length:
            return None
        self._pos, self._length, self._left = pos + length, None, self._left - 1
        return bytes(self._data[pos : pos + length])

    def _check_size(self, announced: int) -> None:
        if announced > self._max:
            raise FrameTooLargeError(announced, self._max, "Avro RPC")
