"""``avro`` sink: Flume's AvroSink, sending batches to the next agent's Avro source.

The channel transaction is committed only after the next hop answered ``OK``; a
``FAILED`` answer, a timeout or a broken connection raises ``EventDeliveryException``
so the batch is rolled back and retried. The connection is re-opened on the next
batch, which is what makes ``failover`` and ``load_balance`` sink groups work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import attrs

from flume_rpc_avro._client import AvroRpcClient
from flume_rpc_avro._errors import AvroRpcError, DeliveryFailedError
from flume_sdk import (
    SYSTEM_CLOCK,
    BatchSink,
    Clock,
    Event,
    EventDeliveryException,
    RpcSinkSettings,
    at_least,
    in_range,
    one_of,
    setting,
)

__all__ = ["AvroSink", "AvroSinkSettings"]

log = logging.getLogger("flume_rpc_avro.sink")


@attrs.frozen(kw_only=True)
class AvroSinkSettings(RpcSinkSettings):
    """The avro sink's keys; the next hop, timeouts and TLS come from ``RpcSinkSettings``."""

    compression_type: str = setting("compression-type", default="none",
                                    validator=one_of("none", "deflate"),
                                    help="must match the source's compression-type")
    compression_level: int = setting("compression-level", default=6, validator=in_range(0, 9),
                                     help="zlib level with deflate")
    max_io_workers: int = setting("maxIoWorkers", default=0, validator=at_least(0),
                                  help="accepted with a warning; one connection needs no pool")

    def warnings(self) -> Iterator[tuple[str, str]]:
        yield from super().warnings()
        if self.max_io_workers:
            yield "maxIoWorkers", "has no effect: the sink holds one blocking connection"


class AvroSink(BatchSink):
    """Deliver each batch with one ``appendBatch`` call; commit only after ``OK``."""

    Settings: ClassVar[type] = AvroSinkSettings
    settings: AvroSinkSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._client: AvroRpcClient | None = None
        self._connected_at = 0.0

    def do_start(self) -> None:
        self._client = self._new_client()
        try:
            self._connect()
        except EventDeliveryException as exc:
            log.warning("Avro sink %s starts disconnected: %s", self.name, exc)

    def do_stop(self) -> None:
        self._disconnect()
        self._client = None

    def deliver(self, events: Sequence[Event]) -> None:
        client = self._ready_client()
        batch = [{"headers": e.headers, "body": e.body} for e in events]
        try:
            client.append_batch(batch)
        except (AvroRpcError, DeliveryFailedError, OSError) as exc:
            self._disconnect()
            msg = (f"Avro sink {self.name!r} could not deliver {len(batch)} event(s) to "
                   f"{client.host}:{client.port}: {exc}")
            raise EventDeliveryException(msg) from exc

    def _ready_client(self) -> AvroRpcClient:
        if self._client is None:
            self._client = self._new_client()
        interval = self.settings.reset_connection_interval
        expired = interval and self.clock.monotonic() - self._connected_at >= interval
        if self._client.is_open and expired:
            log.info("Avro sink %s: resetting the connection after %ds", self.name, interval)
            self._disconnect()
        if not self._client.is_open:
            self._connect()
        return self._client

    def _connect(self) -> None:
        assert self._client is not None
        try:
            self._client.connect()
        except OSError as exc:
            self.counter.incr("ConnectionFailedCount")
            msg = (f"Avro sink {self.name!r} cannot connect to "
                   f"{self.settings.hostname}:{self.settings.port}: {exc}")
            raise EventDeliveryException(msg) from exc
        self.counter.incr("ConnectionCreatedCount")
        self._connected_at = self.clock.monotonic()

    def _disconnect(self) -> None:
        if self._client is not None and self._client.is_open:
            self._client.close()
            self.counter.incr("ConnectionClosedCount")

    def _new_client(self) -> AvroRpcClient:
        s = self.settings
        return AvroRpcClient(
            s.hostname, s.port,
            connect_timeout=s.connect_timeout / 1000, request_timeout=s.request_timeout / 1000,
            compression_level=(s.compression_level if s.compression_type.lower() == "deflate"
                               else None),
            ssl_context=s.client_ssl_context(self.name),
        )
