"""RPC tiers: sources that serve batches and acknowledge them after the commit, and the keys
of the sinks that send them.

Flume's Avro and Thrift sources share one shape: a network server decodes
``append`` / ``appendBatch`` calls, each call's events go to the channel processor in
one batch, and the reply is ``OK`` only once the channel committed, ``FAILED`` when it
refused (the sending agent keeps the events and retries). :class:`RpcSource` holds that
shape and Flume's counters for it; a protocol plugin supplies the server.
:class:`RpcSinkSettings` declares the keys Flume's RPC sinks share (AbstractRpcSink).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import attrs

from flume_sdk._settings import at_least, in_range, setting
from flume_sdk._source import EventDrivenSource
from flume_sdk._tls import TlsClientSettings

if TYPE_CHECKING:
    from flume_sdk._event import Event

__all__ = ["RpcServer", "RpcSinkSettings", "RpcSource"]

log = logging.getLogger("flume_sdk.source.rpc")


class RpcServer(Protocol):
    """What :class:`RpcSource` needs of a protocol's server."""

    @property
    def port(self) -> int:
        """The bound port."""
        ...

    def start(self) -> None:
        """Listen; return once connections are accepted."""
        ...

    def stop(self) -> None:
        """Stop listening and close every connection."""
        ...


class RpcSource(EventDrivenSource):
    """Base of a source that serves RPC calls carrying events.

    A subclass implements :meth:`make_server`; its server calls :meth:`deliver_call`
    for each call (and replies as it says), :meth:`count_bad_input` when a connection
    is dropped for bad input, :meth:`count_connections` when their number changes and
    :meth:`count_refused` when one is refused for being over the connection cap.
    """

    _server: RpcServer | None = None
    counter_extra = ("RefusedConnectionCount",)

    @abc.abstractmethod
    def make_server(self) -> RpcServer:
        """A new, unstarted server for this source's settings (called by ``do_start``).

        Returns:
            The protocol's server; it hands each call's events to :meth:`deliver_call`
            and replies OK only when that returned true.
        """

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        if self._server is not None:
            return self._server.port
        return int(self.settings.port)

    def do_start(self) -> None:
        server = self.make_server()
        server.start()
        self._server = server
        log.info("%s %s listening on port %d", type(self).__name__, self.name, server.port)

    def do_stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        self.counter.set("OpenConnectionCount", 0)

    def deliver_call(self, events: Sequence[Event], *, single: bool) -> bool:
        """Put one call's events in one batch; ``True`` means reply OK (committed).

        Args:
            single: the call was ``append`` (one event) rather than ``appendBatch``.
        """
        delivered = self.deliver(events, single=single)
        if not delivered:
            log.warning("%s: channel refused %d event(s): %s", self.name, len(events),
                        delivered.error)
        return bool(delivered)

    def count_bad_input(self, peer: str, exc: Exception) -> None:
        """A connection was closed for bad input (the server logs what and who)."""
        self.counter.incr("EventReadFail")

    def count_connections(self, count: int) -> None:
        """The number of open connections changed."""
        self.counter.set("OpenConnectionCount", count)

    def count_refused(self) -> None:
        """A connection was refused: the source already serves ``max-connections``."""
        self.counter.incr("RefusedConnectionCount")


@attrs.frozen(kw_only=True, slots=False)
class RpcSinkSettings(TlsClientSettings):
    """The keys of Flume's RPC sinks (avro, thrift): the next hop, batching, timeouts, TLS."""

    hostname: str = setting(required=True, help="host of the next hop's source")
    port: int = setting(required=True, validator=in_range(1, 65535), help="its port")
    batch_size: int = setting("batch-size", default=100, validator=at_least(1),
                              help="events per appendBatch call")
    connect_timeout: int = setting("connect-timeout", default=20000, validator=at_least(1),
                                   help="milliseconds to connect (and handshake)")
    request_timeout: int = setting("request-timeout", default=20000, validator=at_least(1),
                                   help="milliseconds to wait for each answer")
    reset_connection_interval: int = setting(
        "reset-connection-interval", default=0, validator=at_least(0),
        aliases=("connection-reset-interval",),
        help="seconds after which connections are re-opened (0 = never)")
