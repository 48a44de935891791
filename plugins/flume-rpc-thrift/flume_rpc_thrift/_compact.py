"""TCompactProtocol: varints, zig-zag integers and field-id deltas.

Message header: ``0x82``, ``(type << 5) | 1``, seqid as a varint, the name as varint
length + UTF-8. Field header: ``(delta << 4) | type`` when the id grows by 1..15,
otherwise the type byte then the id as a zig-zag varint. Booleans in fields live in
the field header's type (1 = true, 2 = false).
"""

from __future__ import annotations

from flume_rpc_thrift._errors import ProtocolMismatchError, ThriftRpcError
from flume_rpc_thrift._ttypes import TType, skip

__all__ = ["CompactReader", "CompactWriter"]

_PROTOCOL_ID = 0x82
_VERSION = 1
_TO_WIRE = {TType.BOOL: 1, TType.BYTE: 3, TType.I16: 4, TType.I32: 5, TType.I64: 6,
            TType.DOUBLE: 7, TType.STRING: 8, TType.LIST: 9, TType.SET: 10, TType.MAP: 11,
            TType.STRUCT: 12, TType.UUID: 13}
_FROM_WIRE = {wire: int(ttype) for ttype, wire in _TO_WIRE.items()}
_FROM_WIRE[2] = int(TType.BOOL)  # boolean false
_FIXED_SIZE = {TType.DOUBLE: 8, TType.BYTE: 1, TType.UUID: 16}
_VARINT_TYPES = frozenset({TType.I16, TType.I32, TType.I64})


def _zigzag32(n: int) -> int:
    return ((n << 1) ^ (n >> 31)) & 0xFFFFFFFF


_ONE_BYTE = tuple(bytes((n,)) for n in range(0x80))


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _ONE_BYTE[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _varint_at(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the varint at ``pos``; IndexError when truncated."""
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    result, shift = byte & 0x7F, 7
    while True:
        pos += 1
        byte = data[pos]
        result |= (byte & 0x7F) << shift
        if byte < 0x80 or shift > 56:
            return result, pos + 1
        shift += 7


class CompactWriter:
    """Builds one TCompactProtocol message."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._last_fid = 0
        self._stack: list[int] = []

    def getvalue(self) -> bytes:
        return b"".join(self._parts)

    def message_begin(self, name: str, mtype: int, seqid: int) -> None:
        encoded = name.encode()
        self._parts.append(bytes((_PROTOCOL_ID, (mtype << 5) | _VERSION)) +
                           _varint(seqid & 0xFFFFFFFF) + _varint(len(encoded)) + encoded)

    def struct_begin(self) -> None:
        self._stack.append(self._last_fid)
        self._last_fid = 0

    def struct_end(self) -> None:
        self._parts.append(b"\x00")
        self._last_fid = self._stack.pop()

    def field_begin(self, ttype: int, fid: int) -> None:
        wire = _TO_WIRE[TType(ttype)]
        delta = fid - self._last_fid
        if 0 < delta <= 15:
            self._parts.append(bytes(((delta << 4) | wire,)))
        else:
            self._parts.append(bytes((wire,)) + _varint(((fid << 1) ^ (fid >> 15)) & 0xFFFF))
        self._last_fid = fid

    def map_begin(self, ktype: int, vtype: int, size: int) -> None:
        if size == 0:
            self._parts.append(b"\x00")
        else:
            kv = (_TO_WIRE[TType(ktype)] << 4) | _TO_WIRE[TType(vtype)]
            self._parts.append(_varint(size) + bytes((kv,)))

    def list_begin(self, etype: int, size: int) -> None:
        wire = _TO_WIRE[TType(etype)]
        if size < 15:
            self._parts.append(bytes(((size << 4) | wire,)))
        else:
            self._parts.append(bytes((0xF0 | wire,)) + _varint(size))

    def write_i32(self, value: int) -> None:
        self._parts.append(_varint(_zigzag32(value)))

    def write_binary(self, value: bytes) -> None:
        self._parts.append(_varint(len(value)))
        self._parts.append(value)

    def write_string(self, value: str) -> None:
        self.write_binary(value.encode())

    def write_event(self, headers: dict[str, str], body: bytes) -> None:
        """A ThriftFlumeEvent at once (the same bytes as the field-by-field calls)."""
        parts = self._parts
        if headers:
            parts.append(b"\x1b" + _varint(len(headers)) + b"\x88")  # 1: map<binary, binary>
            for key, value in headers.items():
                k, v = key.encode(), value.encode()
                parts += (_varint(len(k)), k, _varint(len(v)), v)
        else:
            parts.append(b"\x1b\x00")
        parts += (b"\x18", _varint(len(body)), body, b"\x00")  # 2: binary, then stop


class CompactReader:
    """Reads one TCompactProtocol message payload.

    Args:
        data: the frame's payload.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self._last_fid = 0
        self._stack: list[int] = []
        self._bool: bool | None = None

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def _byte(self) -> int:
        pos = self._pos
        if pos >= len(self._data):
            raise ThriftRpcError("truncated Thrift compact message")
        self._pos = pos + 1
        return self._data[pos]

    def _varint(self) -> int:
        data, pos = self._data, self._pos
        result = shift = 0
        while True:
            if pos >= len(data):
                raise ThriftRpcError("truncated Thrift compact message (in a varint)")
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                self._pos = pos
                return result
            shift += 7
            if shift > 63:
                raise ThriftRpcError("malformed Thrift compact varint (more than 10 bytes)")

    def _zigzag(self) -> int:
        n = self._varint()
        return (n >> 1) ^ -(n & 1)

    def _take(self, size: int) -> bytes:
        pos = self._pos
        if size > len(self._data) - pos:
            msg = f"truncated Thrift compact message: {size} bytes announced, " \
                  f"{len(self._data) - pos} left"
            raise ThriftRpcError(msg)
        self._pos = pos + size
        return self._data[pos:pos + size]

    def _size(self, size: int) -> int:
        if size > self.remaining():
            msg = f"malformed Thrift container: {size} elements in {self.remaining()} bytes"
            raise ThriftRpcError(msg)
        return size

    def message_begin(self) -> tuple[str, int, int]:
        first = self._byte()
        if first != _PROTOCOL_ID:
            kind = "a binary-protocol" if first == 0x80 else "not a compact-protocol"
            msg = (f"{kind} message (first byte 0x{first:02x}, compact starts with 0x82); "
                   f"set protocol = binary or compact on both sides alike")
            raise ProtocolMismatchError(msg)
        second = self._byte()
        if second & 0x1F != _VERSION:
            raise ThriftRpcError(f"unsupported Thrift compact version {second & 0x1F}")
        seqid = self._varint() & 0xFFFFFFFF
        if seqid >= 1 << 31:
            seqid -= 1 << 32
        return self.read_string(), second >> 5, seqid

    def struct_begin(self) -> None:
        self._stack.append(self._last_fid)
        self._last_fid = 0

    def struct_end(self) -> None:
        self._last_fid = self._stack.pop()

    def field_begin(self) -> tuple[int, int]:
        byte = self._byte()
        if byte == 0:
            return TType.STOP, 0
        wire, delta = byte & 0x0F, byte >> 4
        fid = self._last_fid + delta if delta else self._zigzag()
        ttype = self._type(wire)
        self._bool = (wire == 1) if ttype == TType.BOOL else None
        self._last_fid = fid
        return ttype, fid

    def _type(self, wire: int) -> int:
        try:
            return _FROM_WIRE[wire]
        except KeyError:
            raise ThriftRpcError(f"unknown Thrift compact type {wire}") from None

    def map_begin(self) -> tuple[int, int, int]:
        size = self._size(self._varint())
        if size == 0:
            return TType.STOP, TType.STOP, 0
        kv = self._byte()
        return self._type(kv >> 4), self._type(kv & 0x0F), size

    def list_begin(self) -> tuple[int, int]:
        header = self._byte()
        size = header >> 4
        if size == 15:
            size = self._varint()
        return self._type(header & 0x0F), self._size(size)

    def read_i32(self) -> int:
        return self._zigzag()

    def read_binary(self) -> bytes:
        return self._take(self._varint())

    def read_string(self) -> str:
        return self.read_binary().decode(errors="replace")

    def read_event(self) -> tuple[dict[str, str], bytes] | None:
        """A ThriftFlumeEvent laid out as Flume writes it, or None (nothing consumed) when
        it is laid out otherwise, or is broken: the field-by-field reader then takes over."""
        data, pos, end = self._data, self._pos, len(self._data)
        try:
            if data[pos] != 0x1B:
                return None
            size, pos = _varint_at(data, pos + 1)
            headers = {}
            if size:
                if data[pos] != 0x88:
                    return None
                pos += 1
                for _ in range(size):
                    n, pos = _varint_at(data, pos)
                    key = data[pos:pos + n].decode(errors="replace")
                    n, pos = _varint_at(data, pos + n)
                    headers[key] = data[pos:pos + n].decode(errors="replace")
                    pos += n
            if data[pos] != 0x18:
                return None
            n, pos = _varint_at(data, pos + 1)
            body = data[pos:pos + n]
            pos += n
            if pos >= end or data[pos] != 0:
                return None
        except IndexError:
            return None
        self._pos = pos + 1
        return headers, body

    def skip(self, ttype: int) -> None:
        skip(self, ttype)

    def skip_scalar(self, ttype: int) -> None:
        if ttype == TType.BOOL:
            if self._bool is None:  # in a container: one byte; in a field: in its header
                self._byte()
            self._bool = None
        elif ttype == TType.STRING:
            self.read_binary()
        elif ttype in _VARINT_TYPES:
            self._varint()
        elif ttype in _FIXED_SIZE:
            self._take(_FIXED_SIZE[TType(ttype)])
        else:
            raise ThriftRpcError(f"cannot skip Thrift type {ttype}")
