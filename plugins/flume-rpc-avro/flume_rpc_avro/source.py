"""``avro`` source: Flume's AvroSource, an Avro IPC server for ``append``/``appendBatch``.

Each call's events go to the channel processor in one batch; the source answers
``OK`` only after the channel commit returned, and ``FAILED`` when a required channel
refused the batch, so the sending agent keeps the events and retries. Bad input
(garbage, truncated or oversized frames, a foreign protocol, a client stalling
mid-frame) closes that connection and counts ``EventReadFail``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import attrs

from flume_rpc_avro._framing import DEFAULT_MAX_FRAME_SIZE
from flume_rpc_avro._ipfilter import IpFilter, parse_ip_filter_rules
from flume_rpc_avro._protocol import AvroStatus
from flume_rpc_avro._server import AvroRpcServer, ServerOptions
from flume_sdk import (
    Event,
    RpcSource,
    TlsServerSettings,
    at_least,
    bind_problems,
    in_range,
    one_of,
    setting,
)

__all__ = ["AvroSource", "AvroSourceSettings"]



@attrs.frozen(kw_only=True)
class AvroSourceSettings(TlsServerSettings):
    """The avro source's keys; Flume's TLS keys come from ``TlsServerSettings``."""

    bind: str = setting(required=True, help="address to listen on")
    port: int = setting(required=True, validator=in_range(0, 65535), help="TCP port (0 = any)")
    threads: int = setting(default=16, validator=at_least(0),
                           help="worker threads decoding calls and writing the channel (0 = 16)")
    compression_type: str = setting("compression-type", default="none",
                                    validator=one_of("none", "deflate"),
                                    help="must match the sending sink's compression-type")
    ip_filter: bool = setting("ipFilter", default=False, help="apply ipFilterRules")
    ip_filter_rules: str = setting("ipFilterRules", default="",
                                   help="allow|deny:ip|name:pattern,... first match wins")
    max_frame_size: int = setting("max-frame-size", default=DEFAULT_MAX_FRAME_SIZE,
                                  validator=at_least(1024),
                                  help="largest request in bytes; larger ones close the connection")
    frame_timeout: float = setting("frame-timeout", default=30.0, validator=at_least(0.01),
                                   help="seconds a client has to send a whole frame, from its "
                                   "first byte")
    idle_timeout: float = setting("idle-timeout", default=300.0, validator=at_least(0.01),
                                  help="seconds a connection may stay idle between calls")
    max_connections: int = setting("max-connections", default=500, validator=at_least(1),
                                   help="connections served at once; more are closed at once "
                                   "and counted in RefusedConnectionCount")

    def preflight(self) -> Iterator[tuple[str, str]]:
        yield from bind_problems("port", self.bind, self.port)

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        if self.ip_filter:
            try:
                parse_ip_filter_rules(self.ip_filter_rules)
            except ValueError as exc:
                yield "ipFilterRules", str(exc)


class AvroSource(RpcSource):
    """Receive events from Avro sinks and ``avro-client`` (Java Flume's or ours)."""

    Settings: ClassVar[type] = AvroSourceSettings
    settings: AvroSourceSettings

    def make_server(self) -> AvroRpcServer:
        return AvroRpcServer(self._options(), self._handle, on_bad_input=self.count_bad_input,
                             on_connections=self.count_connections, component=self,
                             on_refused=self.count_refused)

    def _options(self) -> ServerOptions:
        s = self.settings
        rules = parse_ip_filter_rules(s.ip_filter_rules) if s.ip_filter else None
        return ServerOptions(
            host=s.bind, port=s.port, threads=s.threads or 16,
            deflate=s.compression_type.lower() == "deflate",
            ssl_context=s.server_ssl_context(self.name),
            ip_filter=IpFilter(rules) if rules is not None else None,
            max_frame_size=s.max_frame_size, frame_timeout=s.frame_timeout,
            idle_timeout=s.idle_timeout, max_connections=s.max_connections,
        )

    def _handle(self, message: str, raw_events: list[dict[str, Any]]) -> AvroStatus:
        events = [Event(body=e["body"], headers=e["headers"]) for e in raw_events]
        ok = self.deliver_call(events, single=message == "append")
        return AvroStatus.OK if ok else AvroStatus.FAILED
