"""The channel processor: interceptors, then the selector, then one transaction per channel."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flume_sdk._channel import Channel
from flume_sdk._errors import ChannelException
from flume_sdk._event import Event
from flume_sdk._interceptor import Interceptor
from flume_sdk._selector import ChannelSelector

__all__ = ["ChannelProcessor"]

log = logging.getLogger("flume_sdk.channel_processor")


class ChannelProcessor:
    """Delivers a source's batches to its channels.

    Every required channel gets the batch in one transaction; a failure there
    raises :class:`ChannelException` so the source does not acknowledge. Optional
    channels are tried afterwards; their failures are logged and counted only.
    As in Flume there is no atomicity across channels: a required channel that
    committed before another failed stays committed.

    Args:
        selector: picks the channels for each event.
        interceptors: run in order before the selector.
    """

    def __init__(self, selector: ChannelSelector, interceptors: Sequence[Interceptor] = ()) -> None:
        self.selector = selector
        self.interceptors = list(interceptors)
        self.optional_failures = 0

    @property
    def channels(self) -> list[Channel]:
        return self.selector.channels

    @property
    def transaction_limit(self) -> int:
        """The most events one :meth:`process_batch` call puts in any channel's transaction.

        The smallest ``transactionCapacity`` of the channels the selector may choose;
        :meth:`Source.deliver` slices batches to it.
        """
        limit = 1 << 62
        for channel in self.selector.channels:  # a plain loop: this runs for every delivery
            capacity = channel.transaction_capacity
            if capacity < limit:
                limit = capacity
        return limit

    def initialize(self) -> None:
        for interceptor in self.interceptors:
            interceptor.initialize()

    def close(self) -> None:
        for interceptor in self.interceptors:
            interceptor.close()

    def process_event(self, event: Event) -> None:
        self.process_batch([event])

    def intercept(self, events: Sequence[Event]) -> Sequence[Event]:
        """Run the interceptor chain; what it returns is what the selector routes."""
        for interceptor in self.interceptors:
            events = interceptor.intercept_batch(events)
        return events

    def process_batch(self, events: Sequence[Event]) -> None:
        """Commit ``events`` to every required channel, or raise ``ChannelException``.

        Sources call :meth:`Source.deliver`, which slices their batches to
        :attr:`transaction_limit` and counts them, rather than this method.
        A channel's part larger than its ``transactionCapacity`` (an interceptor
        added events) goes in several transactions.
        """
        events = self.intercept(events)
        if not events:
            return
        routing = self.selector.route(events)
        for channel, batch in routing.required:
            self._put(channel, batch)
        for channel, batch in routing.optional:
            try:
                self._put(channel, batch)
            except ChannelException as exc:
                self.optional_failures += 1
                log.warning("optional channel %s refused %d event(s): %s", channel.name,
                            len(batch), exc)

    @classmethod
    def _put(cls, channel: Channel, batch: Sequence[Event]) -> None:
        limit = channel.transaction_capacity
        if len(batch) > limit:  # interceptors made the batch larger than the source sent it
            for start in range(0, len(batch), limit):
                cls._put_one(channel, batch[start:start + limit])
            return
        cls._put_one(channel, batch)

    @staticmethod
    def _put_one(channel: Channel, batch: Sequence[Event]) -> None:
        try:
            with channel.transaction() as tx:
                tx.put_batch(batch)
        except ChannelException:
            raise
        except Exception as exc:
            msg = f"unable to put batch on channel {channel.name!r}: {exc}"
            raise ChannelException(msg) from exc
