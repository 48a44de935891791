"""TBinaryProtocol: fixed-width big-endian integers and int32-length strings.

Writes the strict message header (``0x8001`` version word), as Java does by default;
reads both the strict header and the old one (name first), as Java's server does
(``strictRead = false``).
"""

from __future__ import annotations

import struct

from flume_rpc_thrift._errors import ProtocolMismatchError, ThriftRpcError
from flume_rpc_thrift._ttypes import TType, skip

__all__ = ["BinaryReader", "BinaryWriter"]

_VERSION_1 = 0x80010000
_VERSION_MASK = 0xFFFF0000
_I32 = struct.Struct(">i")
_I16 = struct.Struct(">h")
_FIELD = struct.Struct(">bh")
_MAP = struct.Struct(">bbi")
_LIST = struct.Struct(">bi")
_EVENT_HEAD = b"\x0d\x00\x01\x0b\x0b"
_BODY_HEAD = b"\x0b\x00\x02"
_FIXED_SIZE = {TType.BOOL: 1, TType.BYTE: 1, TType.I16: 2, TType.I32: 4, TType.I64: 8,
               TType.DOUBLE: 8, TType.UUID: 16}


class BinaryWriter:
    """Builds one TBinaryProtocol message."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def getvalue(self) -> bytes:
        return b"".join(self._parts)

    def message_begin(self, name: str, mtype: int, seqid: int) -> None:
        self._parts.append(_I32.pack((_VERSION_1 | mtype) - (1 << 32)))
        self.write_string(name)
        self._parts.append(_I32.pack(seqid))

    def struct_begin(self) -> None:
        pass

    def struct_end(self) -> None:
        self._parts.append(b"\x00")

    def field_begin(self, ttype: int, fid: int) -> None:
        self._parts.append(_FIELD.pack(ttype, fid))

    def map_begin(self, ktype: int, vtype: int, size: int) -> None:
        self._parts.append(_MAP.pack(ktype, vtype, size))

    def list_begin(self, etype: int, size: int) -> None:
        self._parts.append(_LIST.pack(etype, size))

    def write_i32(self, value: int) -> None:
        self._parts.append(_I32.pack(value))

    def write_binary(self, value: bytes) -> None:
        self._parts.append(_I32.pack(len(value)))
        self._parts.append(value)

    def write_string(self, value: str) -> None:
        self.write_binary(value.encode())

    def write_event(self, headers: dict[str, str], body: bytes) -> None:
        """A ThriftFlumeEvent at once (the same bytes as the field-by-field calls)."""
        parts = self._parts
        parts.append(_EVENT_HEAD + _I32.pack(len(headers)))  # 1: map<string, string>
        pack = _I32.pack
        for key, value in headers.items():
            k, v = key.encode(), value.encode()
            parts += (pack(len(k)), k, pack(len(v)), v)
        parts += (_BODY_HEAD, pack(len(body)), body, b"\x00")  # 2: binary, then stop


class BinaryReader:
    """Reads one TBinaryProtocol message payload.

    Args:
        data: the frame's payload.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def _unpack(self, fmt: struct.Struct) -> tuple[int, ...]:
        pos = self._pos
        if fmt.size > len(self._data) - pos:
            raise ThriftRpcError("truncated Thrift binary message")
        self._pos = pos + fmt.size
        return fmt.unpack_from(self._data, pos)

    def _take(self, size: int) -> bytes:
        pos = self._pos
        if size < 0 or size > len(self._data) - pos:
            msg = f"malformed Thrift binary message: {size} bytes announced, " \
                  f"{len(self._data) - pos} left"
            raise ThriftRpcError(msg)
        self._pos = pos + size
        return self._data[pos:pos + size]

    def _size(self, size: int) -> int:
        if size < 0 or size > self.remaining():
            msg = f"malformed Thrift container: {size} elements in {self.remaining()} bytes"
            raise ThriftRpcError(msg)
        return size

    def message_begin(self) -> tuple[str, int, int]:
        if self._data[:1] == b"\x82":
            msg = ("a compact-protocol message (first byte 0x82) sent to a binary-protocol "
                   "peer; set protocol = binary or compact on both sides alike")
            raise ProtocolMismatchError(msg)
        (word,) = self._unpack(_I32)
        if word < 0:
            if word & _VERSION_MASK != _VERSION_1:
                raise ThriftRpcError(f"bad Thrift binary version word 0x{word & 0xFFFFFFFF:08x}")
            name = self.read_string()
            return name, word & 0xFF, self.read_i32()
        name = self._take(word).decode(errors="replace")  # old, non-strict header
        mtype = self._take(1)[0]
        return name, mtype, self.read_i32()

    def struct_begin(self) -> None:
        pass

    def struct_end(self) -> None:
        pass

    def field_begin(self) -> tuple[int, int]:
        if self._pos < len(self._data) and self._data[self._pos] == TType.STOP:
            self._pos += 1
            return TType.STOP, 0
        ttype, fid = self._unpack(_FIELD)
        return ttype, fid

    def map_begin(self) -> tuple[int, int, int]:
        ktype, vtype, size = self._unpack(_MAP)
        return ktype, vtype, self._size(size)

    def list_begin(self) -> tuple[int, int]:
        etype, size = self._unpack(_LIST)
        return etype, self._size(size)

    def read_i32(self) -> int:
        return self._unpack(_I32)[0]

    def read_binary(self) -> bytes:
        return self._take(self.read_i32())

    def read_string(self) -> str:
        return self.read_binary().decode(errors="replace")

    def read_event(self) -> tuple[dict[str, str], bytes] | None:
        """A ThriftFlumeEvent laid out as Flume writes it, or None (nothing consumed) when
        it is laid out otherwise, or is broken: the field-by-field reader then takes over."""
        data, pos, end = self._data, self._pos, len(self._data)
        unpack = _I32.unpack_from
        try:
            if data[pos:pos + 5] != _EVENT_HEAD:
                return None
            (size,) = unpack(data, pos + 5)
            pos += 9
            headers = {}
            for _ in range(size):
                (n,) = unpack(data, pos)
                key = data[pos + 4:pos + 4 + n].decode(errors="replace")
                pos += 4 + n
                (n,) = unpack(data, pos)
                headers[key] = data[pos + 4:pos + 4 + n].decode(errors="replace")
                pos += 4 + n
            if data[pos:pos + 3] != _BODY_HEAD:
                return None
            (n,) = unpack(data, pos + 3)
            body = data[pos + 7:pos + 7 + n]
            pos += 7 + n
            if n < 0 or pos >= end or data[pos] != 0:
                return None
        except struct.error:
            return None
        self._pos = pos + 1
        return headers, body

    def skip(self, ttype: int) -> None:
        skip(self, ttype)

    def skip_scalar(self, ttype: int) -> None:
        if ttype == TType.STRING:
            self.read_binary()
        elif ttype in _FIXED_SIZE:
            self._take(_FIXED_SIZE[TType(ttype)])
        else:
            raise ThriftRpcError(f"unknown Thrift binary type {ttype}")
