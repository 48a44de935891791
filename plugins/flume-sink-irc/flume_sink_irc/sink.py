"""``irc`` (``org.apache.flume.sink.irc.IRCSink``): relays event bodies to an IRC channel.

Each body becomes one or more ``PRIVMSG`` lines to ``chan`` (see
:mod:`flume_sink_irc._lines`); headers are not sent, as in Flume. The channel
transaction commits only after the server has processed every line of the batch
(its ``PONG`` to the sink's ``PING``); any failure closes the connection, rolls
the batch back and the next batch reconnects, so a server restart loses nothing
(a batch cut short may be relayed twice: at least once, like every Flume sink).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import ClassVar

from flume_sdk import BatchSink, Event, EventDeliveryException, Status
from flume_sink_irc._connection import IrcConnection, IrcError
from flume_sink_irc._lines import message_texts, text_budget
from flume_sink_irc._settings import IrcSinkSettings

__all__ = ["IrcSink"]

log = logging.getLogger(__name__)

_QUIT = "flume-sdk irc sink stopping"
_CHECK = "irc server"


class IrcSink(BatchSink):
    """Flume's IRC sink, acknowledged by the server and paced to its flood control."""

    Settings: ClassVar[type] = IrcSinkSettings
    settings: IrcSinkSettings
    _connection: IrcConnection | None = None

    def do_start(self) -> None:
        self._connection = self._new_connection()
        try:
            self._connection.open()
            self.counter.incr("ConnectionCreatedCount")
        except IrcError as exc:
            # Not fatal: the first batch connects again, and the channel keeps the events.
            self.counter.incr("ConnectionFailedCount")
            self.health.failing(_CHECK, exc)

    def do_stop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and connection.connected:
            connection.close(_QUIT)
            self.counter.incr("ConnectionClosedCount")

    def process(self) -> Status:
        self._service()
        return super().process()

    def deliver(self, events: Sequence[Event]) -> None:
        connection = self._open_connection()
        texts = self._texts(connection, events)
        try:
            connection.send(texts)
        except IrcError as exc:
            self._drop(connection, exc)
            msg = f"sink {self.name!r}: {len(events)} event(s) not relayed: {exc}"
            raise EventDeliveryException(msg) from exc
        self.health.ok(_CHECK)

    # -- helpers ---------------------------------------------------------------------------

    def _new_connection(self) -> IrcConnection:
        s = self.settings
        return IrcConnection(
            s.hostname, s.port, nick=s.nick, user=s.user or s.nick, realname=s.name or s.nick,
            password=s.password, chan=s.channel_name, timeout=s.connect_timeout / 1000,
            ack_timeout=s.request_timeout / 1000, window=s.window)

    def _open_connection(self) -> IrcConnection:
        if self._connection is None:
            self._connection = self._new_connection()
        connection = self._connection
        if not connection.connected:
            try:
                connection.open()
            except IrcError as exc:
                self.counter.incr("ConnectionFailedCount")
                self.health.failing(_CHECK, exc)
                msg = f"sink {self.name!r}: {exc}; the events stay in the channel"
                raise EventDeliveryException(msg) from exc
            self.counter.incr("ConnectionCreatedCount")
            log.info("sink %s: connected to IRC server %s:%s as %s in %s", self.name,
                     self.settings.hostname, self.settings.port, connection.nick, connection.chan)
        return connection

    def _texts(self, connection: IrcConnection, events: Sequence[Event]) -> list[str]:
        s = self.settings
        budget = text_budget(connection.nick, s.user or s.nick, connection.chan)
        split = s.split_pattern
        return [text for event in events for text in message_texts(event.body, split, budget)]

    def _service(self) -> None:
        """Keep an idle connection alive (answer PINGs); a dead one reconnects on the next batch."""
        connection = self._connection
        if connection is None or not connection.connected:
            return
        try:
            connection.service()
        except IrcError as exc:
            self._drop(connection, exc)

    def _drop(self, connection: IrcConnection, exc: IrcError) -> None:
        connection.close()
        self.counter.incr("ConnectionClosedCount")
        self.health.failing(_CHECK, exc)
