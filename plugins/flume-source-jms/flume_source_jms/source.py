"""``jms`` (``org.apache.flume.source.jms.JMSSource``): consume a queue or topic over STOMP.

Each ``process()`` takes up to ``batchSize`` messages (waiting ``pollTimeout`` for
the first), converts them as Flume's default converter does and hands them to
:meth:`Source.deliver`. Only the messages the channels committed are acked to
the broker; the rest stay in hand and are offered to the channel again first on
the next call (not NACKed, which would push them toward the dead-letter queue).
When the connection ends, everything not acked is the broker's again and is
redelivered after the reconnect: a broker restart loses nothing (a message
committed but not yet acked may arrive twice: at least once, as in Flume).
"""

from __future__ import annotations

import logging
from typing import ClassVar

from flume_sdk import PollableSource, Status
from flume_source_jms._consumer import Frame, JmsError, StompConsumer, Subscription
from flume_source_jms._converter import convert
from flume_source_jms._settings import JmsSourceSettings

__all__ = ["JmsSource"]

log = logging.getLogger(__name__)

_CHECK = "broker"


class JmsSource(PollableSource):
    """Flume's JMS source for ActiveMQ (and other STOMP brokers that speak JMS selectors)."""

    Settings: ClassVar[type] = JmsSourceSettings
    settings: JmsSourceSettings
    _consumer: StompConsumer | None = None
    _pending: list[Frame]

    def do_start(self) -> None:
        self._pending = []
        self._consumer = None  # connect lazily: a source starts even while the broker is down

    def do_stop(self) -> None:
        consumer, self._consumer = self._consumer, None
        self._pending = []
        if consumer is not None:
            consumer.close()

    def process(self) -> Status:
        consumer = self._connected()
        if consumer is None:
            return Status.BACKOFF
        frames = self._pending or consumer.take(self.settings.batch_size,
                                                self.settings.poll_timeout / 1000)
        self._pending = []
        if not frames:
            if not consumer.alive:
                self._lost(consumer, "the broker closed the connection")
            return Status.BACKOFF
        s = self.settings
        events = [convert(f.headers, f.body, charset=s.converter_charset,
                          jms_headers=s.converter_jms_headers) for f in frames]
        delivery = self.deliver(events)
        self._ack(consumer, frames[:delivery.accepted])
        if not delivery:
            self._pending = frames[delivery.accepted:]
            log.warning("source %r: channel refused %d message(s); they stay unacknowledged "
                        "and are offered again: %s", self.name, len(self._pending),
                        delivery.error)
            return Status.BACKOFF
        return Status.READY

    # -- helpers ---------------------------------------------------------------------------

    def _connected(self) -> StompConsumer | None:
        if self._consumer is not None and self._consumer.alive:
            return self._consumer
        if self._consumer is not None:
            self._lost(self._consumer, self._consumer.broker_error() or "connection lost")
        consumer = StompConsumer(self._subscription())
        try:
            consumer.open()
        except JmsError as exc:
            self.health.failing(_CHECK, exc)
            return None
        self.health.ok(_CHECK)
        self._consumer = consumer
        return consumer

    def _subscription(self) -> Subscription:
        s = self.settings
        return Subscription(
            brokers=s.brokers(), destination=s.destination, selector=s.message_selector,
            login=s.user_name, passcode=s.password(), client_id=s.client_id,
            durable_name=s.durable_subscription_name if s.durable else "",
            prefetch=2 * s.batch_size)

    def _ack(self, consumer: StompConsumer, frames: list[Frame]) -> None:
        if not frames:
            return
        try:
            consumer.ack(frames)
        except JmsError as exc:
            # Committed but not acked: the broker redelivers them (a duplicate, never a loss).
            self._lost(consumer, str(exc))

    def _lost(self, consumer: StompConsumer, reason: str) -> None:
        """Drop a dead connection; what it held unacked is redelivered after the reconnect."""
        consumer.close()
        if consumer is self._consumer:
            self._consumer = None
        self._pending = []
        self.health.failing(_CHECK, f"{consumer.subscription.destination}: {reason}")
