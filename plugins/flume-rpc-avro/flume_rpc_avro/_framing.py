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
    """Split a byte stream into ``(serial, payload)`` frames.

    Args:
        max_frame_size: the most bytes one frame may carry, counting the length words.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self._max = max_frame_size
        self._data = bytearray()
        self._pos = 0

    @property
    def has_partial_frame(self) -> bool:
        """True while some bytes of an incomplete frame are buffered."""
        return len(self._data) > self._pos

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
        data, start = self._data, self._pos
        if len(data) - start < 8:
            return None
        serial, count = _HEADER.unpack_from(data, start)
        if count < 0:
            msg = f"malformed Avro RPC frame: buffer count must be >= 0, got {count}"
            raise AvroRpcError(msg)
        self._check_size(4 * count)
        pos, total, chunks = start + 8, 4 * count, []
        for _ in range(count):
            if len(data) - pos < 4:
                return None
            (length,) = _INT.unpack_from(data, pos)
            if length < 0:
                msg = f"malformed Avro RPC frame: buffer length must be >= 0, got {length}"
                raise AvroRpcError(msg)
            total += length
            self._check_size(total)
            pos += 4
            if len(data) - pos < length:
                return None
            chunks.append(bytes(data[pos : pos + length]))
            pos += length
        self._pos = pos
        return serial, b"".join(chunks)

    def _check_size(self, announced: int) -> None:
        if announced > self._max:
            raise FrameTooLargeError(announced, self._max)
