"""Bad input closes only the offending connection, is counted, and never exhausts memory."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from flume_rpc_avro import AvroRpcClient
from flume_rpc_avro._framing import encode_frame
from flume_rpc_avro._protocol import PROTOCOL_MD5, encode_call, encode_handshake_request
from flume_rpc_avro.source import AvroSource
from flume_testkit import closed_by_peer, take_all, wait_until

from flume_sdk import Channel

StartSource = Callable[..., AvroSource]
GOOD_HEAD, GOOD_PARAMS = encode_call("appendBatch", [{"headers": {"a": "b"}, "body": b"hi"}])
GOOD_FRAME = encode_frame(1, [encode_handshake_request(None, PROTOCOL_MD5) + GOOD_HEAD,
                              GOOD_PARAMS])


def _wait_for_count(source: AvroSource, name: str, value: int, timeout: float = 5.0) -> int:
    wait_until(lambda: source.counter.get(name) >= value, timeout=timeout, what=f"{name} >= {value}")
    return source.counter.get(name)


def _still_serves(source: AvroSource, channel: Channel) -> bool:
    with AvroRpcClient("127.0.0.1", source.port, request_timeout=5) as client:
        client.append({"headers": {}, "body": b"after"})
    return [e.body for e in take_all(channel)] == [b"after"]


def _send(source: AvroSource, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", source.port), timeout=5)
    sock.sendall(data)
    return sock


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="http-request"),
        pytest.param(encode_frame(1, [b"\xff" * 40]), id="garbage-payload"),
        pytest.param(encode_frame(1, [GOOD_FRAME[12:40]]), id="truncated-payload"),
        pytest.param(bytes.fromhex("00000001ffffffff"), id="negative-buffer-count"),
    ],
)
def test_garbage_closes_the_connection_and_counts_a_read_failure(
    start_source: StartSource, channel: Channel, data: bytes
) -> None:
    source = start_source(channel)
    with _send(source, data) as sock:
        assert closed_by_peer(sock)
    assert _wait_for_count(source, "EventReadFail", 1) == 1
    assert _still_serves(source, channel)


def test_truncated_frame_then_disconnect_is_counted(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel)
    with _send(source, GOOD_FRAME[:30]):
        pass
    assert _wait_for_count(source, "EventReadFail", 1) == 1
    assert take_all(channel) == []


def test_oversized_frame_is_refused_before_its_bytes_arrive(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, **{"max-frame-size": "4096"})
    header = bytes.fromhex("00000001" "00000001") + (1 << 30).to_bytes(4, "big")
    with _send(source, header) as sock:
        assert closed_by_peer(sock)
    assert _wait_for_count(source, "EventReadFail", 1) == 1
    assert _still_serves(source, channel)


def test_handshake_for_a_different_protocol_closes_the_connection(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel)
    other = b'{"protocol":"Mail","messages":{"send":{"request":[],"response":"null"}}}'
    handshake = b"\x11" * 16 + b"\x02" + bytes([len(other) * 2]) + other
    handshake += PROTOCOL_MD5 + b"\x02\x00"
    with _send(source, encode_frame(1, [handshake + b"\x00\x08send"])) as sock:
        assert closed_by_peer(sock)
    assert _wait_for_count(source, "EventReadFail", 1) == 1
    assert _still_serves(source, channel)


def test_client_stalling_mid_frame_is_disconnected(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, **{"frame-timeout": "0.3"})
    with _send(source, GOOD_FRAME[:-5]) as sock:
        assert closed_by_peer(sock, timeout=5.0)
    assert _wait_for_count(source, "EventReadFail", 1) == 1
    assert _still_serves(source, channel)


def test_idle_connection_between_frames_is_kept(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, **{"frame-timeout": "0.1"})
    with AvroRpcClient("127.0.0.1", source.port) as client:
        client.append({"headers": {}, "body": b"1"})
        time.sleep(0.3)  # idle longer than frame-timeout, between frames: allowed
        client.append({"headers": {}, "body": b"2"})
    assert [e.body for e in take_all(channel)] == [b"1", b"2"]


def test_plain_bytes_to_a_deflate_source_close_the_connection(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, **{"compression-type": "deflate"})
    with _send(source, GOOD_FRAME) as sock:
        assert closed_by_peer(sock)
    assert _wait_for_count(source, "EventReadFail", 1) == 1


def test_unknown_message_gets_an_error_reply_and_the_connection_stays(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel)
    request = encode_handshake_request(None, PROTOCOL_MD5) + b"\x00\x14frobnicate"
    with _send(source, encode_frame(1, [request])) as sock:
        sock.settimeout(5)
        reply = sock.recv(65536)
    assert b"No such remote message: frobnicate" in reply
