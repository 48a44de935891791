"""A blocking Thrift client like Flume's ``ThriftRpcClient``: a pool of framed connections.

Callers on several threads each borrow a connection (at most ``max_connections`` are
open; a caller beyond that waits for one to come back), make one call and return it.
A connection whose call failed is closed, never returned; one the server closed while
it sat idle is noticed before use and replaced, so a source's idle timeout costs no
failed batch.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Sequence

import attrs

from flume_rpc_thrift._connection import ThriftConnection
from flume_rpc_thrift._messages import HasHeadersAndBody, codec

__all__ = ["ConnectionStats", "ThriftRpcClient"]


@attrs.define
class ConnectionStats:
    """How many connections the client opened, failed to open and closed (Flume's counters)."""

    created: int = 0
    failed: int = 0
    closed: int = 0


class ThriftRpcClient:
    """Send events to a Thrift source (Flume's or ours).

    Args:
        host: the source's host name or address.
        port: the source's port.
        protocol: ``compact`` (Flume's default) or ``binary``; must match the source's.
        connect_timeout: seconds to connect (and for TLS to shake hands).
        request_timeout: seconds to wait for each answer.
        max_connections: connections open at most (Flume's ``maxConnections``).
        ssl_context: wrap connections in TLS with this client context.
        stats: where to count connections (a new ``ConnectionStats`` by default).
    """

    def __init__(self, host: str, port: int, *, protocol: str = "compact",
                 connect_timeout: float = 20.0, request_timeout: float = 20.0,
                 max_connections: int = 5, ssl_context: ssl.SSLContext | None = None,
                 stats: ConnectionStats | None = None) -> None:
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self._codec = codec(protocol)
        self._max = max(1, max_connections)
        self._ssl = ssl_context
        self._idle: list[ThriftConnection] = []
        self._open = 0
        self._returned = threading.Condition()
        self.stats = stats if stats is not None else ConnectionStats()

    def __enter__(self) -> ThriftRpcClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def append(self, event: HasHeadersAndBody) -> None:
        """Send one event with ``append``.

        Raises:
            DeliveryFailedError: the source answered FAILED/ERROR/UNKNOWN or an exception.
            ThriftRpcError: the source's bytes are not a valid answer.
            OSError: connecting, sending or receiving failed (TimeoutError on timeouts).
        """
        self._call("append", [event])

    def append_batch(self, events: Sequence[HasHeadersAndBody]) -> None:
        """Send events with one ``appendBatch`` call; raises as :meth:`append`."""
        self._call("appendBatch", events)

    def close(self) -> None:
        """Close the idle connections (borrowed ones close when they come back)."""
        with self._returned:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._returned.notify_all()
        for connection in idle:
            self._close(connection)

    def reset(self) -> None:
        """Close every idle connection, so the next calls open fresh ones."""
        self.close()

    def _call(self, method: str, events: Sequence[HasHeadersAndBody]) -> None:
        connection = self._borrow()
        try:
            connection.call(method, events, self.request_timeout)
        except BaseException:
            self._discard(connection)
            raise
        self._give_back(connection)

    def _borrow(self) -> ThriftConnection:
        deadline = time.monotonic() + self.connect_timeout
        with self._returned:
            while not self._idle and self._open >= self._max:
                if not self._returned.wait(deadline - time.monotonic()):
                    msg = (f"all {self._max} connections to {self.host}:{self.port} stayed "
                           f"busy for {self.connect_timeout:g}s (maxConnections)")
                    raise TimeoutError(msg)
            stale = []
            while self._idle:
                connection = self._idle.pop()
                if not connection.closed_by_peer():
                    break
                stale.append(connection)
                self._open -= 1
            else:
                connection = None
            self._open += connection is None
        for old in stale:
            self._close(old)
        return connection or self._connect()

    def _connect(self) -> ThriftConnection:
        try:
            connection = ThriftConnection.open(self.host, self.port, self._codec,
                                               timeout=self.connect_timeout,
                                               ssl_context=self._ssl)
        except BaseException:
            self.stats.failed += 1
            self._forget()
            raise
        self.stats.created += 1
        return connection

    def _give_back(self, connection: ThriftConnection) -> None:
        with self._returned:
            self._idle.append(connection)
            self._returned.notify()

    def _discard(self, connection: ThriftConnection) -> None:
        self._close(connection)
        self._forget()

    def _close(self, connection: ThriftConnection) -> None:
        connection.close()
        self.stats.closed += 1

    def _forget(self) -> None:
        with self._returned:
            self._open -= 1
            self._returned.notify()
