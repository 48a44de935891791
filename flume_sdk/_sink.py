"""Sinks: take batches from one channel and deliver them, committing only after delivery."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from flume_sdk._errors import EventDeliveryException
from flume_sdk._lifecycle import Component
from flume_sdk._source import Status

if TYPE_CHECKING:
    from flume_sdk._channel import Channel
    from flume_sdk._event import Event

__all__ = ["BatchSink", "Sink"]


class Sink(Component):
    """Base of every sink: :meth:`process` takes from ``self.channel`` in one transaction."""

    counter_kind: ClassVar[str] = "SINK"
    _channel: Channel | None = None

    @property
    def channel(self) -> Channel:
        if self._channel is None:
            msg = f"sink {self.name!r} has no channel; call set_channel()"
            raise RuntimeError(msg)
        return self._channel

    def set_channel(self, channel: Channel) -> None:
        self._channel = channel

    @property
    def batch_size(self) -> int | None:
        value = getattr(self.settings, "batch_size", None)
        return int(value) if value is not None else None

    @abc.abstractmethod
    def process(self) -> Status:
        """Move at most one batch from ``self.channel`` to the destination, in one transaction.

        Called in a loop on the sink's runner thread (never the thread that called
        ``start()``). Commit the take only after the destination acknowledged the write;
        roll back on failure; close the transaction on every path (``with
        self.channel.transaction() as tx`` does all three). :class:`BatchSink` writes this
        for you around :meth:`BatchSink.deliver`.

        Returns:
            ``Status.READY`` when a batch was delivered, ``Status.BACKOFF`` when the channel
            was empty (the runner then waits before calling again).

        Raises:
            EventDeliveryException: the batch could not be delivered; it was rolled back and
                stays in the channel (the runner logs it and backs off).
        """


class BatchSink(Sink):
    """Flume's sink pattern: take a batch, :meth:`deliver` it, commit; roll back on failure.

    Subclasses implement :meth:`deliver` and have a ``batch_size`` setting. An empty
    channel gives ``Status.BACKOFF`` with no transaction left open. Two optional hooks
    follow the commit: :meth:`on_commit` once the channel committed a delivered batch,
    :meth:`on_commit_failed` when the batch was delivered but the commit then failed (the
    events go back to the channel, so a sink that can take its write back should).
    """

    def process(self) -> Status:
        counter = self.counter
        batch_size = self.batch_size or 100
        delivered = False
        try:
            with self.channel.transaction() as tx:
                events = tx.take_batch(batch_size)
                count = len(events)
                if count == 0:
                    counter.incr("BatchEmptyCount")
                    return Status.BACKOFF
                counter.incr("EventDrainAttemptCount", count)
                try:
                    self.deliver(events)
                except EventDeliveryException:
                    counter.incr("EventWriteFail")
                    raise
                except Exception as exc:
                    counter.incr("EventWriteFail")
                    msg = f"sink {self.name!r} failed to deliver {count} event(s): {exc}"
                    raise EventDeliveryException(msg) from exc
                delivered = True
        except BaseException:
            if delivered:
                self.on_commit_failed(events)
            raise
        self.on_commit(events)
        counter.incr("BatchCompleteCount" if count == batch_size else "BatchUnderflowCount")
        counter.incr("EventDrainSuccessCount", count)
        return Status.READY

    @abc.abstractmethod
    def deliver(self, events: Sequence[Event]) -> None:
        """Write ``events`` to the destination and return only once it acknowledged them.

        Called inside the take's transaction, on the sink's runner thread; the take is
        committed only if this returns.

        Args:
            events: the batch, in channel order (at most ``batch_size``, at least one).

        Raises:
            EventDeliveryException: the destination refused or failed (say what and how to
                fix it); any other exception is wrapped into one. Either way the whole batch
                is rolled back, so a destination that accepted part of it sees those events
                again (at-least-once).
        """

    def on_commit(self, events: Sequence[Event]) -> None:
        """Called after the channel committed the take of ``events`` (already delivered)."""

    def on_commit_failed(self, events: Sequence[Event]) -> None:
        """Called when ``events`` were delivered but the channel commit failed."""
