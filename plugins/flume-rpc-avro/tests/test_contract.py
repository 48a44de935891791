"""The ``avro`` source passes ``SourceContract`` and the ``avro`` sink passes ``SinkContract``.

The source is driven by our own ``AvroRpcClient`` (one ``appendBatch`` per drive; ``OK`` is
the acknowledgement). The sink's destination is an ``AvroRpcServer`` from this plugin that
records what it is sent and can be told to answer ``FAILED`` (a broken destination).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flume_rpc_avro import AvroRpcClient, AvroRpcServer, AvroStatus, ServerOptions
from flume_rpc_avro._errors import AvroRpcError, DeliveryFailedError
from flume_rpc_avro.sink import AvroSink
from flume_rpc_avro.source import AvroSource
from flume_testkit import SinkContract, SourceContract, SourceDriver

from flume_sdk import Event, Sink

__all__ = ["RecordingAvroServer", "TestAvroSinkContract", "TestAvroSourceContract"]

pytestmark = pytest.mark.timeout(120)


def drive_avro(driver: SourceDriver, count: int) -> int:
    """Send ``count`` events in one ``appendBatch``; all are acknowledged by an ``OK``."""
    source = driver.source
    assert isinstance(source, AvroSource)
    batch = [{"headers": {"n": str(i)}, "body": b"contract %d" % i} for i in range(count)]
    with AvroRpcClient("127.0.0.1", source.port, connect_timeout=5,
                       request_timeout=5) as client:
        try:
            client.append_batch(batch)
        except (DeliveryFailedError, AvroRpcError, OSError):
            return 0
    return count


class TestAvroSourceContract(SourceContract):
    """avro source: ``OK`` only after the channel commit, ``FAILED`` when it was refused."""

    @pytest.fixture
    def make_source(self) -> Callable[..., AvroSource]:
        def make(**overrides: str) -> AvroSource:
            return AvroSource.from_config(
                "r1", {"bind": "127.0.0.1", "port": "0", "threads": "2", **overrides})
        return make

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        return drive_avro


class RecordingAvroServer:
    """An Avro destination that records every event and can be made to answer ``FAILED``."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.refusing = False
        self._lock = threading.Lock()
        # one worker thread, started by warm_up() before any driver counts threads
        self.server = AvroRpcServer(ServerOptions(host="127.0.0.1", port=0, threads=1),
                                    self._handle)

    def warm_up(self) -> None:
        """Start the server's lazily created worker thread with one call, then forget it."""
        with AvroRpcClient("127.0.0.1", self.server.port, request_timeout=5) as client:
            client.append({"headers": {}, "body": b"warm-up"})
        with self._lock:
            self.events.clear()

    def _handle(self, message: str, events: list[dict[str, Any]]) -> AvroStatus:
        if self.refusing:
            return AvroStatus.FAILED
        with self._lock:
            self.events.extend(Event(body=e["body"], headers=dict(e["headers"]))
                               for e in events)
        return AvroStatus.OK

    def received(self) -> list[Event]:
        with self._lock:
            return list(self.events)


@pytest.fixture
def destination() -> Iterator[RecordingAvroServer]:
    server = RecordingAvroServer()
    server.server.start()
    server.warm_up()
    yield server
    server.server.stop()


class TestAvroSinkContract(SinkContract):
    """avro sink: commits only after the next hop answered ``OK``."""

    batch_size_key = "batch-size"

    @pytest.fixture
    def make_sink(self, destination: RecordingAvroServer) -> Callable[..., AvroSink]:
        def make(**overrides: str) -> AvroSink:
            return AvroSink.from_config("k1", {
                "hostname": "127.0.0.1", "port": str(destination.server.port),
                "connect-timeout": "2000", "request-timeout": "5000", **overrides})
        return make

    @pytest.fixture
    def delivered(self, destination: RecordingAvroServer) -> Callable[[Sink], list[Event]]:
        return lambda sink: destination.received()

    @pytest.fixture
    def break_destination(self, destination: RecordingAvroServer) -> Callable[[Sink], None]:
        def refuse(sink: Sink) -> None:
            destination.refusing = True
        return refuse

    @pytest.fixture
    def heal_destination(self, destination: RecordingAvroServer) -> Callable[[Sink], None]:
        def accept(sink: Sink) -> None:
            destination.refusing = False
        return accept
