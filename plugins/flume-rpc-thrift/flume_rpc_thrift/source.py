"""``thrift`` source: Flume's ThriftSource, a Thrift server for ``append``/``appendBatch``.

Each call's events go to the channel processor in one batch; the source answers
``OK`` only after the channel commit returned, and ``FAILED`` when a required channel
refused the batch, so the sending agent keeps the events and retries. Bad input
(garbage, oversized or truncated frames, the other protocol, an unknown method, a
client stalling mid-frame or sending nothing) closes that connection and counts
``EventReadFail``.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import attrs
from flume_rpc_thrift._framing import DEFAULT_MAX_FRAME_SIZE
from flume_rpc_thrift._messages import ThriftStatus
from flume_rpc_thrift._server import ServerOptions, ThriftRpcServer
from flume_rpc_thrift._settings import ThriftCommonSettings

from flume_sdk import (
    SYSTEM_CLOCK,
    ChannelException,
    Clock,
    Event,
    EventDrivenSource,
    TlsServerSettings,
    at_least,
    in_range,
    setting,
)

__all__ = ["ThriftSource", "ThriftSourceSettings"]

log = logging.getLogger("flume_rpc_thrift.source")


@attrs.frozen(kw_only=True)
class ThriftSourceSettings(ThriftCommonSettings, TlsServerSettings):
    """The thrift source's keys; Flume's TLS keys come from ``TlsServerSettings``."""

    bind: str = setting(required=True, help="address to listen on")
    port: int = setting(required=True, validator=in_range(0, 65535), help="TCP port (0 = any)")
    threads: int = setting(default=0, validator=at_least(0),
                           help="connections served at once, one thread each (0 = unlimited)")
    agent_principal: str = setting("agent-principal", default="",
                                   help="accepted with a warning (no Kerberos)")
    agent_keytab: str = setting("agent-keytab", default="",
                                help="accepted with a warning (no Kerberos)")
    max_frame_size: int = setting("max-frame-size", default=DEFAULT_MAX_FRAME_SIZE,
                                  validator=at_least(1024),
                                  help="largest frame in bytes; larger ones close the connection")
    frame_timeout: float = setting("frame-timeout", default=30.0, validator=at_least(0.01),
                                   help="seconds a client may stall in the middle of a frame")
    idle_timeout: float = setting("idle-timeout", default=300.0, validator=at_least(0.01),
                                  help="seconds a connection may stay idle between calls")

    def kerberos_keys(self) -> dict[str, str]:
        return {"agent-principal": self.agent_principal, "agent-keytab": self.agent_keytab}


class ThriftSource(EventDrivenSource):
    """Receive events from Thrift sinks and RpcClients (Java Flume's or ours)."""

    Settings: ClassVar[type] = ThriftSourceSettings
    settings: ThriftSourceSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._server: ThriftRpcServer | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        return self._server.port if self._server else self.settings.port

    def do_start(self) -> None:
        server = ThriftRpcServer(
            self._options(), self._handle,
            on_bad_input=self._bad_input, on_connections=self._connections,
        )
        server.start()
        self._server = server
        log.info("Thrift source %s listening on %s:%d (%s protocol)", self.name,
                 self.settings.bind, server.port, self.settings.protocol.lower())

    def do_stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        self.counter.set("OpenConnectionCount", 0)

    def _options(self) -> ServerOptions:
        s = self.settings
        return ServerOptions(
            host=s.bind, port=s.port, protocol=s.protocol, max_connections=s.threads,
            ssl_context=s.server_ssl_context(self.name), max_frame_size=s.max_frame_size,
            frame_timeout=s.frame_timeout, idle_timeout=s.idle_timeout,
        )

    def _handle(self, method: str, events: list[Event]) -> ThriftStatus:
        single = method == "append"
        counter = self.counter
        counter.incr("AppendReceivedCount" if single else "AppendBatchReceivedCount")
        counter.incr("EventReceivedCount", len(events))
        try:
            self.channel_processor.process_batch(events)
        except ChannelException as exc:
            log.warning("Thrift source %s: channel refused %d event(s): %s", self.name,
                        len(events), exc)
            counter.incr("ChannelWriteFail")
            return ThriftStatus.FAILED
        counter.incr("AppendAcceptedCount" if single else "AppendBatchAcceptedCount")
        counter.incr("EventAcceptedCount", len(events))
        return ThriftStatus.OK

    def _bad_input(self, peer: str, exc: Exception) -> None:
        self.counter.incr("EventReadFail")

    def _connections(self, count: int) -> None:
        self.counter.set("OpenConnectionCount", count)
