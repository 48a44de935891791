"""``netcatudp``: one event per line of each UDP datagram, as Flume's ``NetcatUdpSource``.

UDP cannot acknowledge or push back. Datagrams that are already waiting when one
arrives are delivered together as one batch; when the channel refuses it, the
events are dropped and counted (``EventDroppedCount``, ``ChannelWriteFail``) and the
reason is logged, instead of vanishing silently.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    Clock,
    Event,
    EventDrivenSource,
    bind_problems,
    in_range,
    setting,
)

__all__ = ["NetcatUdpSource", "NetcatUdpSourceSettings", "split_datagram"]

log = logging.getLogger("flume_sdk.source.netcatudp")
_POLL = 0.5
_MAX_DATAGRAM = 65535
_RECEIVE_BUFFER = 4 * 1024 * 1024
_BURST = 1000


@attrs.frozen(kw_only=True)
class NetcatUdpSourceSettings:
    bind: str = setting(required=True, help="address to listen on")
    port: int = setting(required=True, validator=in_range(0, 65535), help="UDP port (0 = any)")
    remote_address_header: str = setting(
        "remoteAddressHeader", default="",
        help="header that receives the sender's IP address; empty = none")

    def preflight(self) -> Iterator[tuple[str, str]]:
        yield from bind_problems("port", self.bind, self.port, udp=True)


def split_datagram(data: bytes) -> list[bytes]:
    """The lines of one datagram, as Flume reads them: ``\\n`` ends a line, ``\\r`` is dropped.

    A final line without ``\\n`` is still an event; an empty datagram gives none.
    """
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.replace(b"\r", b"") for line in lines]


class NetcatUdpSource(EventDrivenSource):
    """Each line of each datagram becomes an event; ``remoteAddressHeader`` names the sender."""

    Settings: ClassVar[type] = NetcatUdpSourceSettings
    settings: NetcatUdpSourceSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("EventDroppedCount",)

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        return int(self._socket.getsockname()[1]) if self._socket else self.settings.port

    def do_start(self) -> None:
        self._stopping.clear()
        sock = socket.socket(socket.AF_INET6 if ":" in self.settings.bind else socket.AF_INET,
                             socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
            sock.bind((self.settings.bind, self.settings.port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._socket = sock
        self._thread = threading.Thread(target=self._receive_loop, name=f"{self.name}-udp",
                                        daemon=True)
        self._thread.start()

    def do_stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _receive_loop(self) -> None:
        sock = self._socket
        assert sock is not None
        while not self._stopping.is_set():
            try:
                readable, _, _ = select.select([sock], [], [], _POLL)
                datagrams = self._waiting(sock) if readable else []
            except OSError as exc:
                if not self._stopping.is_set():
                    self.fail(exc)
                return
            self._deliver(self._events(datagrams))

    @staticmethod
    def _waiting(sock: socket.socket) -> list[tuple[bytes, Any]]:
        """The datagrams queued now (at most a burst's worth), without waiting."""
        out: list[tuple[bytes, Any]] = []
        while len(out) < _BURST:
            try:
                out.append(sock.recvfrom(_MAX_DATAGRAM))
            except (BlockingIOError, InterruptedError):
                break
        return out

    def _events(self, datagrams: list[tuple[bytes, Any]]) -> list[Event]:
        header = self.settings.remote_address_header
        events: list[Event] = []
        for data, address in datagrams:
            headers = {header: str(address[0])} if header else {}
            events.extend(Event(line, dict(headers)) for line in split_datagram(data))
        return events

    def _deliver(self, events: list[Event]) -> None:
        if not events:
            return
        delivered = self.deliver(events)
        if not delivered:
            dropped = len(events) - delivered.accepted
            self.counter.incr("EventDroppedCount", dropped)
            log.warning("%s: dropped %d event(s): the channel refused them and UDP cannot "
                        "push back: %s", self.name, dropped, delivered.error)
