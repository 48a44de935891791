"""Our thrift sink delivers to our thrift source; acks follow the channel commit."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from flume_rpc_thrift import ThriftRpcClient
from flume_rpc_thrift.sink import ThriftSink
from flume_rpc_thrift.source import ThriftSource
from flume_testkit import FakeClock, memory_channel, take_all

from flume_sdk import (
    Channel,
    ConfigurationError,
    Event,
    EventDeliveryException,
    PluginKind,
    Status,
    load_plugin,
)

from .conftest import StartSink, StartSource, fill


def _drain(sink: ThriftSink, max_calls: int = 1000) -> None:
    for _ in range(max_calls):
        if sink.process() is Status.BACKOFF:
            return
    raise AssertionError("sink never drained its channel")


@pytest.mark.parametrize("protocol", ["compact", "binary"])
def test_sink_delivers_batches_to_source_in_order(
    start_source: StartSource, start_sink: StartSink, channel: Channel, protocol: str
) -> None:
    upstream = memory_channel()
    source = start_source(channel, protocol=protocol)
    sink = start_sink(upstream, source.port, protocol=protocol, **{"batch-size": "7"})
    sent = fill(upstream, 50)
    _drain(sink)
    assert take_all(channel) == sent
    assert source.counter.get("AppendBatchAcceptedCount") == 8
    assert sink.counter.get("ConnectionCreatedCount") == 1


def test_protocol_mismatch_fails_the_batch_and_keeps_the_events(
    start_source: StartSource, start_sink: StartSink, channel: Channel
) -> None:
    upstream = memory_channel()
    source = start_source(channel, protocol="binary")
    sink = start_sink(upstream, source.port)  # compact
    sent = fill(upstream, 3)
    with pytest.raises(EventDeliveryException, match=r"127\.0\.0\.1"):
        sink.process()
    assert take_all(upstream) == sent
    assert source.counter.get("EventReadFail") == 1


def test_failed_answer_rolls_back_and_the_retry_delivers(
    start_source: StartSource, start_sink: StartSink
) -> None:
    small = memory_channel(capacity=5)
    upstream = memory_channel()
    try:
        source = start_source(small)
        sink = start_sink(upstream, source.port, **{"batch-size": "4"})
        first, second = fill(upstream, 4, "a"), fill(upstream, 4, "b")
        assert sink.process() is Status.READY
        with pytest.raises(EventDeliveryException, match="refused the appendBatch call: FAILED"):
            sink.process()  # 4 more do not fit in 5
        assert source.counter.get("ChannelWriteFail") == 1
        assert take_all(small) == first
        assert sink.process() is Status.READY
        assert take_all(small) == second
    finally:
        small.stop()
        upstream.stop()


def test_dead_server_fails_the_batch_and_counts_the_connection_failure(
    start_sink: StartSink
) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]  # bound but not listening: connection refused
        upstream = memory_channel()
        try:
            sink = start_sink(upstream, port)
            sent = fill(upstream, 2)
            with pytest.raises(EventDeliveryException, match="could not deliver 2 event"):
                sink.process()
            assert sink.counter.get("ConnectionFailedCount") == 1
            assert take_all(upstream) == sent
        finally:
            upstream.stop()


def test_server_that_never_answers_times_out_and_keeps_the_events(start_sink: StartSink) -> None:
    with socket.create_server(("127.0.0.1", 0)) as mute:
        upstream = memory_channel()
        try:
            sink = start_sink(upstream, mute.getsockname()[1], **{"request-timeout": "200"})
            sent = fill(upstream, 3)
            with pytest.raises(EventDeliveryException, match=r"no answer .* within 0\.2s"):
                sink.process()
            assert take_all(upstream) == sent
        finally:
            upstream.stop()


def test_connection_reset_interval_reopens_the_connection(
    start_source: StartSource, channel: Channel
) -> None:
    clock = FakeClock()
    source = start_source(channel)
    upstream = memory_channel()
    sink = ThriftSink.from_config("k1", {"hostname": "127.0.0.1", "port": str(source.port),
                                         "connection-reset-interval": "60"}, clock=clock)
    sink.set_channel(upstream)
    sink.start()
    try:
        fill(upstream, 1)
        sink.process()
        clock.advance(30)
        fill(upstream, 1)
        sink.process()
        assert sink.counter.get("ConnectionCreatedCount") == 1
        clock.advance(31)
        fill(upstream, 1)
        sink.process()
        assert sink.counter.get("ConnectionCreatedCount") == 2
        assert sink.counter.get("ConnectionClosedCount") == 1
        assert len(take_all(channel)) == 3
    finally:
        sink.stop()
        upstream.stop()


def test_client_pool_opens_at_most_max_connections(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel)
    with ThriftRpcClient("127.0.0.1", source.port, max_connections=2) as client:
        threads = [threading.Thread(target=lambda: [client.append(Event(body=b"x"))
                                                    for _ in range(20)]) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert 1 <= client.stats.created <= 2
    assert len(take_all(channel)) == 120


def _tls_pair(start_source: StartSource, start_sink: StartSink, channel: Channel,
              certificate: tuple[Path, Path], source_props: dict[str, str] | None = None,
              **sink_props: str) -> tuple[ThriftSink, Channel]:
    cert, key = certificate
    source = start_source(channel, ssl="true", keystore=str(cert), keyfile=str(key),
                          **(source_props or {}))
    upstream = memory_channel()
    return start_sink(upstream, source.port, ssl="true", **sink_props), upstream


def test_tls_delivers(start_source: StartSource, start_sink: StartSink, channel: Channel,
                      tls_certificate: tuple[Path, Path]) -> None:
    sink, upstream = _tls_pair(start_source, start_sink, channel, tls_certificate,
                               truststore=str(tls_certificate[0]))
    sent = fill(upstream, 10)
    _drain(sink)
    assert take_all(channel) == sent
    upstream.stop()


def test_tls_sink_refuses_an_untrusted_certificate(
    start_source: StartSource, start_sink: StartSink, channel: Channel,
    tls_certificate: tuple[Path, Path],
) -> None:
    sink, upstream = _tls_pair(start_source, start_sink, channel, tls_certificate)
    fill(upstream, 1)
    with pytest.raises(EventDeliveryException, match="CERTIFICATE_VERIFY_FAILED"):
        sink.process()
    upstream.stop()


@pytest.mark.parametrize("presents", [True, False], ids=["client-cert", "no-client-cert"])
def test_tls_source_requiring_client_certificates_admits_only_sinks_with_a_keystore(
    start_source: StartSource, start_sink: StartSink, channel: Channel,
    tls_certificate: tuple[Path, Path], presents: bool,
) -> None:
    cert, key = (str(p) for p in tls_certificate)
    own = {"keystore": cert, "ssl.keyfile": key} if presents else {}
    sink, upstream = _tls_pair(start_source, start_sink, channel, tls_certificate,
                               {"ssl.cafile": cert, "ssl.requireClientCert": "true"},
                               truststore=cert, **own)
    sent = fill(upstream, 4)
    if presents:
        _drain(sink)
        assert take_all(channel) == sent
    else:
        with pytest.raises(EventDeliveryException):
            sink.process()
        assert take_all(upstream) == sent  # rolled back, kept for the retry
    upstream.stop()


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind,props", [
    (ThriftSource, {"bind": "0.0.0.0", "port": "1", "kerberos": "true"}),
    (ThriftSink, {"hostname": "h", "port": "1", "kerberos": "true"}),
])
def test_kerberos_is_refused_with_the_reason(kind: type[ThriftSource | ThriftSink],
                                             props: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match=r"kerberos: is not supported.*SASL/GSSAPI"):
        kind.from_config("x", props)


def test_kerberos_principals_without_kerberos_are_warned_about() -> None:
    sink = ThriftSink.from_config("k1", {"hostname": "h", "port": "1",
                                         "client-principal": "flume/h@R", "client-keytab": "k"})
    source = ThriftSource.from_config("r1", {"bind": "0.0.0.0", "port": "1",
                                             "agent-principal": "flume/h@R"})
    assert {w.key for w in sink.config_warnings} == {"client-principal", "client-keytab"}
    assert [w.key for w in source.config_warnings] == ["agent-principal"]


def test_uppercase_protocol_means_what_it_says_with_a_warning() -> None:
    source = ThriftSource.from_config("r1", {"bind": "0.0.0.0", "port": "1",
                                             "protocol": "BINARY"})
    (warning,) = source.config_warnings
    assert warning.key == "protocol" and "exact lowercase 'binary'" in warning.message


def test_unknown_protocol_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="protocol"):
        ThriftSink.from_config("k1", {"hostname": "h", "port": "1", "protocol": "json"})


@pytest.mark.parametrize("key", ["connection-reset-interval", "reset-connection-interval"])
def test_both_spellings_of_the_reset_interval_are_accepted(key: str) -> None:
    sink = ThriftSink.from_config("k1", {"hostname": "h", "port": "1", key: "5"})
    assert sink.settings.reset_connection_interval == 5


@pytest.mark.parametrize("kind,name,cls", [
    (PluginKind.SOURCE, "thrift", ThriftSource),
    (PluginKind.SOURCE, "org.apache.flume.source.ThriftSource", ThriftSource),
    (PluginKind.SINK, "thrift", ThriftSink),
    (PluginKind.SINK, "org.apache.flume.sink.ThriftSink", ThriftSink),
])
def test_registered_under_the_alias_and_flumes_class_name(kind: PluginKind, name: str,
                                                          cls: type) -> None:
    assert load_plugin(kind, name) is cls
