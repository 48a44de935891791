"""Flume's ``ThriftSourceProtocol`` service over either Thrift protocol.

IDL (``flume.thrift``)::

    struct ThriftFlumeEvent { 1: required map<string, string> headers,
                              2: required binary body }
    enum Status { OK, FAILED, ERROR, UNKNOWN }
    service ThriftSourceProtocol {
        Status append(1: ThriftFlumeEvent event),
        Status appendBatch(1: list<ThriftFlumeEvent> events) }

A call carries ``<method>_args`` (the parameter as field 1); a reply carries
``<method>_result`` (``success``, the status, as field 0); an unknown method is
answered with a ``TApplicationException`` (message type EXCEPTION).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from flume_rpc_thrift._binary import BinaryReader, BinaryWriter
from flume_rpc_thrift._compact import CompactReader, CompactWriter
from flume_rpc_thrift._errors import ThriftRpcError, UnknownMethodError
from flume_rpc_thrift._ttypes import MessageType, ProtocolReader, ProtocolWriter, TType
from flume_sdk import Event

__all__ = [
    "METHODS",
    "PROTOCOLS",
    "Call",
    "Codec",
    "HasHeadersAndBody",
    "Reply",
    "ThriftStatus",
    "codec",
]

METHODS = ("append", "appendBatch")
PROTOCOLS = ("compact", "binary")
_UNKNOWN_METHOD = 1  # TApplicationException.UNKNOWN_METHOD


class ThriftStatus(enum.IntEnum):
    """Flume's Thrift ``Status`` enum (it has ``ERROR``, which the Avro one lacks)."""

    OK = 0
    FAILED = 1
    ERROR = 2
    UNKNOWN = 3


class HasHeadersAndBody(Protocol):
    headers: dict[str, str]
    body: bytes


@attrs.frozen
class Call:
    """A decoded request: ``append`` carries one event, ``appendBatch`` several."""

    method: str
    seqid: int
    events: list[Event]


@attrs.frozen
class Reply:
    """A decoded answer: a status, or the text of an application exception."""

    method: str
    seqid: int
    status: ThriftStatus | None
    exception: str | None = None


@attrs.frozen
class Codec:
    """One Thrift protocol's reader and writer factories."""

    name: str
    reader: Callable[[bytes], ProtocolReader]
    writer: Callable[[], ProtocolWriter]

    def encode_call(self, method: str, seqid: int, events: Sequence[HasHeadersAndBody]) -> bytes:
        """``append`` (exactly one event) or ``appendBatch``, as a message payload."""
        w = self.writer()
        w.message_begin(method, MessageType.CALL, seqid)
        w.struct_begin()
        if method == "append":
            w.field_begin(TType.STRUCT, 1)
            _write_event(w, events[0])
        else:
            w.field_begin(TType.LIST, 1)
            w.list_begin(TType.STRUCT, len(events))
            for event in events:
                _write_event(w, event)
        w.struct_end()
        return w.getvalue()

    def decode_call(self, payload: bytes) -> Call:
        """Decode a request.

        Raises:
            UnknownMethodError: a method other than append/appendBatch.
            ThriftRpcError: anything else that is not a valid call.
        """
        r = self.reader(payload)
        method, mtype, seqid = r.message_begin()
        if mtype != MessageType.CALL:
            raise ThriftRpcError(f"expected a Thrift CALL message, got type {mtype}")
        if method not in METHODS:
            raise UnknownMethodError(method, seqid)
        events = _read_args(r, method)
        _expect_end(r, method)
        return Call(method, seqid, events)

    def encode_reply(self, method: str, seqid: int, status: ThriftStatus) -> bytes:
        """``<method>_result`` with ``success = status``."""
        w = self.writer()
        w.message_begin(method, MessageType.REPLY, seqid)
        w.struct_begin()
        w.field_begin(TType.I32, 0)
        w.write_i32(status)
        w.struct_end()
        return w.getvalue()

    def encode_exception(self, method: str, seqid: int, text: str) -> bytes:
        """A ``TApplicationException`` of type UNKNOWN_METHOD."""
        w = self.writer()
        w.message_begin(method, MessageType.EXCEPTION, seqid)
        w.struct_begin()
        w.field_begin(TType.STRING, 1)
        w.write_string(text)
        w.field_begin(TType.I32, 2)
        w.write_i32(_UNKNOWN_METHOD)
        w.struct_end()
        return w.getvalue()

    def decode_reply(self, payload: bytes) -> Reply:
        """Decode an answer; raises ``ThriftRpcError`` when it is not one."""
        r = self.reader(payload)
        method, mtype, seqid = r.message_begin()
        if mtype == MessageType.EXCEPTION:
            return Reply(method, seqid, None, _read_exception(r))
        if mtype != MessageType.REPLY:
            raise ThriftRpcError(f"expected a Thrift REPLY message, got type {mtype}")
        return Reply(method, seqid, _read_status(r, method))


def codec(protocol: str) -> Codec:
    """The codec for ``compact`` or ``binary`` (any case)."""
    if protocol.lower() == "binary":
        return Codec("binary", BinaryReader, BinaryWriter)
    if protocol.lower() == "compact":
        return Codec("compact", CompactReader, CompactWriter)
    raise ValueError(f"unknown Thrift protocol {protocol!r}; use one of {PROTOCOLS}")


def _write_event(w: ProtocolWriter, event: HasHeadersAndBody) -> None:
    w.write_event(event.headers, event.body)


FieldReaders = Mapping[tuple[int, int], Callable[[ProtocolReader], Any]]


def _read_struct(r: ProtocolReader, readers: FieldReaders) -> dict[int, Any]:
    """Read a struct: ``readers[(field id, type)]`` reads a known field; others are skipped."""
    values = {}
    r.struct_begin()
    while True:
        ttype, fid = r.field_begin()
        if ttype == TType.STOP:
            break
        read = readers.get((fid, ttype))
        if read is None:
            r.skip(ttype)
        else:
            values[fid] = read(r)
    r.struct_end()
    return values


def _read_args(r: ProtocolReader, method: str) -> list[Event]:
    readers = _APPEND_ARGS if method == "append" else _APPEND_BATCH_ARGS
    args = _read_struct(r, readers)
    if 1 not in args:
        raise ThriftRpcError(f"Thrift {method} call without its argument (field 1)")
    events: list[Event] = args[1]
    return events


def _read_event_list(r: ProtocolReader) -> list[Event]:
    etype, size = r.list_begin()
    if size and etype != TType.STRUCT:
        raise ThriftRpcError(f"appendBatch: expected a list of ThriftFlumeEvent, got type {etype}")
    return [_read_event(r) for _ in range(size)]


def _read_event(r: ProtocolReader) -> Event:
    fast = r.read_event()
    if fast is not None:
        return Event(body=fast[1], headers=fast[0])
    fields = _read_struct(r, _EVENT_FIELDS)
    try:
        return Event(body=fields[2], headers=fields[1])
    except KeyError:
        missing = "headers" if 1 not in fields else "body"
        raise ThriftRpcError(f"ThriftFlumeEvent without its required field {missing!r}") from None


def _read_headers(r: ProtocolReader) -> dict[str, str]:
    ktype, vtype, size = r.map_begin()
    if size and (ktype != TType.STRING or vtype != TType.STRING):
        raise ThriftRpcError(f"ThriftFlumeEvent headers: expected map<string,string>, got "
                             f"key type {ktype} and value type {vtype}")
    read = r.read_string
    return {read(): read() for _ in range(size)}


def _read_status(r: ProtocolReader, method: str) -> ThriftStatus:
    status = _read_struct(r, _RESULT_FIELDS).get(0)
    if status is None:
        raise ThriftRpcError(f"Thrift {method} reply without a result (MISSING_RESULT)")
    try:
        return ThriftStatus(status)
    except ValueError:
        raise ThriftRpcError(f"Thrift {method} reply with unknown status {status}") from None


def _read_exception(r: ProtocolReader) -> str:
    fields = _read_struct(r, _EXCEPTION_FIELDS)
    return f"TApplicationException (type {fields.get(2, 0)}): {fields.get(1, '')}"


_EVENT_FIELDS: FieldReaders = {(1, TType.MAP): _read_headers,
                               (2, TType.STRING): lambda r: r.read_binary()}
_APPEND_ARGS: FieldReaders = {(1, TType.STRUCT): lambda r: [_read_event(r)]}
_APPEND_BATCH_ARGS: FieldReaders = {(1, TType.LIST): _read_event_list}
_RESULT_FIELDS: FieldReaders = {(0, TType.I32): lambda r: r.read_i32()}
_EXCEPTION_FIELDS: FieldReaders = {(1, TType.STRING): lambda r: r.read_string(),
                                   (2, TType.I32): lambda r: r.read_i32()}


def _expect_end(r: ProtocolReader, method: str) -> None:
    if r.remaining():
        raise ThriftRpcError(f"{r.remaining()} unexpected byte(s) after the Thrift {method} call")
