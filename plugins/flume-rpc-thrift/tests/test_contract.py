"""The ``thrift`` source passes ``SourceContract`` and the ``thrift`` sink passes ``SinkContract``.

The source is driven by our ``ThriftRpcClient`` (one ``appendBatch`` per drive; ``OK`` is
the acknowledgement). The sink's destination is a ``ThriftRpcServer`` from this plugin
that records what it is sent and can be told to answer ``FAILED``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from flume_rpc_thrift import (
    DeliveryFailedError,
    ServerOptions,
    ThriftRpcClient,
    ThriftRpcError,
    ThriftRpcServer,
    ThriftStatus,
)
from flume_rpc_thrift.sink import ThriftSink
from flume_rpc_thrift.source import ThriftSource
from flume_testkit import SinkContract, SourceContract, SourceDriver

from flume_sdk import Event, Sink

pytestmark = pytest.mark.timeout(120)


def drive_thrift(driver: SourceDriver, count: int) -> int:
    """Send ``count`` events in one ``appendBatch``; all are acknowledged by an ``OK``."""
    source = driver.source
    assert isinstance(source, ThriftSource)
    batch = [Event(body=b"contract %d" % i, headers={"n": str(i)}) for i in range(count)]
    with ThriftRpcClient("127.0.0.1", source.port, connect_timeout=5,
                         request_timeout=5) as client:
        try:
            client.append_batch(batch)
        except (DeliveryFailedError, ThriftRpcError, OSError):
            return 0
    return count


class TestThriftSourceContract(SourceContract):
    """thrift source: ``OK`` only after the channel commit, ``FAILED`` when it was refused."""

    @pytest.fixture
    def make_source(self) -> Callable[..., ThriftSource]:
        def make(**overrides: str) -> ThriftSource:
            return ThriftSource.from_config("r1", {"bind": "127.0.0.1", "port": "0",
                                                   **overrides})
        return make

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        return drive_thrift


class RecordingThriftServer:
    """A Thrift destination that records every event and can be made to answer ``FAILED``."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.refusing = False
        self._lock = threading.Lock()
        self.server = ThriftRpcServer(ServerOptions(host="127.0.0.1", port=0), self._handle)

    def _handle(self, method: str, events: list[Event]) -> ThriftStatus:
        if self.refusing:
            return ThriftStatus.FAILED
        with self._lock:
            self.events.extend(events)
        return ThriftStatus.OK

    def received(self) -> list[Event]:
        with self._lock:
            return list(self.events)


@pytest.fixture
def destination() -> Iterator[RecordingThriftServer]:
    server = RecordingThriftServer()
    server.server.start()
    yield server
    server.server.stop()


class TestThriftSinkContract(SinkContract):
    """thrift sink: commits only after the next hop answered ``OK``."""

    batch_size_key = "batch-size"

    @pytest.fixture
    def make_sink(self, destination: RecordingThriftServer) -> Callable[..., ThriftSink]:
        def make(**overrides: str) -> ThriftSink:
            return ThriftSink.from_config("k1", {
                "hostname": "127.0.0.1", "port": str(destination.server.port),
                "connect-timeout": "2000", "request-timeout": "5000", **overrides})
        return make

    @pytest.fixture
    def delivered(self, destination: RecordingThriftServer) -> Callable[[Sink], list[Event]]:
        return lambda sink: destination.received()

    @pytest.fixture
    def break_destination(self, destination: RecordingThriftServer) -> Callable[[Sink], None]:
        def refuse(sink: Sink) -> None:
            destination.refusing = True
        return refuse

    @pytest.fixture
    def heal_destination(self, destination: RecordingThriftServer) -> Callable[[Sink], None]:
        def accept(sink: Sink) -> None:
            destination.refusing = False
        return accept
