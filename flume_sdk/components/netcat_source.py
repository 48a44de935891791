"""``netcat``: one event per newline-terminated line over TCP, acknowledged after commit."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    AcceptBackoff,
    Clock,
    Event,
    EventDrivenSource,
    RateLimitedLog,
    at_least,
    bind_problems,
    in_range,
    setting,
)

__all__ = ["NetcatSource"]

log = logging.getLogger("flume_sdk.source.netcat")
_POLL = 0.5


@attrs.frozen(kw_only=True)
class NetcatSourceSettings:
    bind: str = setting(required=True, help="address to listen on")
    port: int = setting(required=True, validator=in_range(0, 65535), help="TCP port (0 = any)")
    max_line_length: int = setting("max-line-length", default=512, validator=at_least(1),
                                   help="longest line in bytes; longer lines are refused")
    ack_every_event: bool = setting("ack-every-event", default=True,
                                    help="reply OK (or FAILED: ...) per line")
    encoding: str = setting(default="utf-8", help="accepted for compatibility; bodies stay bytes")
    max_connections: int = setting("max-connections", default=256, validator=at_least(1),
                                   help="concurrent clients served, one thread each; more get "
                                   "FAILED and are closed (RefusedConnectionCount)")
    idle_timeout: float = setting("idle-timeout", default=300.0, validator=at_least(0.01),
                                  help="seconds a client may go without sending a complete "
                                  "line (idle or dripping bytes) before it is disconnected")

    def preflight(self) -> Iterator[tuple[str, str]]:
        yield from bind_problems("port", self.bind, self.port)


class NetcatSource(EventDrivenSource):
    """Each line a client sends becomes an event; with acks, ``OK`` is sent only after commit.

    A line longer than ``max-line-length`` is refused with ``FAILED: ...`` and
    counted; the connection keeps working. When the channel refuses a batch, each
    of its lines gets ``FAILED: <reason>`` so the client knows to resend.
    """

    Settings: ClassVar[type] = NetcatSourceSettings
    settings: NetcatSourceSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("RefusedConnectionCount",)

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._server: socket.socket | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        return int(self._server.getsockname()[1]) if self._server else self.settings.port

    def do_start(self) -> None:
        self._stopping.clear()
        server = socket.create_server((self.settings.bind, self.settings.port), reuse_port=False)
        server.settimeout(_POLL)
        self._server = server
        self._spawn(self._accept_loop, f"{self.name}-accept")

    def do_stop(self) -> None:
        self._stopping.set()
        if self._server:
            self._server.close()
        with self._lock:
            for client in list(self._clients):
                _shutdown(client)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._server = None

    def _spawn(self, target: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._server is not None
        backoff = AcceptBackoff(self, log, clock=self.clock)
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stopping.is_set() or not backoff.is_transient(exc):
                    if not self._stopping.is_set():
                        self.fail(exc)  # the listener itself broke: the supervisor restarts us
                    return
                backoff.failed(exc, self._stopping)
                continue
            backoff.succeeded()
            with self._lock:
                if len(self._clients) >= self.settings.max_connections:
                    self._refuse(client, backoff.log)
                    continue
                self._clients.add(client)
            self._spawn(self._serve, f"{self.name}-client", client)

    def _refuse(self, client: socket.socket, limited: RateLimitedLog) -> None:
        limit = self.settings.max_connections
        self.counter.incr("RefusedConnectionCount")
        limited.failed("refused", f"max-connections = {limit} clients are open")
        with contextlib.suppress(OSError):
            client.settimeout(0.5)
            client.sendall(f"FAILED: too many connections ({self.name}.max-connections = "
                           f"{limit}); retry later\n".encode())
        client.close()

    def _serve(self, client: socket.socket) -> None:
        self.counter.incr("OpenConnectionCount")
        client.settimeout(_POLL)
        try:
            self._read_lines(client)
        except OSError as exc:
            log.debug("%s: client connection ended: %s", self.name, exc)
        finally:
            self.counter.incr("OpenConnectionCount", -1)
            with self._lock:
                self._clients.discard(client)
            client.close()

    def _read_lines(self, client: socket.socket) -> None:
        pending = b""
        discarding = False
        limit = self.settings.max_line_length
        idle = self.settings.idle_timeout
        last_line = time.monotonic()  # real time, as the socket timeouts
        while not self._stopping.is_set():
            if time.monotonic() - last_line > idle:
                log.debug("%s: closing a client without a complete line for %gs", self.name,
                          idle)
                return
            try:
                chunk = client.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            if lines:
                last_line = time.monotonic()
            replies: list[bytes] = []
            events: list[Event] = []
            for line in lines:
                if discarding:
                    discarding = False
                    continue
                line = line.removesuffix(b"\r")
                if len(line) > limit:
                    replies.append(self._too_long())
                else:
                    events.append(Event(line))
                    replies.append(b"")
            if len(pending) > limit and not discarding:
                discarding, pending = True, b""
                replies.append(self._too_long())
            elif discarding:
                pending = b""
            self._deliver(client, events, replies)

    def _too_long(self) -> bytes:
        self.counter.incr("EventReadFail")
        key = f"{self.name}.max-line-length"
        return f"FAILED: line exceeds {key} = {self.settings.max_line_length} bytes\n".encode()

    def _deliver(self, client: socket.socket, events: list[Event], replies: list[bytes]) -> None:
        if events:
            delivered = self.deliver(events)
            if delivered:
                replies = [r or b"OK\n" for r in replies]
            else:  # lines committed before the refusal are OK: the client resends fewer
                failed = f"FAILED: {delivered.error}".replace("\n", " ").encode() + b"\n"
                answers = iter([b"OK\n"] * delivered.accepted + [failed] * len(events))
                replies = [r or next(answers) for r in replies]
        if self.settings.ack_every_event or any(r.startswith(b"FAILED") for r in replies):
            if not self.settings.ack_every_event:
                replies = [r for r in replies if r.startswith(b"FAILED")]
            if replies:
                client.sendall(b"".join(replies))


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
