"""Bad input closes only the offending connection, is counted, and never stalls the others."""

from __future__ import annotations

import socket

import pytest
from flume_rpc_thrift import ThriftRpcClient, codec
from flume_rpc_thrift._framing import encode_frame
from flume_rpc_thrift.source import ThriftSource
from flume_testkit import closed_by_peer, take_all, wait_until

from flume_sdk import Channel, Event

from .conftest import StartSource

GOOD = encode_frame(codec("compact").encode_call("appendBatch", 1, [Event(body=b"hi",
                                                                          headers={"a": "b"})]))


def _read_fails(source: ThriftSource, value: int = 1) -> int:
    wait_until(lambda: source.counter.get("EventReadFail") >= value, timeout=5.0,
               what=f"EventReadFail >= {value}")
    return source.counter.get("EventReadFail")


def _still_serves(source: ThriftSource, channel: Channel) -> bool:
    with ThriftRpcClient("127.0.0.1", source.port, request_timeout=5) as client:
        client.append(Event(body=b"after"))
    return [e.body for e in take_all(channel)] == [b"after"]


def _connect(source: ThriftSource, data: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", source.port), timeout=5)
    sock.sendall(data)
    return sock


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="http-request"),
        pytest.param(encode_frame(b"\xff" * 40), id="garbage-payload"),
        pytest.param(encode_frame(GOOD[4:30]), id="truncated-payload"),
        pytest.param(GOOD[4:], id="unframed-compact"),
        pytest.param(encode_frame(codec("binary").encode_call(
            "append", 1, [Event(body=b"x")])), id="binary-to-compact-source"),
        pytest.param(b"\xff\xff\xff\xf0", id="negative-length"),
    ],
)
def test_garbage_closes_the_connection_and_counts_a_read_failure(
    start_source: StartSource, channel: Channel, data: bytes
) -> None:
    source = start_source(channel)
    with _connect(source, data) as sock:
        assert closed_by_peer(sock)
    assert _read_fails(source) == 1
    assert _still_serves(source, channel)


def test_oversized_frame_is_refused_before_its_bytes_arrive(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, **{"max-frame-size": "4096"})
    with _connect(source, (1 << 30).to_bytes(4, "big")) as sock:
        assert closed_by_peer(sock)
    assert _read_fails(source) == 1
    assert _still_serves(source, channel)


def test_unknown_method_is_answered_then_the_connection_closed(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel)
    call = encode_frame(codec("compact").encode_call("appendBatch", 3, []).replace(
        b"\x0bappendBatch", b"\x0bappendBitch"))
    with _connect(source, call) as sock:
        sock.settimeout(5)
        reply = sock.recv(65536)
        assert closed_by_peer(sock)
    assert b"unknown Thrift method 'appendBitch'" in reply
    assert _read_fails(source) == 1


def test_client_stalling_mid_frame_is_disconnected_while_others_are_served(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, **{"frame-timeout": "0.3"})
    with _connect(source, GOOD[:-5]) as stalled:
        assert _still_serves(source, channel)  # served while the other one stalls
        assert closed_by_peer(stalled)
    assert _read_fails(source) == 1


def test_client_sending_nothing_is_disconnected_and_counted(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, **{"idle-timeout": "0.3"})
    with _connect(source) as silent:
        assert _still_serves(source, channel)
        assert closed_by_peer(silent)
    assert _read_fails(source) == 1


def test_truncated_frame_then_disconnect_is_counted(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel)
    with _connect(source, GOOD[:20]):
        pass
    assert _read_fails(source) == 1
    assert take_all(channel) == []


def test_idle_client_after_a_call_is_closed_quietly_and_the_client_reconnects(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, **{"idle-timeout": "0.2"})
    with ThriftRpcClient("127.0.0.1", source.port, request_timeout=5) as client:
        client.append(Event(body=b"1"))
        wait_until(lambda: source.counter.get("OpenConnectionCount") == 0, timeout=5,
                   what="the idle connection closed by the source")
        client.append(Event(body=b"2"))  # notices the closed connection, opens another
        assert client.stats.created == 2
    assert [e.body for e in take_all(channel)] == [b"1", b"2"]
    assert source.counter.get("EventReadFail") == 0


def test_a_plain_client_to_a_tls_source_is_counted(
    start_source: StartSource, channel: Channel, tls_certificate: tuple[object, object]
) -> None:
    cert, key = tls_certificate
    source = start_source(channel, ssl="true", keystore=str(cert), keyfile=str(key))
    with _connect(source, GOOD) as sock:
        assert closed_by_peer(sock)
    assert _read_fails(source) == 1


def test_connection_limit_queues_clients_instead_of_refusing_them(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, threads="1", **{"idle-timeout": "0.5"})
    with _connect(source) as hog:  # takes the only slot, then is closed as silent
        assert _still_serves(source, channel)
        assert closed_by_peer(hog)
