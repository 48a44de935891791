"""http: 200 only after commit, 503 when full, 400 for garbage, 413 over the limit."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flume_testkit import memory_channel
from flume_testkit.servers import wait_until

from flume_sdk import ChannelProcessor, ConfigurationError, Event
from flume_sdk.components.http_source import HTTPSource
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.selectors import ReplicatingSelector

Make = Callable[..., HTTPSource]


@pytest.fixture
def channel() -> Iterator[MemoryChannel]:
    ch = memory_channel(3)
    yield ch
    ch.stop()


@pytest.fixture
def make(channel: MemoryChannel) -> Iterator[Make]:
    built: list[HTTPSource] = []

    def build(**props: str) -> HTTPSource:
        source = HTTPSource.from_config("r1", {"bind": "127.0.0.1", "port": "0", **props})
        source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
        source.start()
        built.append(source)
        return source

    yield build
    for source in built:
        source.stop()


def post(port: int, body: bytes, path: str = "/", headers: dict[str, str] | None = None
         ) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def drain(channel: MemoryChannel) -> list[Event]:
    with channel.transaction() as tx:
        return tx.take_batch(100)


def flume_json(*events: tuple[dict[str, str], str]) -> bytes:
    return json.dumps([{"headers": h, "body": b} for h, b in events]).encode()


def test_json_events_are_committed_before_200(make: Make, channel: MemoryChannel) -> None:
    source = make()
    status, _ = post(source.port, flume_json(({"a": "1"}, "hello"), ({}, "world")))
    assert status == 200
    assert drain(channel) == [Event(b"hello", {"a": "1"}), Event(b"world", {})]


def test_json_body_charset_comes_from_content_type(make: Make, channel: MemoryChannel) -> None:
    source = make()
    body = json.dumps([{"body": "héllo"}], ensure_ascii=False).encode("utf-16")
    status, _ = post(source.port, body, headers={"Content-Type": "application/json; "
                                                               "charset=UTF-16"})
    assert status == 200
    assert drain(channel)[0].body == "héllo".encode("utf-16")


def test_full_channel_answers_503_and_keeps_nothing_of_the_request(
    make: Make, channel: MemoryChannel
) -> None:
    source = make()
    assert post(source.port, flume_json(({}, "1"), ({}, "2")))[0] == 200
    status, message = post(source.port, flume_json(({}, "3"), ({}, "4")))
    assert status == 503 and "retry" in message
    assert [e.body for e in drain(channel)] == [b"1", b"2"]
    assert source.counter.get("ChannelWriteFail") == 1


@pytest.mark.parametrize(("body", "fragment"), [
    (b"{not json", "not valid JSON"),
    (b'{"body": "x"}', "expected a JSON array"),
    (b'[{"headers": {"k": {"nested": 1}}, "body": "x"}]', "header 'k' must be a string"),
    (b'[{"body": 5}]', "body must be a string"),
    (b'["just a string"]', "event 0: expected an object"),
    (b"\xff\xfe\xfd", "not valid utf-8"),
])
def test_malformed_body_gets_400_with_a_message(make: Make, channel: MemoryChannel,
                                                body: bytes, fragment: str) -> None:
    source = make()
    status, message = post(source.port, body)
    assert status == 400 and fragment in message
    assert drain(channel) == []


def test_garbage_from_one_client_does_not_stop_the_others(make: Make,
                                                          channel: MemoryChannel) -> None:
    source = make()
    with socket.create_connection(("127.0.0.1", source.port), timeout=5) as bad:
        bad.sendall(b"\x00\x01garbage that is not http\r\n\r\n")
        stalled = socket.create_connection(("127.0.0.1", source.port), timeout=5)
        stalled.sendall(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        assert post(source.port, flume_json(({}, "fine")))[0] == 200
        stalled.close()
    assert [e.body for e in drain(channel)] == [b"fine"]


def test_request_over_the_size_limit_gets_413(make: Make, channel: MemoryChannel) -> None:
    source = make(maxRequestBytes="100")
    status, message = post(source.port, flume_json(({}, "x" * 200)))
    assert status == 413 and "maxRequestBytes" in message
    assert post(source.port, flume_json(({}, "small")))[0] == 200


def test_blob_handler_makes_one_event_with_query_headers(make: Make,
                                                         channel: MemoryChannel) -> None:
    source = make(handler="org.apache.flume.sink.solr.morphline.BlobHandler")
    status, _ = post(source.port, b"\x00raw bytes", path="/?host=h1&app=web")
    assert status == 200
    assert drain(channel) == [Event(b"\x00raw bytes", {"host": "h1", "app": "web"})]


def test_blob_over_max_blob_length_gets_413(make: Make) -> None:
    source = make(handler="BLOB", **{"handler.maxBlobLength": "4"})
    assert post(source.port, b"12345")[0] == 413


def test_unknown_handler_key_is_a_config_error() -> None:
    with pytest.raises(ConfigurationError, match=r"handler\.maxBlobLenght: unknown key"):
        HTTPSource.from_config("r1", {"port": "0", "handler": "BLOB",
                                      "handler.maxBlobLenght": "4"})


def test_unknown_handler_is_a_config_error() -> None:
    with pytest.raises(ConfigurationError, match="must be JSON, BLOB"):
        HTTPSource.from_config("r1", {"port": "0", "handler": "com.example.Mine"})


def test_stop_releases_the_port_even_with_an_idle_client_connected(
    make: Make, channel: MemoryChannel
) -> None:
    source = make()
    port = source.port
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)
    source.stop()
    idle.close()
    again = HTTPSource.from_config("r1", {"bind": "127.0.0.1", "port": str(port)})
    again.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    again.start()
    again.stop()


# -- HTTPS ------------------------------------------------------------------------------------


def post_tls(port: int, body: bytes, cert: Path) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=str(cert))
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    try:
        conn.request("POST", "/", body=body)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_https_commits_before_200(make: Make, channel: MemoryChannel,
                                  tls_certificate: tuple[Path, Path]) -> None:
    cert, key = tls_certificate
    source = make(ssl="true", keystore=str(cert), **{"ssl.keyfile": str(key)})
    assert post_tls(source.port, flume_json(({"a": "1"}, "over tls")), cert) == (200, "")
    assert drain(channel) == [Event(b"over tls", {"a": "1"})]


def test_plain_http_to_an_https_port_fails_alone(make: Make, channel: MemoryChannel,
                                                 tls_certificate: tuple[Path, Path]) -> None:
    cert, key = tls_certificate
    source = make(enableSSL="true", keystore=str(cert), **{"ssl.keyfile": str(key)})
    with pytest.raises((http.client.HTTPException, OSError)):
        post(source.port, flume_json(({}, "plain")))
    assert post_tls(source.port, flume_json(({}, "after")), cert) == (200, "")
    assert drain(channel) == [Event(b"after", {})]


def test_https_without_a_keystore_names_the_key() -> None:
    with pytest.raises(ConfigurationError, match="keystore"):
        HTTPSource.from_config("r1", {"port": "0", "ssl": "true"})


def test_validate_prints_jetty_keys_as_warnings_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from flume_sdk.cli import main

    conf = tmp_path / "a.conf"
    conf.write_text("a1.sources = r1\na1.channels = c1\na1.sinks = k1\n"
                    "a1.sources.r1.type = http\na1.sources.r1.port = 0\n"
                    "a1.sources.r1.channels = c1\n"
                    "a1.sources.r1.QueuedThreadPool.maxThreads = 10\n"
                    "a1.channels.c1.type = memory\n"
                    "a1.sinks.k1.type = null\na1.sinks.k1.channel = c1\n")
    assert main(["validate", "-f", str(conf), "-n", "a1"]) == 0
    err = capsys.readouterr().err
    assert (f"warning: {conf}:7: a1.sources.r1.QueuedThreadPool.maxThreads: Jetty tuning key"
            in err), err


# -- hostile clients (issue 20, items 9 and 11) -----------------------------------------------


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def test_negative_content_length_gets_400_before_any_body_is_read(make: Make) -> None:
    source = make(maxRequestBytes="1000")
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
    reply = _raw(source.port, head + b"x" * 5000)
    assert reply.startswith(b"HTTP/1.1 400")
    assert b"Content-Length must be a non-negative number (got '-1')" in reply
    assert source.counter.get("EventReadFail") == 1


def test_deeply_nested_json_is_a_counted_400_not_a_crash(make: Make) -> None:
    source = make()
    status, message = post(source.port, b"[" * 100_000 + b"]" * 100_000)
    assert status == 400 and "nested too deeply" in message
    assert source.counter.get("EventReadFail") == 1
    assert post(source.port, flume_json(({}, "still serving")))[0] == 200


def test_refusals_before_the_handler_are_counted(make: Make) -> None:
    source = make(maxRequestBytes="10")
    assert post(source.port, b"x" * 100)[0] == 413
    assert post(source.port, b"[]", headers={"Content-Length": "abc"})[0] == 400
    assert source.counter.get("EventReadFail") == 2


def test_connections_beyond_max_connections_get_503_and_are_counted(make: Make) -> None:
    source = make(maxConnections="2")
    idle = [socket.create_connection(("127.0.0.1", source.port), timeout=5) for _ in range(2)]
    try:
        wait_until(lambda: source.counter.get("OpenConnectionCount") == 2)
        reply = _raw(source.port, b"")
        assert reply.startswith(b"HTTP/1.1 503") and b"maxConnections = 2" in reply
        assert source.counter.get("RefusedConnectionCount") == 1
    finally:
        for sock in idle:
            sock.close()
    wait_until(lambda: source.counter.get("OpenConnectionCount") == 0)
    assert post(source.port, flume_json(({}, "after")))[0] == 200


def test_a_client_dripping_its_request_is_disconnected_at_the_request_deadline(
        make: Make) -> None:
    source = make(requestDeadline="300", requestTimeout="10000")
    with socket.create_connection(("127.0.0.1", source.port), timeout=5) as slow:
        slow.settimeout(0.05)
        closed = False
        for byte in b"POST / HTTP/1.1\r\nHost: a-slow-client.example\r\n" * 10:
            try:
                slow.send(bytes([byte]))
                if slow.recv(100) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
    assert closed, "the server kept a slow-drip client beyond requestDeadline"
    assert source.counter.get("EventReadFail") == 1
