"""The wire format, byte for byte: flume-rpc.md §2.4 and the Apache Thrift library both ways."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from flume_rpc_thrift import (
    FrameTooLargeError,
    ProtocolMismatchError,
    ThriftRpcError,
    ThriftStatus,
    UnknownMethodError,
    codec,
)
from flume_rpc_thrift._framing import FrameDecoder, encode_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from thrift.protocol.TBase import TBase
from thrift.Thrift import TMessageType, TType
from thrift.transport import TTransport

from flume_sdk import Event

from ._library_peer import (
    AppendArgs,
    AppendBatchArgs,
    StatusResult,
    ThriftFlumeEvent,
    protocol_factory,
)

ONE = [Event(body=b"hi", headers={"a": "b"})]
DOC_COMPACT_CALL = "0000001e8221010b617070656e644261746368191c1b018801610162180268690000"
DOC_COMPACT_REPLY = "00000013" "8241010b617070656e644261746368" "05000000"
DOC_BINARY_CALL = ("0000003d800100010000000b617070656e644261746368000000010f00010c00000001"
                   "0d00010b0b00000001000000016100000001620b0002000000026869" "0000")
EDGE_EVENTS = [
    Event(body=b"", headers={}),
    Event(body=b"\x00\xff" * 3000, headers={"k": ""}),
    Event(body="é😀".encode(), headers={"ключ": "値", "": "empty key"}),
    Event(body=b"x", headers={f"h{i}": str(i) for i in range(20)}),
]
PROTOCOLS = ["compact", "binary"]


def _frame(method: str, payload: bytes) -> str:
    return encode_frame(payload).hex()


# -- flume-rpc.md §2.4 -------------------------------------------------------------------------


def test_compact_append_batch_matches_the_reference_bytes() -> None:
    assert _frame("appendBatch", codec("compact").encode_call("appendBatch", 1, ONE)) == \
        DOC_COMPACT_CALL


def test_compact_ok_reply_matches_the_reference_bytes() -> None:
    reply = codec("compact").encode_reply("appendBatch", 1, ThriftStatus.OK)
    assert encode_frame(reply).hex() == DOC_COMPACT_REPLY


def test_binary_append_batch_matches_the_reference_bytes() -> None:
    assert _frame("appendBatch", codec("binary").encode_call("appendBatch", 1, ONE)) == \
        DOC_BINARY_CALL


@pytest.mark.parametrize("protocol,frame", [("compact", DOC_COMPACT_CALL),
                                            ("binary", DOC_BINARY_CALL)])
def test_reference_calls_decode_to_the_event(protocol: str, frame: str) -> None:
    (payload,) = FrameDecoder().feed(bytes.fromhex(frame))
    call = codec(protocol).decode_call(payload)
    assert (call.method, call.seqid, call.events) == ("appendBatch", 1, ONE)


def test_reference_reply_decodes_to_ok() -> None:
    reply = codec("compact").decode_reply(bytes.fromhex(DOC_COMPACT_REPLY)[4:])
    assert (reply.method, reply.seqid, reply.status) == ("appendBatch", 1, ThriftStatus.OK)


# -- against the Apache Thrift library --------------------------------------------------------


def _library_read(protocol: str, payload: bytes) -> tuple[str, int, int, Any]:
    prot = protocol_factory(protocol).getProtocol(TTransport.TMemoryBuffer(payload))
    name, mtype, seqid = prot.readMessageBegin()
    body: TBase = (AppendArgs() if name == "append" else AppendBatchArgs()
                   if mtype == TMessageType.CALL else StatusResult())
    body.read(prot)
    prot.readMessageEnd()
    return name, mtype, seqid, body


def _library_write(protocol: str, name: str, mtype: int, seqid: int, body: TBase) -> bytes:
    buffer = TTransport.TMemoryBuffer()
    prot = protocol_factory(protocol).getProtocol(buffer)
    prot.writeMessageBegin(name, mtype, seqid)
    body.write(prot)
    prot.writeMessageEnd()
    return buffer.getvalue()


def _library_events(events: list[Event]) -> list[ThriftFlumeEvent]:
    return [ThriftFlumeEvent(headers=e.headers, body=e.body) for e in events]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_library_decodes_our_append_batch(protocol: str) -> None:
    payload = codec(protocol).encode_call("appendBatch", 7, EDGE_EVENTS)
    name, mtype, seqid, args = _library_read(protocol, payload)
    assert (name, mtype, seqid) == ("appendBatch", TMessageType.CALL, 7)
    assert args.events == _library_events(EDGE_EVENTS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_library_decodes_our_append(protocol: str) -> None:
    payload = codec(protocol).encode_call("append", 2**31 - 1, EDGE_EVENTS[2:3])
    name, _, seqid, args = _library_read(protocol, payload)
    assert (name, seqid, args.event) == ("append", 2**31 - 1, _library_events(EDGE_EVENTS)[2])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_we_decode_the_library_append_batch(protocol: str) -> None:
    payload = _library_write(protocol, "appendBatch", TMessageType.CALL, 3,
                             AppendBatchArgs(events=_library_events(EDGE_EVENTS)))
    call = codec(protocol).decode_call(payload)
    assert (call.method, call.seqid, call.events) == ("appendBatch", 3, EDGE_EVENTS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("status", list(ThriftStatus))
def test_replies_agree_with_the_library(protocol: str, status: ThriftStatus) -> None:
    ours = codec(protocol).encode_reply("append", 9, status)
    assert ours == _library_write(protocol, "append", TMessageType.REPLY, 9,
                                  StatusResult(success=int(status)))
    reply = codec(protocol).decode_reply(ours)
    assert (reply.method, reply.seqid, reply.status) == ("append", 9, status)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unknown_method_exception_is_read_by_the_library(protocol: str) -> None:
    from thrift.Thrift import TApplicationException

    payload = codec(protocol).encode_exception("frob", 4, "no frob here")
    prot = protocol_factory(protocol).getProtocol(TTransport.TMemoryBuffer(payload))
    assert prot.readMessageBegin() == ("frob", TMessageType.EXCEPTION, 4)
    error = TApplicationException()
    error.read(prot)
    assert (error.type, error.message) == (TApplicationException.UNKNOWN_METHOD, "no frob here")


class _EventWithExtras(TBase):
    """ThriftFlumeEvent as a newer peer might send it: unknown fields of every type."""

    __slots__ = (
        "big",
        "body",
        "flag",
        "flags",
        "headers",
        "ids",
        "nested",
        "ratio",
        "small",
        "tags",
        "uuid",
    )
    thrift_spec = (
        None,
        (1, TType.MAP, "headers", (TType.STRING, "UTF8", TType.STRING, "UTF8", False), None),
        (2, TType.STRING, "body", "BINARY", None),
        (3, TType.BOOL, "flag", None, None),
        (4, TType.BYTE, "small", None, None),
        (5, TType.I64, "big", None, None),
        (6, TType.DOUBLE, "ratio", None, None),
        (7, TType.LIST, "tags", (TType.STRING, "UTF8", False), None),
        (8, TType.SET, "ids", (TType.I16, None, False), None),
        (9, TType.STRUCT, "nested", [ThriftFlumeEvent, None], None),
        (10, TType.LIST, "flags", (TType.BOOL, None, False), None),
        *([None] * 20),
        (31, TType.UUID, "uuid", None, None),
    )

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unknown_fields_of_every_type_are_skipped(protocol: str) -> None:
    import uuid

    event = _EventWithExtras(
        flag=True, small=-5, headers={"a": "b"}, body=b"hi", big=-(2**60), ratio=0.25,
        tags=["x"] * 20, ids={1, -300}, nested=ThriftFlumeEvent(headers={}, body=b"n"),
        flags=[True, False], uuid=uuid.UUID(int=12345))

    class Args(TBase):
        __slots__ = ("events",)
        thrift_spec = (None, (1, TType.LIST, "events",
                              (TType.STRUCT, [_EventWithExtras, None], False), None))

        def __init__(self, events: Any = None) -> None:
            self.events = events

    payload = _library_write(protocol, "appendBatch", TMessageType.CALL, 1,
                             Args(events=[event, event]))
    assert codec(protocol).decode_call(payload).events == ONE * 2


# -- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_truncation_is_a_protocol_error(protocol: str) -> None:
    payload = codec(protocol).encode_call("appendBatch", 1, EDGE_EVENTS)
    for cut in range(len(payload) - 1):
        with pytest.raises(ThriftRpcError):
            codec(protocol).decode_call(payload[:cut])


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200), protocol=st.sampled_from(PROTOCOLS))
def test_random_bytes_never_raise_anything_but_a_protocol_error(data: bytes,
                                                                protocol: str) -> None:
    with contextlib.suppress(ThriftRpcError):
        codec(protocol).decode_call(data)


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), value=st.integers(0, 255),
       protocol=st.sampled_from(PROTOCOLS))
def test_corrupted_calls_never_raise_anything_but_a_protocol_error(
    position: int, value: int, protocol: str
) -> None:
    payload = bytearray(codec(protocol).encode_call("appendBatch", 1, EDGE_EVENTS))
    payload[position % len(payload)] = value
    with contextlib.suppress(ThriftRpcError):
        codec(protocol).decode_call(bytes(payload))


def test_unknown_method_is_named_with_its_seqid() -> None:
    payload = _library_write("compact", "frobnicate", TMessageType.CALL, 5,
                             AppendBatchArgs(events=[]))
    with pytest.raises(UnknownMethodError) as caught:
        codec("compact").decode_call(payload)
    assert (caught.value.method, caught.value.seqid) == ("frobnicate", 5)


@pytest.mark.parametrize("sent,configured", [("binary", "compact"), ("compact", "binary")])
def test_the_other_protocol_is_refused_with_the_fix(sent: str, configured: str) -> None:
    payload = codec(sent).encode_call("append", 1, ONE)
    with pytest.raises(ProtocolMismatchError, match="protocol = binary or compact"):
        codec(configured).decode_call(payload)


def test_binary_reads_the_old_non_strict_message_header() -> None:
    strict = codec("binary").encode_call("append", 6, ONE)
    name = b"append"
    old = len(name).to_bytes(4, "big") + name + bytes([TMessageType.CALL]) + strict[-(
        len(strict) - 4 - 4 - len(name)):]
    assert codec("binary").decode_call(old).events == ONE


# -- framing ----------------------------------------------------------------------------------


def test_frames_are_found_whatever_the_chunking() -> None:
    stream = b"".join(encode_frame(bytes([n]) * n) for n in range(1, 40))
    decoder, frames = FrameDecoder(), []
    for i in range(0, len(stream), 7):
        frames += decoder.feed(stream[i:i + 7])
    assert frames == [bytes([n]) * n for n in range(1, 40)]
    assert not decoder.has_partial_frame


def test_oversized_frame_is_refused_from_its_length_word() -> None:
    with pytest.raises(FrameTooLargeError, match="max-frame-size"):
        FrameDecoder(4096).feed((4097).to_bytes(4, "big"))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unframed_message_is_named(protocol: str) -> None:
    with pytest.raises(ProtocolMismatchError, match="TFramedTransport"):
        FrameDecoder().feed(codec(protocol).encode_call("append", 1, ONE))


_events = st.lists(st.builds(Event, body=st.binary(max_size=300),
                             headers=st.dictionaries(st.text(max_size=20), st.text(max_size=40),
                                                     max_size=20)), max_size=20)


@settings(max_examples=100, deadline=None)
@given(events=_events, protocol=st.sampled_from(PROTOCOLS))
def test_any_events_round_trip_and_the_library_agrees(events: list[Event],
                                                      protocol: str) -> None:
    payload = codec(protocol).encode_call("appendBatch", 1, events)
    assert codec(protocol).decode_call(payload).events == events
    assert _library_read(protocol, payload)[3].events == _library_events(events)
    library = _library_write(protocol, "appendBatch", TMessageType.CALL, 1,
                             AppendBatchArgs(events=_library_events(events)))
    assert library == payload
