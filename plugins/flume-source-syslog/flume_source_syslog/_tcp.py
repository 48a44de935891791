"""``syslogtcp`` and ``multiport_syslogtcp``: syslog over TCP (optionally TLS).

One asyncio loop in the source's thread serves every port and connection, so idle or silent
clients cost a socket and a small object, not a thread. Each read (up to ``readBufferBytes``)
is framed and parsed in one go and delivered in batches. While the channel is full the
connection is not read. When a client closes, its last unterminated message is delivered and
only then is the connection (and a TLS session's close_notify) closed: nothing is acknowledged
before it is committed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

from flume_sdk import EventDrivenSource, RateLimitedLog, limit_asyncio_errors
from flume_source_syslog._loop import BatchDelivery, LoopThread, reverse_dns
from flume_source_syslog._parser import SyslogParser
from flume_source_syslog._settings import MultiportSyslogTcpSettings, SyslogTcpSettings
from flume_source_syslog._stream import SyslogStream

__all__ = ["MultiportSyslogTcpSource", "SyslogTcpSource"]

_ACCEPT_SETTLE_TURNS = 8
_IDLE_SWEEP_S = 1.0

log = logging.getLogger("flume_source_syslog")


class _Connection(asyncio.BufferedProtocol):
    """One client connection: read into a buffer, frame, parse, deliver."""

    def __init__(self, source: _TcpSource, port: int, parser: SyslogParser) -> None:
        self._source = source
        self._port = port
        self._parser = parser
        self._transport: asyncio.Transport | None = None
        self.last_message = 0.0  # loop time of the last complete message (or of connecting)
        self._stream = SyslogStream(parser, source.settings.event_size)
        self._delivery: BatchDelivery | None = None
        self._eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._source.health.ok("accept")  # accepting works (again)
        if len(self._source.connections) >= self._source.settings.max_connections:
            self._source.refuse(transport)
            return
        self.last_message = self._source.loop_thread.loop.time()
        self._source.connections.add(self)
        self._source.counter.incr("OpenConnectionCount")
        self._delivery = BatchDelivery(
            self._source, self._source.loop_thread.timer, self._extra_headers(), self._pause
        )

    def _extra_headers(self) -> dict[str, str]:
        settings = self._source.settings
        peer = self._transport.get_extra_info("peername") if self._transport else None
        address = str(peer[0]) if peer else ""
        extra: dict[str, str] = {}
        if settings.client_ip_header:
            extra[settings.client_ip_header] = address
        if settings.client_hostname_header:
            extra[settings.client_hostname_header] = reverse_dns(address, self._source.dns_cache)
        port_header = getattr(settings, "port_header", "")
        if port_header:
            extra[port_header] = str(self._port)
        return extra

    def get_buffer(self, sizehint: int) -> memoryview:
        # One buffer per source: the loop fills it and calls buffer_updated before any other
        # read, so connections need no buffer of their own (256 KiB each otherwise).
        return self._source.read_view

    def buffer_updated(self, nbytes: int) -> None:
        assert self._delivery is not None
        events = self._stream.feed(bytes(self._source.read_view[:nbytes]))
        if events:
            self.last_message = self._source.loop_thread.loop.time()
        self._delivery.add(events)

    def eof_received(self) -> bool:
        if self._delivery is None:  # refused
            return False
        self._eof = True
        self._delivery.add(self._stream.finish())
        # False: asyncio closes the transport now; True: keep it until the commit (see _pause)
        return self._delivery.blocked

    def connection_lost(self, exc: Exception | None) -> None:
        if self._delivery is None:  # refused
            return
        self._source.connections.discard(self)
        self._source.counter.incr("OpenConnectionCount", -1)
        if not self._eof:
            self._delivery.add(self._stream.finish())
        self._transport = None

    def _pause(self, blocked: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if blocked:
            transport.pause_reading()
        elif self._eof:
            transport.close()
        else:
            transport.resume_reading()

    def stop(self) -> None:
        """Abandon retries and close (source stopping)."""
        if self._delivery is not None:
            self._delivery.cancel()
        if self._transport is not None:
            self._transport.close()


class _TcpSource(EventDrivenSource):
    settings: SyslogTcpSettings | MultiportSyslogTcpSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("RefusedConnectionCount",)

    def do_start(self) -> None:
        self.connections: set[_Connection] = set()
        self.dns_cache: dict[str, str] = {}
        self.read_view = memoryview(bytearray(self.settings.read_buffer_bytes))
        self.limited = RateLimitedLog(log, f"source {self.name}", clock=self.clock)
        self.loop_thread = LoopThread(f"{type(self).__name__}-{self.name}", self.clock)
        limit_asyncio_errors(self.loop_thread.loop, self, log, clock=self.clock)
        self.loop_thread.loop.call_soon_threadsafe(self._close_idle)
        try:
            self._servers = self.loop_thread.call(self._listen)
        except BaseException:
            self.loop_thread.close()
            raise

    def do_stop(self) -> None:
        try:
            self.loop_thread.call(self._shutdown)
        finally:
            self.loop_thread.close()

    def refuse(self, transport: asyncio.Transport) -> None:
        """Over ``maxConnections``: close at once, count, log within limits."""
        transport.abort()
        self.counter.incr("RefusedConnectionCount")
        self.limited.failed("refused",
                            f"maxConnections = {self.settings.max_connections} are open")

    def _close_idle(self) -> None:
        """Every second (on the loop): close connections without a message for idleTimeout."""
        loop = self.loop_thread.loop
        limit = loop.time() - self.settings.idle_timeout
        for connection in [c for c in self.connections if c.last_message < limit]:
            log.debug("%s: closing a connection without a complete message for %gs",
                      self.name, self.settings.idle_timeout)
            connection.stop()
        loop.call_later(_IDLE_SWEEP_S, self._close_idle)

    @property
    def ports(self) -> list[int]:
        """The bound ports, in configuration order (resolves port 0)."""
        return [s.sockets[0].getsockname()[1] for s in self._servers]

    def _ports(self) -> tuple[int, ...]:
        raise NotImplementedError

    def _charset(self, port: int) -> str:
        charsets = self.settings.charset
        return charsets.get(f"port.{port}", charsets.get("default", "utf-8"))

    async def _listen(self) -> list[asyncio.Server]:
        loop = asyncio.get_running_loop()
        context = self.settings.server_ssl_context(self.name)
        servers = []
        for port in self._ports():
            parser = SyslogParser(
                keep_fields=self.settings.keep_fields,
                charset=self._charset(port),
                now=self.clock.time,
            )
            server = await loop.create_server(
                lambda port=port, parser=parser: _Connection(self, port, parser),
                self.settings.host, port, ssl=context, backlog=1024, reuse_address=True,
            )
            servers.append(server)
        return servers

    async def _shutdown(self) -> None:
        # Let connections waiting in the backlog finish their accept first: closing the
        # server mid-accept makes Python 3.11 fail it and leak the socket.
        for _ in range(_ACCEPT_SETTLE_TURNS):
            await asyncio.sleep(0)
        for server in self._servers:
            server.close()
        for connection in list(self.connections):
            connection.stop()
        for server in self._servers:
            await server.wait_closed()


class SyslogTcpSource(_TcpSource):
    """Flume's ``syslogtcp``: RFC 3164/5424 over TCP on one port.

    Framing (newline or RFC 6587 octet counting) is detected per connection.
    """

    Settings: ClassVar[type] = SyslogTcpSettings
    settings: SyslogTcpSettings

    def _ports(self) -> tuple[int, ...]:
        return (self.settings.port,)


class MultiportSyslogTcpSource(_TcpSource):
    """Flume's ``multiport_syslogtcp``: several ports, with ``charset.port.<port>`` and
    ``portHeader``; the same parser and header names as ``syslogtcp``."""

    Settings: ClassVar[type] = MultiportSyslogTcpSettings
    settings: MultiportSyslogTcpSettings

    def _ports(self) -> tuple[int, ...]:
        return self.settings.ports
