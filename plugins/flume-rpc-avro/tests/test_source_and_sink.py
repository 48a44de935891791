"""Our Avro sink delivers to our Avro source; acks follow the channel commit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flume_rpc_avro import AvroRpcClient, DeliveryFailedError
from flume_rpc_avro.sink import AvroSink
from flume_rpc_avro.source import AvroSource
from flume_testkit import memory_channel, take_all

from flume_sdk import Channel, ConfigurationError, Event, EventDeliveryException, Status

StartSource = Callable[..., AvroSource]
StartSink = Callable[..., AvroSink]


def _fill(channel: Channel, count: int, prefix: str = "e") -> list[Event]:
    events = [Event(body=f"{prefix}{i}".encode(), headers={"n": str(i)}) for i in range(count)]
    with channel.transaction() as tx:
        tx.put_batch(events)
    return events


def _send_all(sink: AvroSink, deadline_calls: int = 1000) -> None:
    for _ in range(deadline_calls):
        if sink.process() is Status.BACKOFF:
            return
    raise AssertionError("sink never drained its channel")


@pytest.mark.parametrize(
    "props",
    [{}, {"compression-type": "deflate"}],
    ids=["plain", "deflate"],
)
def test_sink_delivers_batches_to_source_in_order(
    start_source: StartSource, start_sink: StartSink, channel: Channel, props: dict[str, str]
) -> None:
    upstream = memory_channel()
    source = start_source(channel, **props)
    sink = start_sink(upstream, source.port, **{"batch-size": "7", **props})
    sent = _fill(upstream, 50)
    _send_all(sink)
    assert take_all(channel) == sent


def _tls_pair(
    start_source: StartSource, start_sink: StartSink, channel: Channel,
    certificate: tuple[Path, Path], source_props: dict[str, str], sink_props: dict[str, str],
) -> tuple[AvroSource, AvroSink, Channel]:
    """A TLS source writing ``channel`` and a sink trusting it, taking from a new channel."""
    cert, key = certificate
    source = start_source(channel, ssl="true", keystore=str(cert), keyfile=str(key),
                          **source_props)
    upstream = memory_channel()
    sink = start_sink(upstream, source.port, ssl="true", truststore=str(cert), **sink_props)
    return source, sink, upstream


def test_tls_with_deflate_delivers(
    start_source: StartSource, start_sink: StartSink, channel: Channel,
    tls_certificate: tuple[Path, Path],
) -> None:
    deflate = {"compression-type": "deflate"}
    _, sink, upstream = _tls_pair(start_source, start_sink, channel, tls_certificate,
                                  deflate, deflate)
    sent = _fill(upstream, 10)
    _send_all(sink)
    assert take_all(channel) == sent


def test_tls_sink_refuses_an_untrusted_certificate(
    start_source: StartSource, start_sink: StartSink, channel: Channel,
    tls_certificate: tuple[Path, Path],
) -> None:
    cert, key = tls_certificate
    source = start_source(channel, ssl="true", keystore=str(cert), keyfile=str(key))
    upstream = memory_channel()
    sink = start_sink(upstream, source.port, ssl="true")
    _fill(upstream, 1)
    with pytest.raises(EventDeliveryException):
        sink.process()


SUITE = "ECDHE-RSA-AES128-GCM-SHA256"


@pytest.mark.parametrize(("source_excludes", "delivered"), [("", True), (SUITE, False)],
                         ids=["suite-allowed", "suite-excluded"])
def test_tls_source_applies_exclude_cipher_suites(
    start_source: StartSource, start_sink: StartSink, channel: Channel,
    tls_certificate: tuple[Path, Path], source_excludes: str, delivered: bool,
) -> None:
    """Until flume_sdk's TLS, exclude-cipher-suites was accepted and ignored."""
    _, sink, upstream = _tls_pair(
        start_source, start_sink, channel, tls_certificate,
        {"exclude-cipher-suites": source_excludes} if source_excludes else {},
        {"exclude-protocols": "TLSv1.3", "include-cipher-suites": SUITE})
    sent = _fill(upstream, 3)
    if delivered:
        _send_all(sink)
        assert take_all(channel) == sent
    else:
        with pytest.raises(EventDeliveryException):
            sink.process()
        assert take_all(upstream) == sent  # rolled back, kept for the retry


@pytest.mark.parametrize("component", ["source", "sink"])
def test_tls_protocols_older_than_tls12_are_refused_at_config_time(component: str) -> None:
    props = {"ssl": "true", "include-protocols": "TLSv1 TLSv1.2", "port": "1"}
    with pytest.raises(ConfigurationError, match=r"include-protocols: \['TLSv1'\] are never"):
        if component == "source":
            AvroSource.from_config("r1", {"bind": "0.0.0.0", "keystore": "ks.pem", **props})
        else:
            AvroSink.from_config("k1", {"hostname": "127.0.0.1", **props})


def test_tls_source_requiring_client_certificates_admits_only_sinks_with_a_keystore(
    start_source: StartSource, start_sink: StartSink, channel: Channel,
    tls_certificate: tuple[Path, Path],
) -> None:
    cert, key = tls_certificate
    source, anonymous, upstream = _tls_pair(
        start_source, start_sink, channel, tls_certificate,
        {"ssl.cafile": str(cert), "ssl.requireClientCert": "true"}, {})
    sent = _fill(upstream, 5)
    with pytest.raises(EventDeliveryException):
        anonymous.process()
    assert take_all(upstream) == sent  # rolled back
    signed = start_sink(upstream, source.port, ssl="true", truststore=str(cert),
                        keystore=str(cert), **{"ssl.keyfile": str(key), "batch-size": "2"})
    _fill(upstream, 5)
    _send_all(signed)
    assert take_all(channel) == sent


def test_a_tls_source_takes_its_keystore_from_the_environment(
    start_source: StartSource, start_sink: StartSink, channel: Channel,
    tls_certificate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cert, key = tls_certificate
    both = tmp_path / "both.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_PATH", str(both))
    monkeypatch.setenv("FLUME_SSL_TRUSTSTORE_PATH", str(cert))
    source = start_source(channel, ssl="true")
    upstream = memory_channel()
    sink = start_sink(upstream, source.port, ssl="true")
    sent = _fill(upstream, 3)
    _send_all(sink)
    assert take_all(channel) == sent


def test_source_counts_calls_and_events(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel)
    with AvroRpcClient("127.0.0.1", source.port) as client:
        client.append({"headers": {}, "body": b"one"})
        client.append_batch([{"headers": {}, "body": b"x"}] * 3)
    counts = source.counter
    assert [counts.get(n) for n in ("AppendAcceptedCount", "AppendBatchAcceptedCount",
                                    "EventAcceptedCount")] == [1, 1, 4]


def test_source_answers_failed_when_the_channel_is_full(
    start_source: StartSource
) -> None:
    full = memory_channel(capacity=4, keep_alive=0.05)
    kept = _fill(full, 3, "old")
    source = start_source(full)
    with AvroRpcClient("127.0.0.1", source.port) as client, pytest.raises(
        DeliveryFailedError, match="FAILED"
    ):
        client.append_batch([{"headers": {}, "body": b"x"}] * 2)
    assert (source.counter.get("ChannelWriteFail"), take_all(full)) == (1, kept)


def test_sink_keeps_events_in_its_channel_when_the_source_refuses(
    start_source: StartSource, start_sink: StartSink
) -> None:
    full = memory_channel(capacity=4, keep_alive=0.05)
    _fill(full, 3, "old")
    source = start_source(full)
    upstream = memory_channel()
    sink = start_sink(upstream, source.port, **{"batch-size": "5"})
    sent = _fill(upstream, 5)
    with pytest.raises(EventDeliveryException, match="FAILED"):
        sink.process()
    assert take_all(upstream) == sent


def test_sink_reconnects_after_the_source_restarts(
    start_source: StartSource, start_sink: StartSink, channel: Channel
) -> None:
    source = start_source(channel)
    port = source.port
    upstream = memory_channel()
    sink = start_sink(upstream, port)
    _fill(upstream, 3, "a")
    _send_all(sink)
    source.stop()
    _fill(upstream, 3, "b")
    with pytest.raises(EventDeliveryException):
        sink.process()
    start_source(channel, port=str(port))
    _send_all(sink)
    assert [e.body for e in take_all(channel)] == [b"a0", b"a1", b"a2", b"b0", b"b1", b"b2"]
    assert sink.counter.get("ConnectionCreatedCount") == 2


def test_sink_starts_even_when_the_source_is_down(start_sink: StartSink) -> None:
    from flume_testkit.servers._process import free_port

    sink = start_sink(memory_channel(), free_port())
    assert sink.counter.get("ConnectionFailedCount") == 1


def test_sink_resets_the_connection_after_the_interval(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel)
    clock = _ManualClock()
    sink = AvroSink.from_config(
        "k1", {"hostname": "127.0.0.1", "port": str(source.port),
               "reset-connection-interval": "10"}, clock=clock)
    upstream = memory_channel()
    sink.set_channel(upstream)
    sink.start()
    try:
        _fill(upstream, 1)
        sink.process()
        clock.now += 11
        _fill(upstream, 1)
        sink.process()
    finally:
        sink.stop()
    assert sink.counter.get("ConnectionCreatedCount") == 2


def test_ip_filter_denies_a_peer_before_reading(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, ipFilter="true", ipFilterRules="deny:ip:127.*")
    with AvroRpcClient("127.0.0.1", source.port, request_timeout=5) as client, pytest.raises(
        OSError
    ):
        client.append({"headers": {}, "body": b"x"})
    assert take_all(channel) == []


def test_ip_filter_allows_localhost_by_name(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel, ipFilter="true",
                          ipFilterRules="allow:name:localhost,deny:ip:*")
    with AvroRpcClient("127.0.0.1", source.port) as client:
        client.append({"headers": {}, "body": b"x"})
    assert [e.body for e in take_all(channel)] == [b"x"]


def test_source_config_reports_bad_filter_rules() -> None:
    with pytest.raises(ConfigurationError, match="ipFilterRules"):
        AvroSource.from_config("r1", {"bind": "0.0.0.0", "port": "1", "ipFilter": "true",
                                      "ipFilterRules": "permit:ip:*"})


def test_source_config_refuses_jks_keystores() -> None:
    with pytest.raises(ConfigurationError, match="PEM"):
        AvroSource.from_config("r1", {"bind": "0.0.0.0", "port": "1", "ssl": "true",
                                      "keystore": "ks.jks", "keystore-type": "JKS"})


class _ManualClock:
    """A clock whose monotonic time only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def wait(self, event: object, timeout: float) -> bool:
        self.now += timeout
        return False


def test_max_io_workers_is_accepted_with_a_configuration_warning() -> None:
    sink = AvroSink.from_config("k1", {"hostname": "h", "port": "1", "maxIoWorkers": "4"})
    [warning] = sink.config_warnings
    assert str(warning) == "k1.maxIoWorkers: has no effect: the sink holds one blocking connection"
