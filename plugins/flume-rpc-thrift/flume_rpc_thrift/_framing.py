"""Thrift's framed transport: each message is preceded by its length, int32 big-endian.

The decoder is incremental and checks every announced length against
``max_frame_size`` *before* buffering the frame, so a hostile peer cannot make the
receiver allocate more than the limit. A length word that is really the start of an
unframed Thrift message (``80 01`` binary, ``82`` compact) gets a message saying so.
"""

from __future__ import annotations

import struct

from flume_rpc_thrift._errors import FrameTooLargeError, ProtocolMismatchError, ThriftRpcError

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "FrameDecoder", "encode_frame"]

DEFAULT_MAX_FRAME_SIZE = 16_384_000  # the limit of Java's TFastFramedTransport
_LENGTH = struct.Struct(">i")


def encode_frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length."""
    return _LENGTH.pack(len(payload)) + payload


class FrameDecoder:
    """Split a byte stream into frame payloads.

    Args:
        max_frame_size: the most bytes one frame may carry (its length word excluded).
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self._max = max_frame_size
        self._data = bytearray()

    @property
    def has_partial_frame(self) -> bool:
        """True while some bytes of an incomplete frame are buffered."""
        return bool(self._data)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every frame payload they complete, in order.

        Raises:
            FrameTooLargeError: a frame announces more than ``max_frame_size`` bytes.
            ProtocolMismatchError: the stream is an unframed Thrift message.
            ThriftRpcError: a negative length.
        """
        self._data += data
        frames = []
        buf, pos, end = self._data, 0, len(self._data)
        while end - pos >= 4:
            (length,) = _LENGTH.unpack_from(buf, pos)
            self._check(length, bytes(buf[pos:pos + 4]))
            if end - pos - 4 < length:
                break
            frames.append(bytes(buf[pos + 4:pos + 4 + length]))
            pos += 4 + length
        if pos:
            del buf[:pos]
        return frames

    def _check(self, length: int, word: bytes) -> None:
        if word[:2] == b"\x80\x01" or (word[0] == 0x82 and word[1] & 0x1F == 1):
            kind = "binary" if word[0] == 0x80 else "compact"
            msg = (f"unframed Thrift {kind} message: Flume's thrift source and sink use the "
                   f"framed transport (TFramedTransport); frame the client's transport")
            raise ProtocolMismatchError(msg)
        if length < 0:
            msg = f"malformed Thrift frame: negative length {length}"
            raise ThriftRpcError(msg)
        if length > self._max:
            raise FrameTooLargeError(length, self._max, "Thrift")
