"""``syslogudp``: one datagram is one message (RFC 5426).

UDP has no way to push back on a sender. Datagrams that arrive in one burst are delivered as one
batch; if the channel refuses it, the events are dropped and counted (``EventDroppedCount``,
``ChannelWriteFail``) with the reason logged, instead of vanishing silently.
"""

from __future__ import annotations

import asyncio
import socket
from typing import ClassVar

from flume_sdk import Event, EventDrivenSource
from flume_source_syslog._loop import BatchDelivery, LoopThread, reverse_dns
from flume_source_syslog._parser import SyslogParser
from flume_source_syslog._settings import SyslogUdpSettings
from flume_source_syslog._stream import decode_datagram

__all__ = ["SyslogUdpSource"]

_RECEIVE_BUFFER = 4 * 1024 * 1024
_CLOSE_TIMEOUT = 5.0


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, source: SyslogUdpSource, parser: SyslogParser) -> None:
        self._source = source
        self._parser = parser
        self._burst: dict[tuple[str, ...], list[Event]] = {}
        self._scheduled = False
        self.closed: asyncio.Future[None] = source.loop_thread.loop.create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def datagram_received(self, data: bytes, addr: tuple[str | bytes | None, int]) -> None:
        event = decode_datagram(self._parser, data, self._parser.now())
        if event is None:
            return
        self._burst.setdefault(self._source.extra_for(str(addr[0])), []).append(event)
        if not self._scheduled:
            self._scheduled = True
            self._source.loop_thread.loop.call_soon(self._deliver)

    def _deliver(self) -> None:
        self._scheduled = False
        burst, self._burst = self._burst, {}
        for extra, events in burst.items():
            delivery = BatchDelivery(
                self._source, self._source.loop_thread.timer, dict(zip(extra[::2], extra[1::2], strict=True)),
                lambda blocked: None,
            )
            delivery.add(events)
            if delivery.blocked:
                dropped = delivery.drop("channel full; UDP cannot apply backpressure")
                delivery.cancel()
                self._source.counter.incr("EventDroppedCount", dropped)


class SyslogUdpSource(EventDrivenSource):
    """Flume's ``syslogudp``."""

    Settings: ClassVar[type] = SyslogUdpSettings
    settings: SyslogUdpSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("EventDroppedCount",)

    def do_start(self) -> None:
        self.dns_cache: dict[str, str] = {}
        parser = SyslogParser(
            keep_fields=self.settings.keep_fields,
            charset=self.settings.charset.get(f"port.{self.settings.port}",
                                              self.settings.charset.get("default", "utf-8")),
            now=self.clock.time,
        )
        self.loop_thread = LoopThread(f"SyslogUdpSource-{self.name}", self.clock)
        try:
            self._transport = self.loop_thread.call(lambda: self._bind(parser))
        except BaseException:
            self.loop_thread.close()
            raise

    async def _bind(self, parser: SyslogParser) -> asyncio.DatagramTransport:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self, parser), local_addr=(self.settings.host, self.settings.port)
        )
        self._protocol = protocol
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
        return transport

    @property
    def port(self) -> int:
        """The bound port (resolves port 0)."""
        return int(self._transport.get_extra_info("sockname")[1])

    def extra_for(self, address: str) -> tuple[str, ...]:
        """Extra headers for a datagram from ``address``, flattened (hashable)."""
        settings = self.settings
        extra: list[str] = []
        if settings.client_ip_header:
            extra += [settings.client_ip_header, address]
        if settings.client_hostname_header:
            extra += [settings.client_hostname_header, reverse_dns(address, self.dns_cache)]
        return tuple(extra)

    def do_stop(self) -> None:
        try:
            self.loop_thread.call(self._close)
        finally:
            self.loop_thread.close()

    async def _close(self) -> None:
        """Close the socket and wait until asyncio really released it (connection_lost)."""
        self._transport.close()
        await asyncio.wait_for(asyncio.shield(self._protocol.closed), _CLOSE_TIMEOUT)
