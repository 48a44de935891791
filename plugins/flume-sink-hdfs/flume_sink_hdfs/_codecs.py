"""Hadoop's compression codecs, as byte-compatible Python functions.

Each codec turns one buffer into one complete compressed stream, the way a
Hadoop ``CompressionOutputStream`` does between ``resetState()`` and
``finish()``; concatenated streams are what Flume's CompressedStream writes
(one per batch) and what Hadoop's readers accept.

``snappy`` is refused: Hadoop 2's ``SnappyCodec`` reads only with the native
``libhadoop``, which the test cluster here lacks, so a snappy file written here
could not be proven readable by Hadoop.
"""

from __future__ import annotations

import bz2
import gzip
import zlib
from collections.abc import Callable

import attrs

__all__ = ["CODECS", "Codec", "codec_for"]


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def _bzip2(data: bytes) -> bytes:
    return bz2.compress(data, 9)


@attrs.frozen
class Codec:
    """One codec: its Hadoop class, default file extension and compress function."""

    name: str
    hadoop_class: str
    extension: str
    compress: Callable[[bytes], bytes]


_PKG = "org.apache.hadoop.io.compress."

CODECS: dict[str, Codec] = {
    "gzip": Codec("gzip", _PKG + "GzipCodec", ".gz", _gzip),
    "bzip2": Codec("bzip2", _PKG + "BZip2Codec", ".bz2", _bzip2),
    "deflate": Codec("deflate", _PKG + "DeflateCodec", ".deflate", _deflate),
    "default": Codec("default", _PKG + "DefaultCodec", ".deflate", _deflate),
}
"""Codecs by Flume's ``hdfs.codeC`` name."""

_ALIASES = {
    **{c.hadoop_class.lower(): n for n, c in CODECS.items()},
    **{c.hadoop_class.rsplit(".", 1)[1].lower(): n for n, c in CODECS.items()},
}


def codec_for(name: str) -> Codec:
    """The codec for an ``hdfs.codeC`` value: a name (``gzip``) or a Hadoop class name.

    Raises:
        ValueError: the codec is unknown or not supported here (lzo, lzop).
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in ("snappy", _PKG.lower() + "snappycodec", "snappycodec"):
        msg = (f"codec {name!r} is not supported: Hadoop's SnappyCodec reads only with the "
               "native libhadoop, which could not be tested here, and a file nobody can read "
               "is not written; use gzip, bzip2 or deflate")
        raise ValueError(msg)
    codec = CODECS.get(key)
    if codec is None:
        hint = " (LZO is GPL-licensed and not supported)" if "lzo" in key else ""
        msg = (f"codec {name!r} is not supported{hint}: expected one of "
               f"{', '.join(CODECS)} or a Hadoop codec class name")
        raise ValueError(msg)
    return codec
