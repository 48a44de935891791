"""Thrift's type ids, message types and the reader/writer interface both protocols share.

The ids are TBinaryProtocol's (``TType``); TCompactProtocol maps them to its own on the
wire. The message layer (``_messages``) is written once against :class:`ProtocolReader`
and :class:`ProtocolWriter`, so it never knows which protocol it speaks.
"""

from __future__ import annotations

import enum
from typing import Protocol

from flume_rpc_thrift._errors import ThriftRpcError

__all__ = ["MAX_DEPTH", "MessageType", "ProtocolReader", "ProtocolWriter", "TType", "skip"]

MAX_DEPTH = 64
"""Nesting deeper than this in skipped data is refused (a hostile peer could recurse)."""


class TType(enum.IntEnum):
    """Thrift's field and element types."""

    STOP = 0
    BOOL = 2
    BYTE = 3
    DOUBLE = 4
    I16 = 6
    I32 = 8
    I64 = 10
    STRING = 11
    STRUCT = 12
    MAP = 13
    SET = 14
    LIST = 15
    UUID = 16


class MessageType(enum.IntEnum):
    """The kinds of Thrift message."""

    CALL = 1
    REPLY = 2
    EXCEPTION = 3
    ONEWAY = 4


class ProtocolReader(Protocol):
    """Reads one message payload; every method raises ``ThriftRpcError`` on bad bytes."""

    def message_begin(self) -> tuple[str, int, int]:
        """Return (name, message type, seqid)."""

    def struct_begin(self) -> None: ...

    def struct_end(self) -> None: ...

    def field_begin(self) -> tuple[int, int]:
        """Return (type, field id); type ``TType.STOP`` ends the struct."""

    def map_begin(self) -> tuple[int, int, int]:
        """Return (key type, value type, size)."""

    def list_begin(self) -> tuple[int, int]:
        """Return (element type, size)."""

    def read_i32(self) -> int: ...

    def read_binary(self) -> bytes: ...

    def read_string(self) -> str: ...

    def read_event(self) -> tuple[dict[str, str], bytes] | None:
        """Fast path: (headers, body) of a ThriftFlumeEvent in Flume's layout, or None."""

    def skip(self, ttype: int) -> None:
        """Skip one value of ``ttype`` (a field this side does not know)."""

    def skip_scalar(self, ttype: int) -> None:
        """Skip one value of a type that is not a struct or container."""

    def remaining(self) -> int:
        """Bytes left unread in the payload."""


class ProtocolWriter(Protocol):
    """Builds one message payload."""

    def message_begin(self, name: str, mtype: int, seqid: int) -> None: ...

    def struct_begin(self) -> None: ...

    def struct_end(self) -> None:
        """Write the stop byte and leave the struct."""

    def field_begin(self, ttype: int, fid: int) -> None: ...

    def map_begin(self, ktype: int, vtype: int, size: int) -> None: ...

    def list_begin(self, etype: int, size: int) -> None: ...

    def write_i32(self, value: int) -> None: ...

    def write_binary(self, value: bytes) -> None: ...

    def write_string(self, value: str) -> None: ...

    def write_event(self, headers: dict[str, str], body: bytes) -> None:
        """A whole ThriftFlumeEvent, as the field-by-field calls would write it."""

    def getvalue(self) -> bytes: ...


def skip(r: ProtocolReader, ttype: int, depth: int = 0) -> None:
    """Skip one value of ``ttype``, structs and containers included, at most MAX_DEPTH deep."""
    if depth > MAX_DEPTH:
        raise ThriftRpcError(f"Thrift data nested deeper than {MAX_DEPTH} levels")
    if ttype == TType.STRUCT:
        r.struct_begin()
        while (field := r.field_begin())[0] != TType.STOP:
            skip(r, field[0], depth + 1)
        r.struct_end()
    elif ttype == TType.MAP:
        ktype, vtype, size = r.map_begin()
        for _ in range(size):
            skip(r, ktype, depth + 1)
            skip(r, vtype, depth + 1)
    elif ttype in (TType.LIST, TType.SET):
        etype, size = r.list_begin()
        for _ in range(size):
            skip(r, etype, depth + 1)
    else:
        r.skip_scalar(ttype)
