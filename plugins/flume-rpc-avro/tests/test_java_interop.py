"""Interop with Java Avro IPC (Avro 1.8.2 NettyServer/NettyTransceiver, Netty 3).

The peer is the testkit's ``FlumeAvroPeer``: Flume's AvroSourceProtocol on the same
stack generation as Flume 1.9. Skipped with a reason where java/javac are missing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flume_rpc_avro import PROTOCOL_MD5
from flume_rpc_avro.sink import AvroSink
from flume_rpc_avro.source import AvroSource
from flume_testkit import memory_channel, take_all

from flume_sdk import Channel, Event, EventDeliveryException, Status

pytestmark = pytest.mark.timeout(180)

DEFLATE = [False, True]
IDS = ["plain", "deflate"]


def test_java_computes_the_same_protocol_md5(avro_java_peer: object) -> None:
    assert avro_java_peer.protocol_md5() == PROTOCOL_MD5.hex()  # type: ignore[attr-defined]


@pytest.mark.parametrize("deflate", DEFLATE, ids=IDS)
def test_java_client_batches_reach_our_source(
    avro_java_peer: object, start_source: Callable[..., AvroSource], channel: Channel,
    deflate: bool,
) -> None:
    props = {"compression-type": "deflate"} if deflate else {}
    source = start_source(channel, **props)
    result = avro_java_peer.run_client(  # type: ignore[attr-defined]
        "127.0.0.1", source.port, 250, 100, deflate, timeout=60)
    assert result.ok, result.output
    events = take_all(channel)
    assert [e.headers["seq"] for e in events] == [str(i) for i in range(250)]
    assert result.statuses == ["OK", "OK", "OK"]


def test_java_client_single_appends_reach_our_source(
    avro_java_peer: object, start_source: Callable[..., AvroSource], channel: Channel
) -> None:
    source = start_source(channel)
    result = avro_java_peer.run_client(  # type: ignore[attr-defined]
        "127.0.0.1", source.port, 5, 1, timeout=60)
    assert result.ok, result.output
    assert (len(take_all(channel)), source.counter.get("AppendAcceptedCount")) == (5, 5)


def test_java_client_sees_failed_when_our_channel_is_full(
    avro_java_peer: object, start_source: Callable[..., AvroSource]
) -> None:
    full = memory_channel(capacity=10, keep_alive=0.05)
    source = start_source(full)
    result = avro_java_peer.run_client(  # type: ignore[attr-defined]
        "127.0.0.1", source.port, 20, 20, timeout=60)
    assert result.statuses == ["FAILED"]


@pytest.mark.parametrize("deflate", DEFLATE, ids=IDS)
def test_our_sink_delivers_to_a_java_server(
    avro_java_peer: object, start_sink: Callable[..., AvroSink], deflate: bool
) -> None:
    props = {"compression-type": "deflate"} if deflate else {}
    with avro_java_peer.start_server(deflate=deflate) as server:  # type: ignore[attr-defined]
        upstream = memory_channel()
        sink = start_sink(upstream, server.port, **{"batch-size": "40", **props})
        sent = [Event(body=f"b{i}".encode(), headers={"i": str(i)}) for i in range(100)]
        with upstream.transaction() as tx:
            tx.put_batch(sent)
        while sink.process() is Status.READY:
            pass
        got = server.events()
    assert [(r.headers, r.body) for r in got] == [(e.headers, e.body) for e in sent]
    assert {r.op for r in got} == {"appendBatch"}


def test_our_sink_rolls_back_when_the_java_server_answers_failed(
    avro_java_peer: object, start_sink: Callable[..., AvroSink]
) -> None:
    with avro_java_peer.start_server(mode="failed") as server:  # type: ignore[attr-defined]
        upstream = memory_channel()
        sink = start_sink(upstream, server.port)
        with upstream.transaction() as tx:
            tx.put(Event(body=b"keep"))
        with pytest.raises(EventDeliveryException, match="FAILED"):
            sink.process()
    assert [e.body for e in take_all(upstream)] == [b"keep"]


def test_our_sink_times_out_on_a_slow_java_server(
    avro_java_peer: object, start_sink: Callable[..., AvroSink]
) -> None:
    with avro_java_peer.start_server(delay_ms=3000) as server:  # type: ignore[attr-defined]
        upstream = memory_channel()
        sink = start_sink(upstream, server.port, **{"request-timeout": "300"})
        with upstream.transaction() as tx:
            tx.put(Event(body=b"slow"))
        with pytest.raises(EventDeliveryException, match=r"within 0\.3s"):
            sink.process()
    assert [e.body for e in take_all(upstream)] == [b"slow"]
