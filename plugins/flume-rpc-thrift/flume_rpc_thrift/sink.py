"""``thrift`` sink: Flume's ThriftSink, sending batches to the next agent's Thrift source.

The channel transaction is committed only after the next hop answered ``OK``; a
``FAILED`` answer, a timeout or a broken connection raises ``EventDeliveryException``
so the batch is rolled back and the sink runner backs off before retrying. Broken
connections are replaced on the next batch, which is what makes ``failover`` and
``load_balance`` sink groups work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from flume_rpc_thrift._client import ConnectionStats, ThriftRpcClient
from flume_rpc_thrift._errors import DeliveryFailedError, ThriftRpcError
from flume_rpc_thrift._settings import ThriftCommonSettings
from flume_sdk import (
    SYSTEM_CLOCK,
    BatchSink,
    Clock,
    Event,
    EventDeliveryException,
    RpcSinkSettings,
    at_least,
    setting,
)

__all__ = ["ThriftSink", "ThriftSinkSettings"]

log = logging.getLogger("flume_rpc_thrift.sink")


@attrs.frozen(kw_only=True)
class ThriftSinkSettings(ThriftCommonSettings, RpcSinkSettings):
    """The thrift sink's keys; the next hop, timeouts and TLS come from ``RpcSinkSettings``."""

    max_connections: int = setting("maxConnections", default=5, validator=at_least(1),
                                   help="connections in the client's pool")
    client_principal: str = setting("client-principal", default="",
                                    help="accepted with a warning (no Kerberos)")
    client_keytab: str = setting("client-keytab", default="",
                                 help="accepted with a warning (no Kerberos)")
    server_principal: str = setting("server-principal", default="",
                                    help="accepted with a warning (no Kerberos)")

    def kerberos_keys(self) -> dict[str, str]:
        return {"client-principal": self.client_principal, "client-keytab": self.client_keytab,
                "server-principal": self.server_principal}


class ThriftSink(BatchSink):
    """Deliver each batch with one ``appendBatch`` call; commit only after ``OK``."""

    Settings: ClassVar[type] = ThriftSinkSettings
    settings: ThriftSinkSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._client: ThriftRpcClient | None = None
        self._reset_at = 0.0
        self._stats = ConnectionStats()  # kept across restarts, like the counters

    def do_start(self) -> None:
        self._client = self._new_client()
        self._reset_at = self.clock.monotonic()

    def do_stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
            self._publish(client.stats)

    def deliver(self, events: Sequence[Event]) -> None:
        client = self._ready_client()
        try:
            client.append_batch(events)
        except (ThriftRpcError, DeliveryFailedError, OSError) as exc:
            msg = (f"Thrift sink {self.name!r} could not deliver {len(events)} event(s) to "
                   f"{client.host}:{client.port}: {exc}")
            raise EventDeliveryException(msg) from exc
        finally:
            self._publish(client.stats)

    def _ready_client(self) -> ThriftRpcClient:
        if self._client is None:
            self._client = self._new_client()
        interval = self.settings.reset_connection_interval
        if interval and self.clock.monotonic() - self._reset_at >= interval:
            log.info("Thrift sink %s: resetting its connections after %ds", self.name, interval)
            self._client.reset()
            self._reset_at = self.clock.monotonic()
        return self._client

    def _publish(self, stats: ConnectionStats) -> None:
        counter = self.counter
        counter.set("ConnectionCreatedCount", stats.created)
        counter.set("ConnectionFailedCount", stats.failed)
        counter.set("ConnectionClosedCount", stats.closed)

    def _new_client(self) -> ThriftRpcClient:
        s = self.settings
        return ThriftRpcClient(
            s.hostname, s.port, protocol=s.protocol,
            connect_timeout=s.connect_timeout / 1000, request_timeout=s.request_timeout / 1000,
            max_connections=s.max_connections, ssl_context=s.client_ssl_context(self.name),
            stats=self._stats,
        )
