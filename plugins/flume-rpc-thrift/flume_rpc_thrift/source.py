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
from collections.abc import Iterator
from typing import ClassVar

import attrs

from flume_rpc_thrift._framing import DEFAULT_MAX_FRAME_SIZE
from flume_rpc_thrift._messages import ThriftStatus
from flume_rpc_thrift._server import ServerOptions, ThriftRpcServer
from flume_rpc_thrift._settings import ThriftCommonSettings
from flume_sdk import (
    AcceptBackoff,
    Event,
    RpcSource,
    TlsServerSettings,
    at_least,
    bind_problems,
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
                           help="connections served at once, one thread each; more wait in "
                           "the listen backlog (0 = up to max-connections)")
    max_connections: int = setting("max-connections", default=500, validator=at_least(1),
                                   help="connections (and threads) served at once; more are "
                                   "closed at once and counted in RefusedConnectionCount")
    agent_principal: str = setting("agent-principal", default="",
                                   help="accepted with a warning (no Kerberos)")
    agent_keytab: str = setting("agent-keytab", default="",
                                help="accepted with a warning (no Kerberos)")
    max_frame_size: int = setting("max-frame-size", default=DEFAULT_MAX_FRAME_SIZE,
                                  validator=at_least(1024),
                                  help="largest frame in bytes; larger ones close the connection")
    frame_timeout: float = setting("frame-timeout", default=30.0, validator=at_least(0.01),
                                   help="seconds a client has to send a whole frame, from its "
                                   "first byte (and to read an answer)")
    idle_timeout: float = setting("idle-timeout", default=300.0, validator=at_least(0.01),
                                  help="seconds a connection may stay idle between calls")

    def kerberos_keys(self) -> dict[str, str]:
        return {"agent-principal": self.agent_principal, "agent-keytab": self.agent_keytab}

    def preflight(self) -> Iterator[tuple[str, str]]:
        yield from bind_problems("port", self.bind, self.port)


class ThriftSource(RpcSource):
    """Receive events from Thrift sinks and RpcClients (Java Flume's or ours)."""

    Settings: ClassVar[type] = ThriftSourceSettings
    settings: ThriftSourceSettings

    def make_server(self) -> ThriftRpcServer:
        return ThriftRpcServer(self._options(), self._handle, on_bad_input=self.count_bad_input,
                               on_connections=self.count_connections,
                               accept_backoff=AcceptBackoff(self, log, clock=self.clock),
                               on_refused=self.count_refused)

    def _options(self) -> ServerOptions:
        s = self.settings
        return ServerOptions(
            host=s.bind, port=s.port, protocol=s.protocol,
            max_connections=s.max_connections, threads=s.threads,
            ssl_context=s.server_ssl_context(self.name), max_frame_size=s.max_frame_size,
            frame_timeout=s.frame_timeout, idle_timeout=s.idle_timeout,
        )

    def _handle(self, method: str, events: list[Event]) -> ThriftStatus:
        ok = self.deliver_call(events, single=method == "append")
        return ThriftStatus.OK if ok else ThriftStatus.FAILED
