"""The http sink against a real HTTP server on 127.0.0.1: Flume's per-status rules, timeouts,
TLS, the batched formats (read back by our own http source) and a real agent."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_testkit import (
    EventFactory,
    LogRecorder,
    SinkDriver,
    SourceDriver,
    memory_channel,
    take_all,
    wait_until,
)
from flume_testkit.servers.http_peer import HttpPeer, running_http_peer

from flume_sdk import ConfigurationError, Event, EventDeliveryException, Status
from flume_sdk.components.http_sink import HttpSink, StatusRules
from flume_sdk.components.http_source import HTTPSource

pytestmark = pytest.mark.timeout(120)
COMMIT_2XX = {"rollback.2XX": "false", "backoff.2XX": "false", "incrementMetrics.2XX": "true"}


def _driver(endpoint: str, **props: str) -> SinkDriver:
    sink = HttpSink.from_config("k1", {"endpoint": endpoint, **props}, component="a1.sinks.k1")
    return SinkDriver(sink, memory_channel(1000)).start()


def _left(driver: SinkDriver) -> list[Event]:
    return take_all(driver.channel)


def test_status_rules_prefer_the_code_then_the_group_then_the_default() -> None:
    rules = StatusRules(True, {"2XX": False, "201": True})
    assert [rules(s) for s in (200, 201, 204, 404)] == [False, True, False, True]


@pytest.mark.parametrize(("props", "status", "committed", "backoff", "counted"), [
    ({}, 200, False, True, 0),  # Flume's defaults: even 200 rolls back
    (COMMIT_2XX, 200, True, False, 1),
    (COMMIT_2XX, 204, True, False, 1),
    (COMMIT_2XX, 503, False, True, 0),
    ({**COMMIT_2XX, "rollback.4XX": "false", "backoff.4XX": "false"}, 400, True, False, 0),
    ({**COMMIT_2XX, "rollback.4XX": "false", "rollback.401": "true"}, 401, False, True, 0),
    ({"defaultRollback": "false", "defaultBackoff": "false",
      "defaultIncrementMetrics": "true"}, 500, True, False, 1),
])
def test_each_status_commits_or_rolls_back_as_configured(
    http_peer: HttpPeer, props: dict[str, str], status: int, committed: bool, backoff: bool,
    counted: int,
) -> None:
    http_peer.status = status
    with _driver(http_peer.url("/in"), **props) as driver:
        driver.feed([Event(b"hello")])
        got = driver.process()
        assert got is (Status.BACKOFF if backoff else Status.READY)
        assert len(_left(driver)) == (0 if committed else 1)
        assert driver.sink.counter.get("EventDrainSuccessCount") == counted
        assert [r.body for r in http_peer.requests] == [b"hello"]


def test_flume_defaults_are_warned_about(http_peer: HttpPeer) -> None:
    sink = HttpSink.from_config("k1", {"endpoint": http_peer.url()}, component="a1.sinks.k1")
    assert [w.key for w in sink.config_warnings] == ["rollback.2XX"]
    sink = HttpSink.from_config("k1", {"endpoint": http_peer.url(), **COMMIT_2XX})
    assert sink.config_warnings == []


def test_a_dropped_4xx_event_is_logged(http_peer: HttpPeer) -> None:
    http_peer.status = 422
    with _driver(http_peer.url(), **COMMIT_2XX, **{"rollback.4XX": "false"}) as driver, \
            LogRecorder("flume_sdk.sink.http") as logs:
        driver.feed([Event(b"bad")])
        driver.process()
        assert any("answered 422 are dropped" in m for m in logs.messages())


def test_posts_carry_the_configured_headers_and_reuse_one_connection(http_peer: HttpPeer) -> None:
    with _driver(http_peer.url("/p?x=1"), **COMMIT_2XX, contentTypeHeader="application/json",
                 acceptHeader="application/json") as driver:
        driver.feed([Event(b'{"a":%d}' % i) for i in range(5)])
        driver.run_until_empty()
        first = http_peer.requests[0]
        assert (first.method, first.path) == ("POST", "/p?x=1")
        assert first.headers["Content-Type"] == first.headers["Accept"] == "application/json"
        assert len(http_peer.requests) == 5
        assert driver.sink.counter.get("ConnectionCreatedCount") == 1


def test_an_empty_event_is_consumed_without_a_request(http_peer: HttpPeer) -> None:
    with _driver(http_peer.url(), **COMMIT_2XX) as driver:
        driver.feed([Event(b"")])
        assert driver.process() is Status.BACKOFF
        assert http_peer.requests == [] and _left(driver) == []


def test_a_server_that_is_down_keeps_the_events_and_says_why() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with _driver(f"http://127.0.0.1:{port}/", **COMMIT_2XX) as driver:
        driver.feed(EventFactory().batch(2))
        driver.process()
        assert any(isinstance(e, EventDeliveryException) and "Connection refused" in str(e)
                   and "a1.sinks.k1" in str(e) for e in driver.errors), driver.errors
        assert len(_left(driver)) == 2


def test_a_server_that_never_answers_times_out_after_request_timeout() -> None:
    silent = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True)
    thread.start()
    try:
        with _driver(f"http://127.0.0.1:{silent.getsockname()[1]}/", **COMMIT_2XX,
                     requestTimeout="300") as driver:
            driver.feed([Event(b"x")])
            driver.process()
            assert any("timed out" in str(e) for e in driver.errors), driver.errors
            assert len(_left(driver)) == 1
    finally:
        silent.close()
        for conn in accepted:
            conn.close()


@pytest.fixture
def https_peer(tls_certificate: tuple[Path, Path]) -> Iterator[HttpPeer]:
    with running_http_peer(tls=tls_certificate) as peer:
        yield peer


def test_https_verifies_the_server_with_the_truststore(
    https_peer: HttpPeer, tls_certificate: tuple[Path, Path],
) -> None:
    with _driver(https_peer.url("/tls"), **COMMIT_2XX, truststore=str(tls_certificate[0])) as driver:
        driver.feed([Event(b"secret")])
        assert driver.process() is Status.READY
        assert [r.body for r in https_peer.requests] == [b"secret"]


def test_https_refuses_an_unknown_certificate(https_peer: HttpPeer) -> None:
    with _driver(https_peer.url("/tls"), **COMMIT_2XX) as driver:
        driver.feed([Event(b"secret")])
        driver.process()
        assert any("CERTIFICATE_VERIFY_FAILED" in str(e) for e in driver.errors), driver.errors
        assert len(_left(driver)) == 1


def test_a_json_batch_is_read_back_by_the_http_source_event_for_event() -> None:
    source = HTTPSource.from_config("r1", {"bind": "127.0.0.1", "port": "0"})
    with SourceDriver(source, memory_channel(1000)) as receiving:
        receiving.start()
        events = [Event(f"body {i} é".encode(), {"n": str(i)}) for i in range(10)]
        with _driver(f"http://127.0.0.1:{source.port}/", **COMMIT_2XX, batchSize="10",
                     batchFormat="json") as sending:
            sending.feed(events)
            assert sending.process() is Status.READY
        assert take_all(receiving.channel) == events


def test_ndjson_puts_one_event_per_line(http_peer: HttpPeer) -> None:
    with _driver(http_peer.url(), **COMMIT_2XX, batchSize="3", batchFormat="ndjson") as driver:
        driver.feed([Event(b"a", {"k": "1"}), Event(b"b"), Event(b"c")])
        driver.process()
    request = http_peer.requests[0]
    assert request.headers["Content-Type"] == "application/x-ndjson"
    assert [json.loads(line) for line in request.body.splitlines()] == [
        {"headers": {"k": "1"}, "body": "a"}, {"headers": {}, "body": "b"},
        {"headers": {}, "body": "c"}]


def test_a_binary_body_in_a_text_batch_names_the_key_to_change(http_peer: HttpPeer) -> None:
    with _driver(http_peer.url(), **COMMIT_2XX, batchSize="2", batchFormat="json") as driver:
        driver.feed([Event(b"\xff\xfe")])
        driver.process()
        assert any("batchBodyEncoding = base64" in str(e) for e in driver.errors)
        assert len(_left(driver)) == 1


@pytest.mark.parametrize(("props", "key"), [
    ({"endpoint": "ftp://h/"}, "endpoint"),
    ({"endpoint": "not a url"}, "endpoint"),
    ({"backoff.6XX": "true"}, "backoff.6XX"),
    ({"rollback.200": "yes"}, "rollback.200"),
    ({"batchFormat": "xml"}, "batchFormat"),
    ({"ssl": "true"}, "ssl"),
    ({"connectTimeout": "0"}, "connectTimeout"),
    ({"endpoint": "https://127.0.0.1/", "truststore": "/nonexistent.pem"}, "truststore"),
])
def test_bad_settings_are_refused_naming_the_key(props: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        HttpSink.from_config("k1", {"endpoint": "http://127.0.0.1:1/", **props},
                             component="a1.sinks.k1")
    assert "a1.sinks.k1" in str(info.value) and key in str(info.value), str(info.value)


def test_a_real_agent_posts_every_event(http_peer: HttpPeer, tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text(f"""\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 50
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = org.apache.flume.sink.http.HttpSink
a1.sinks.k1.channel = c1
a1.sinks.k1.endpoint = {http_peer.url('/agent')}
a1.sinks.k1.rollback.2XX = false
a1.sinks.k1.backoff.2XX = false
""")
    http_peer.answer_next(503, 503)
    agent = subprocess.Popen([sys.executable, "-m", "flume_sdk.cli", "agent", "-n", "a1", "-f",
                              str(conf), "--no-reload-conf"], stderr=subprocess.PIPE)
    try:
        wait_until(lambda: len(http_peer.accepted()) >= 50, timeout=60, what="50 events accepted")
    finally:
        agent.terminate()
        agent.communicate(timeout=30)
    assert sorted(int(r.body) for r in http_peer.accepted()) == list(range(50))
