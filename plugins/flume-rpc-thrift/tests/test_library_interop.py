"""Interop both ways with the Apache Thrift Python library (``thrift`` 0.25.0).

The library's framed client sends to our source; our sink sends to a server built on
the library's transports and protocols. Both protocols, ``append`` and ``appendBatch``.
"""

from __future__ import annotations

import threading

import pytest
from flume_testkit import memory_channel, take_all
from thrift.Thrift import TApplicationException

from flume_sdk import Channel, Event, EventDeliveryException, Status

from ._library_peer import FAILED, OK, LibraryClient, LibraryServer, ThriftFlumeEvent
from .conftest import StartSink, StartSource, fill

PROTOCOLS = ["compact", "binary"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_library_client_append_batch_reaches_the_channel(
    start_source: StartSource, channel: Channel, protocol: str
) -> None:
    source = start_source(channel, protocol=protocol)
    batches = [[({"n": str(b * 10 + i), "é": "ü"}, f"body {b}-{i}".encode()) for i in range(10)]
               for b in range(3)]
    with LibraryClient(source.port, protocol) as client:
        statuses = [client.append_batch(batch) for batch in batches]
        statuses.append(client.append({"single": "yes"}, b"\x00\xff"))
    assert statuses == [OK] * 4
    expected = [Event(body=b, headers=h) for batch in batches for h, b in batch]
    assert take_all(channel) == [*expected, Event(body=b"\x00\xff", headers={"single": "yes"})]
    assert source.counter.get("AppendBatchAcceptedCount") == 3
    assert source.counter.get("AppendAcceptedCount") == 1


def test_library_client_is_answered_failed_when_the_channel_is_full(
    start_source: StartSource
) -> None:
    full = memory_channel(capacity=5)
    try:
        source = start_source(full)
        with LibraryClient(source.port) as client:
            assert client.append_batch([({}, b"fits")] * 5) == OK
            assert client.append_batch([({}, b"does not fit")]) == FAILED
        assert source.counter.get("ChannelWriteFail") == 1
        assert len(take_all(full)) == 5
    finally:
        full.stop()


def test_library_client_gets_an_application_exception_for_an_unknown_method(
    start_source: StartSource, channel: Channel
) -> None:
    source = start_source(channel)
    with LibraryClient(source.port) as client:
        client._call("appendBatch", _Bogus())  # type: ignore[arg-type]
        with pytest.raises(TApplicationException, match="unknown Thrift method 'frob'"):
            client._call("frob", _Bogus())  # type: ignore[arg-type]
    assert source.counter.get("EventReadFail") == 1


class _Bogus:
    """An empty args struct: appendBatch without events gets nothing, frob is unknown."""

    def write(self, prot: object) -> None:
        from thrift.protocol.TProtocol import TProtocolBase
        from thrift.Thrift import TType

        assert isinstance(prot, TProtocolBase)
        prot.writeStructBegin("args")
        prot.writeFieldBegin("events", TType.LIST, 1)
        prot.writeListBegin(TType.STRUCT, 0)
        prot.writeListEnd()
        prot.writeFieldEnd()
        prot.writeFieldStop()
        prot.writeStructEnd()


class _RecordingLibraryServer:
    def __init__(self, protocol: str) -> None:
        self.events: list[Event] = []
        self.methods: list[str] = []
        self.answer = OK
        self._lock = threading.Lock()
        self.server = LibraryServer(self._handle, protocol)

    def _handle(self, method: str, events: list[ThriftFlumeEvent]) -> int:
        with self._lock:
            self.methods.append(method)
            if self.answer == OK:
                self.events += [Event(body=e.body, headers=e.headers) for e in events]
        return self.answer


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_our_sink_delivers_to_a_library_server(start_sink: StartSink, protocol: str) -> None:
    peer = _RecordingLibraryServer(protocol)
    peer.server.start()
    upstream = memory_channel()
    try:
        sink = start_sink(upstream, peer.server.port, protocol=protocol, **{"batch-size": "7"})
        sent = fill(upstream, 30)
        while sink.process() is Status.READY:
            pass
        assert peer.events == sent
        assert peer.methods == ["appendBatch"] * 5
    finally:
        upstream.stop()
        peer.server.stop()


def test_our_sink_rolls_back_when_the_library_server_answers_failed(
    start_sink: StartSink
) -> None:
    peer = _RecordingLibraryServer("compact")
    peer.server.start()
    upstream = memory_channel()
    try:
        sink = start_sink(upstream, peer.server.port)
        sent = fill(upstream, 4)
        peer.answer = FAILED
        with pytest.raises(EventDeliveryException, match="FAILED"):
            sink.process()
        peer.answer = OK
        assert sink.process() is Status.READY
        assert peer.events == sent
    finally:
        upstream.stop()
        peer.server.stop()
