"""Flume's ``compression-type = deflate``: one zlib stream per direction and connection.

Netty's ``ZlibEncoder``/``ZlibDecoder`` (JZlib, zlib wrapper with RFC 1950 header and
Adler-32) compress the whole TCP byte stream below the Avro framing, flushed per
write. Here each frame is compressed and followed by a ``Z_SYNC_FLUSH``. Inflation
yields bounded chunks so a small "zip bomb" cannot expand into memory at once.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from flume_rpc_avro._errors import AvroRpcError

__all__ = ["CHUNK_SIZE", "Deflater", "Inflater"]

CHUNK_SIZE = 64 * 1024


class Deflater:
    """The sending half of a deflate connection.

    Args:
        level: zlib level 0-9 (Flume's ``compression-level``, default 6).
    """

    def __init__(self, level: int = 6) -> None:
        self._z = zlib.compressobj(level)

    def compress(self, data: bytes) -> bytes:
        """Compress ``data`` and flush, so the peer can decode it without waiting for more."""
        return self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)


class Inflater:
    """The receiving half of a deflate connection."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj()

    def decompress(self, data: bytes) -> Iterator[bytes]:
        """Yield the plain bytes of ``data`` in chunks of at most ``CHUNK_SIZE``.

        Raises:
            AvroRpcError: ``data`` is not a zlib stream (for example the peer does not
                use ``compression-type = deflate``).
        """
        pending = data
        while True:
            try:
                chunk = self._z.decompress(pending, CHUNK_SIZE)
            except zlib.error as exc:
                msg = (
                    f"received bytes are not a zlib stream ({exc}); both ends must set the same "
                    "compression-type (none or deflate)"
                )
                raise AvroRpcError(msg) from exc
            pending = self._z.unconsumed_tail
            if chunk:
                yield chunk
            if self._z.eof or (not pending and len(chunk) < CHUNK_SIZE):
                return
