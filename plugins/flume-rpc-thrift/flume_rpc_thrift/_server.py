"""A threaded Thrift server for Flume's ThriftSourceProtocol, independent of the agent kernel.

One thread accepts; each connection is served by a thread of its own running a
:class:`ServerSession` with blocking sockets and timeouts, so a slow channel, a stalled
or silent client or a bad frame holds up only its own connection. ``threads`` (Flume's
key) bounds the connections served at once, further clients waiting in the listen backlog
until one closes; ``max_connections`` bounds them too, and a client beyond it is closed
at once and reported to ``on_refused``. Bad input closes only that connection and is
reported to ``on_bad_input``.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import threading
from collections.abc import Callable

import attrs

from flume_rpc_thrift._errors import ThriftRpcError
from flume_rpc_thrift._framing import DEFAULT_MAX_FRAME_SIZE
from flume_rpc_thrift._messages import codec
from flume_rpc_thrift._session import CallHandler, ServerSession, SessionLimits
from flume_sdk import AcceptBackoff

__all__ = ["ServerOptions", "ThriftRpcServer"]

_log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class ServerOptions:
    """How the server listens and guards itself."""

    host: str
    port: int
    protocol: str = "compact"
    max_connections: int = 0
    threads: int = 0
    ssl_context: ssl.SSLContext | None = None
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    frame_timeout: float = 30.0
    idle_timeout: float = 300.0


class ThriftRpcServer:
    """Serve Flume's ThriftSourceProtocol (framed transport) on a TCP port.

    Args:
        options: where and how to listen.
        handler: runs each call, on its connection's thread.
        on_bad_input: told (peer, error) when a connection is closed for bad input.
        on_connections: told the number of open connections whenever it changes.
        on_refused: told when a connection is refused for being over ``max_connections``.
        accept_backoff: how a failed ``accept()`` (out of file descriptors...) is waited out
            and reported; by default it logs within limits for this server.
    """

    def __init__(
        self,
        options: ServerOptions,
        handler: CallHandler,
        *,
        on_bad_input: Callable[[str, Exception], None] = lambda peer, exc: None,
        on_connections: Callable[[int], None] = lambda n: None,
        accept_backoff: AcceptBackoff | None = None,
        on_refused: Callable[[], None] = lambda: None,
    ) -> None:
        self.options = options
        self._codec = codec(options.protocol)
        self._limits = SessionLimits(max_frame_size=options.max_frame_size,
                                     frame_timeout=options.frame_timeout,
                                     idle_timeout=options.idle_timeout)
        self._handler = handler
        self._on_bad_input = on_bad_input
        self._on_connections = on_connections
        self._on_refused = on_refused
        self._listener: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._acceptor: threading.Thread | None = None
        self._open: dict[threading.Thread, socket.socket] = {}
        self._changed = threading.Condition()
        self._stopping = False
        self._stopped = threading.Event()
        self.port = options.port
        self.name = f"{options.host}:{options.port}"
        self._backoff = accept_backoff or AcceptBackoff(self, _log)

    def start(self) -> None:
        """Bind and start accepting; the port accepts connections when this returns."""
        opts = self.options
        self._listener = socket.create_server((opts.host, opts.port), backlog=128)
        self.port = int(self._listener.getsockname()[1])
        self._wake = socket.socketpair()
        self._stopping = False
        self._stopped.clear()
        self._acceptor = threading.Thread(target=self._accept_loop, name="thrift-accept",
                                          daemon=True)
        self._acceptor.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listener and every connection, and join their threads; idempotent."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._stopped.set()
        if self._wake is not None:
            self._wake[1].send(b"x")
        if self._acceptor is not None:
            self._acceptor.join(timeout)
        with self._changed:
            serving = dict(self._open)
        for sock in serving.values():
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in recv
        for thread in serving:
            thread.join(timeout)
        for sock in (self._listener, *(self._wake or ())):
            if sock is not None:
                sock.close()
        self._listener = self._wake = self._acceptor = None

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake is not None
        listener, wake = self._listener, self._wake[0]
        while self._wait_for_a_thread():
            readable, _, _ = select.select([listener, wake], [], [])
            if wake in readable:
                return
            try:
                conn, address = listener.accept()
            except OSError as exc:  # e.g. too many open files: keep serving the others
                self._backoff.failed(exc, self._stopped)
                continue
            self._backoff.succeeded()
            if self._full():
                self._refuse(conn)
                continue
            self._spawn(conn, f"{address[0]}:{address[1]}")

    def _wait_for_a_thread(self) -> bool:
        limit = self.options.threads
        with self._changed:
            self._changed.wait_for(lambda: self._stopping or not limit or len(self._open) < limit)
            return not self._stopping

    def _full(self) -> bool:
        limit = self.options.max_connections
        with self._changed:
            return bool(limit) and len(self._open) >= limit

    def _refuse(self, conn: socket.socket) -> None:
        conn.close()
        self._on_refused()
        self._backoff.log.failed("refused", f"max-connections = {self.options.max_connections} "
                                 "are open")

    def _spawn(self, conn: socket.socket, peer: str) -> None:
        thread = threading.Thread(target=self._serve, args=(conn, peer),
                                  name=f"thrift-conn-{peer}", daemon=True)
        with self._changed:  # report under the lock, so two changes cannot report out of order
            self._open[thread] = conn
            self._on_connections(len(self._open))
        thread.start()

    def _serve(self, conn: socket.socket, peer: str) -> None:
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock = self._secure(conn)
            ServerSession(sock, peer, self._codec, self._limits, self._handler).run()
        except (ThriftRpcError, ssl.SSLError) as exc:
            if not self._stopping:
                self._backoff.log.failed("bad input", f"closed the connection from {peer}: {exc}")
                self._on_bad_input(peer, exc)
        except OSError as exc:
            _log.debug("Thrift connection from %s dropped: %s", peer, exc)
        finally:
            with self._changed:  # the TLS socket when there is one (it took over ``conn``)
                sock = self._open.pop(threading.current_thread())
                self._on_connections(len(self._open))
                self._changed.notify_all()
            sock.close()

    def _secure(self, conn: socket.socket) -> socket.socket:
        context = self.options.ssl_context
        if context is None:
            return conn
        with self._changed:  # stop() must see the TLS socket: wrapping detaches ``conn``
            if self._stopping:
                raise ConnectionAbortedError("server stopping")
            tls = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            self._open[threading.current_thread()] = tls
        tls.settimeout(self.options.frame_timeout)
        tls.do_handshake()
        return tls
