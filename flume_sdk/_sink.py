"""Sinks: take batches from one channel and deliver them, committing only after delivery."""

from __future__ import annotations

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

    def process(self) -> Status:
        raise NotImplementedError  # pragma: no cover - abstract hook


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

    def deliver(self, events: Sequence[Event]) -> None:
        """Write ``events`` durably to the destination, or raise; called inside the take."""
        raise NotImplementedError  # pragma: no cover - abstract hook

    def on_commit(self, events: Sequence[Event]) -> None:
        """Called after the channel committed the take of ``events`` (already delivered)."""

    def on_commit_failed(self, events: Sequence[Event]) -> None:
        """Called when ``events`` were delivered but the channel commit failed."""
