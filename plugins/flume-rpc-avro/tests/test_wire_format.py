"""The protocol layer reproduces the worked byte dumps of reference/flume-rpc.md §1.7."""

from __future__ import annotations

import io
import zlib

import pytest
from flume_rpc_avro._compression import Deflater, Inflater
from flume_rpc_avro._errors import AvroRpcError, FrameTooLargeError, ProtocolMismatchError
from flume_rpc_avro._framing import FrameDecoder, encode_frame
from flume_rpc_avro._protocol import (
    PROTOCOL_JSON,
    PROTOCOL_MD5,
    AvroStatus,
    HandshakeMatch,
    check_flume_protocol,
    decode_handshake_response,
    decode_response_body,
    encode_call,
    encode_handshake_request,
    encode_handshake_response,
    encode_response_body,
)
from flume_rpc_avro._session import ServerSession

HASH = "86aadae2c45474c0fe93ffd0f2350a65"
FIRST_FRAME = bytes.fromhex(
    "00000001000000020000003086aadae2c45474c0fe93ffd0f2350a650086aadae2c45474c0fe93ffd0f2350a65"
    "02000016617070656e6442617463680000000b0202026102620004686900"
)
FIRST_REPLY = bytes.fromhex("00000001" "00000003" "0000000400000000" "0000000100" "000000020000")
SECOND_FRAME = bytes.fromhex(
    "00000002000000020000000d0016617070656e6442617463680000000b0202026102620004686900"
)
SECOND_REPLY = bytes.fromhex("0000000200000003000000000000000100000000020000")
EVENT = {"headers": {"a": "b"}, "body": b"hi"}


def _first_request() -> bytes:
    head, params = encode_call("appendBatch", [EVENT])
    return encode_frame(1, [encode_handshake_request(None, PROTOCOL_MD5) + head, params])


def test_protocol_md5_matches_java_flume() -> None:
    assert PROTOCOL_MD5.hex() == HASH


def test_protocol_text_is_compact_json_with_licence_doc() -> None:
    assert PROTOCOL_JSON.startswith('{"protocol":"AvroSourceProtocol","namespace":')
    assert '"doc":"* Licensed to the Apache' in PROTOCOL_JSON
    assert " " not in PROTOCOL_JSON.split('"types"')[1]


def test_first_append_batch_frame_matches_the_worked_example() -> None:
    assert _first_request() == FIRST_FRAME


def test_connected_append_batch_frame_matches_the_worked_example() -> None:
    head, params = encode_call("appendBatch", [EVENT])
    assert encode_frame(2, [head, params]) == SECOND_FRAME


def test_server_answers_first_request_with_both_and_ok() -> None:
    session = ServerSession({PROTOCOL_MD5})
    ((serial, payload),) = FrameDecoder().feed(FIRST_FRAME)
    call = session.decode(payload)
    assert call.events == [EVENT]
    assert encode_frame(serial, call.reply(AvroStatus.OK)) == FIRST_REPLY


def test_server_expects_no_handshake_once_connected() -> None:
    session = ServerSession({PROTOCOL_MD5})
    decoder = FrameDecoder()
    session.decode(decoder.feed(FIRST_FRAME)[0][1])
    ((serial, payload),) = decoder.feed(SECOND_FRAME)
    assert encode_frame(serial, session.decode(payload).reply(AvroStatus.OK)) == SECOND_REPLY


def test_unknown_client_hash_without_text_gets_none_with_server_protocol() -> None:
    session = ServerSession({PROTOCOL_MD5})
    head, _ = encode_call("append", [EVENT])
    request = b"\x11" * 16 + b"\x00" + PROTOCOL_MD5 + b"\x02\x00" + head
    call = session.decode(request)
    response = decode_handshake_response(io.BytesIO(call.reply(AvroStatus.OK)[0]))
    assert (response.match, response.server_protocol, response.server_hash) == (
        HandshakeMatch.NONE,
        PROTOCOL_JSON,
        PROTOCOL_MD5,
    )
    assert not session.connected


def test_unknown_client_hash_with_flume_protocol_text_connects() -> None:
    session = ServerSession({PROTOCOL_MD5})
    head, params = encode_call("append", [EVENT])
    other_text = PROTOCOL_JSON.replace("Licensed", "licensed")
    request = b"\x22" * 16 + b"\x02" + _avro_string(other_text) + PROTOCOL_MD5 + b"\x02\x00"
    call = session.decode(request + head + params)
    assert (call.message, call.events, session.connected) == ("append", [EVENT], True)


def test_wrong_server_hash_gets_client_match() -> None:
    session = ServerSession({PROTOCOL_MD5})
    head, params = encode_call("append", [EVENT])
    call = session.decode(encode_handshake_request(None, b"\x00" * 16) + head + params)
    response = decode_handshake_response(io.BytesIO(call.handshake))
    assert response.match is HandshakeMatch.CLIENT


def test_handshake_for_a_different_protocol_is_refused() -> None:
    other = '{"protocol":"Mail","messages":{"send":{"request":[],"response":"string"}}}'
    request = b"\x33" * 16 + b"\x02" + _avro_string(other) + PROTOCOL_MD5 + b"\x02\x00"
    with pytest.raises(ProtocolMismatchError, match="different Avro protocol"):
        ServerSession({PROTOCOL_MD5}).decode(request + b"\x00\x00")


def test_check_flume_protocol_accepts_fully_qualified_type_names() -> None:
    qualified = '"type":"org.apache.flume.source.avro.AvroFlumeEvent"'
    text = PROTOCOL_JSON.replace('"type":"AvroFlumeEvent"', qualified)
    check_flume_protocol(text)


def test_unknown_message_is_answered_with_a_system_error() -> None:
    session = ServerSession({PROTOCOL_MD5})
    request = encode_handshake_request(None, PROTOCOL_MD5) + b"\x00" + _avro_string("frobnicate")
    body = b"".join(session.decode(request).reply(AvroStatus.OK)[1:])
    assert decode_response_body(io.BytesIO(body)).error == "No such remote message: frobnicate"


def test_failed_status_round_trips() -> None:
    body = b"".join(encode_response_body(AvroStatus.FAILED))
    assert decode_response_body(io.BytesIO(body)).status is AvroStatus.FAILED


def test_handshake_response_none_encodes_protocol_and_hash() -> None:
    raw = encode_handshake_response(HandshakeMatch.NONE)
    assert raw[0] == 4 and raw.endswith(PROTOCOL_MD5 + b"\x00")


def test_truncated_payload_is_an_avro_rpc_error() -> None:
    with pytest.raises(AvroRpcError, match="malformed"):
        ServerSession({PROTOCOL_MD5}).decode(FIRST_FRAME[12:40])


def test_frame_decoder_reassembles_byte_by_byte_input() -> None:
    decoder = FrameDecoder()
    frames = [f for i in range(len(FIRST_FRAME)) for f in decoder.feed(FIRST_FRAME[i : i + 1])]
    assert frames == [(1, FIRST_FRAME[12:60] + FIRST_FRAME[64:])]
    assert not decoder.has_partial_frame


def test_frame_decoder_reports_a_partial_frame() -> None:
    decoder = FrameDecoder()
    decoder.feed(FIRST_FRAME[:20])
    assert decoder.has_partial_frame


def test_frame_decoder_consumes_a_partial_frame_as_it_arrives_so_decoding_is_linear() -> None:
    # 200,000 empty buffers arriving in 64 KiB reads: a decoder that re-parsed the partial
    # frame from its start on every read would do quadratic work (issue 20, item 12).
    count = 200_000
    frame = encode_frame(7, [b""] * (count - 1) + [b"payload"])
    decoder = FrameDecoder()
    frames = []
    for start in range(0, len(frame), 65536):
        frames += decoder.feed(frame[start : start + 65536])
        assert decoder.buffered < 8, "parsed bytes must not be kept for parsing again"
    assert frames == [(7, b"payload")]
    assert not decoder.has_partial_frame


def test_frame_decoder_refuses_an_oversized_buffer_before_buffering_it() -> None:
    header = bytes.fromhex("00000001" "00000001" "7fffffff")
    with pytest.raises(FrameTooLargeError, match="limit is 1024"):
        FrameDecoder(max_frame_size=1024).feed(header)


def test_frame_decoder_refuses_a_huge_buffer_count() -> None:
    with pytest.raises(FrameTooLargeError):
        FrameDecoder(max_frame_size=1024).feed(bytes.fromhex("00000001" "10000000"))


def test_frame_decoder_refuses_negative_lengths() -> None:
    with pytest.raises(AvroRpcError, match="must be >= 0"):
        FrameDecoder().feed(bytes.fromhex("00000001" "00000001" "ffffffff"))


def test_deflate_frames_are_one_zlib_stream_flushed_per_frame() -> None:
    deflater = Deflater(6)
    wire = deflater.compress(FIRST_FRAME) + deflater.compress(SECOND_FRAME)
    assert wire[:1] == b"\x78"  # zlib header, not raw deflate or gzip
    inflate = zlib.decompressobj()
    assert inflate.decompress(wire) == FIRST_FRAME + SECOND_FRAME


def test_inflater_yields_each_frame_as_soon_as_it_is_flushed() -> None:
    deflater, inflater = Deflater(6), Inflater()
    assert b"".join(inflater.decompress(deflater.compress(FIRST_FRAME))) == FIRST_FRAME


def test_inflater_bounds_each_chunk_of_a_zip_bomb() -> None:
    bomb = Deflater(9).compress(b"\x00" * 10_000_000)
    sizes = [len(chunk) for chunk in Inflater().decompress(bomb)]
    assert max(sizes) <= 64 * 1024 and sum(sizes) == 10_000_000


def test_inflater_refuses_bytes_that_are_not_zlib() -> None:
    with pytest.raises(AvroRpcError, match="compression-type"):
        list(Inflater().decompress(FIRST_FRAME))


def _avro_string(text: str) -> bytes:
    raw = text.encode()
    n = len(raw) << 1
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + raw
