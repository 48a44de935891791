"""Sources: where events enter an agent. They hand batches to :meth:`Source.deliver`.

``Source.deliver`` is the one place where a source's events become committed: it
splits what a read, a request or a burst brought into transactions the channels can
take, counts Flume's source counters once, and says whether everything committed, so
that every source acknowledges its client on that answer alone (ack after commit).
"""

from __future__ import annotations

import abc
import enum
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._errors import ChannelException
from flume_sdk._lifecycle import Component
from flume_sdk._settings import at_least, setting

if TYPE_CHECKING:
    from flume_sdk._channel_processor import ChannelProcessor
    from flume_sdk._event import Event

__all__ = ["Delivery", "EventDrivenSource", "PollableSource", "PollableSourceSettings", "Source",
           "Status"]

log = logging.getLogger("flume_sdk.source")


class Status(enum.Enum):
    """What one ``process()`` call achieved: work was done, or the runner should back off."""

    READY = "READY"
    BACKOFF = "BACKOFF"


@attrs.frozen
class Delivery:
    """What :meth:`Source.deliver` achieved; true when every event was committed.

    Attributes:
        accepted: how many of the events, from the first, were committed (all of them
            when true). A source that keeps its events may drop these before retrying.
        error: why the channel refused the rest (``None`` when all committed).
    """

    accepted: int
    error: ChannelException | None = None

    def __bool__(self) -> bool:
        return self.error is None


class Source(Component):
    """Base of every source. Events go through :meth:`deliver`, never to a channel.

    A source acknowledges its client (a reply, an HTTP status, a file position, an
    offset) only when :meth:`deliver` returned a true :class:`Delivery`: that is the
    moment the events are committed.
    """

    counter_kind: ClassVar[str] = "SOURCE"
    _channel_processor: ChannelProcessor | None = None

    @property
    def channel_processor(self) -> ChannelProcessor:
        if self._channel_processor is None:
            msg = f"source {self.name!r} has no channel processor; call set_channel_processor()"
            raise RuntimeError(msg)
        return self._channel_processor

    def set_channel_processor(self, processor: ChannelProcessor) -> None:
        self._channel_processor = processor

    @property
    def batch_size(self) -> int | None:
        """The most events this source puts in one transaction, if it batches."""
        value = getattr(self.settings, "batch_size", None)
        return int(value) if value is not None else None

    def deliver(self, events: Sequence[Event], *, single: bool = False) -> Delivery:
        """Commit ``events`` to the channels; acknowledge the client only if the result is true.

        The events go to the channel processor in consecutive slices of at most this
        source's ``batch_size`` and the smallest ``transactionCapacity`` of its channels,
        so no request is refused for its size alone. Slices are committed in order; when
        the channel refuses one, delivery stops there: the earlier slices stay committed
        (a client that retries everything may cause duplicates, never a loss).

        Counts, once per call: ``EventReceivedCount`` and ``AppendBatchReceivedCount``
        (``AppendReceivedCount`` when ``single``) on arrival; after the commits,
        ``EventAcceptedCount`` by the events committed and ``AppendBatchAcceptedCount``
        (``AppendAcceptedCount``) when all were, or ``ChannelWriteFail`` when not.

        Args:
            events: what one read, request, poll or call brought, in order.
            single: the events came as one ``append`` (Flume's RPC sources) rather than
                as a batch.

        Returns:
            A :class:`Delivery`: true when everything committed; otherwise how many
            leading events were committed and the channel's error.
        """
        counter = self.counter
        count = len(events)
        counter.incr_each(("AppendReceivedCount" if single else "AppendBatchReceivedCount", 1),
                          ("EventReceivedCount", count))
        done, error = self._commit_in_slices(events)
        if error is not None:
            counter.incr_each(("ChannelWriteFail", 1), ("EventAcceptedCount", done))
            log.debug("%s: channel refused events %d-%d: %s", self.name, done + 1, count, error)
            return Delivery(done, error)
        counter.incr_each(("AppendAcceptedCount" if single else "AppendBatchAcceptedCount", 1),
                          ("EventAcceptedCount", count))
        return Delivery(count)

    def _commit_in_slices(self, events: Sequence[Event]) -> tuple[int, ChannelException | None]:
        """Hand ``events`` over in slices the channels take; (events committed, refusal)."""
        processor = self.channel_processor
        step = processor.transaction_limit
        batch_size = self.batch_size
        if batch_size is not None and batch_size < step:
            step = max(1, batch_size)
        count, done = len(events), 0
        try:
            if count <= step:  # the usual case: no copy
                processor.process_batch(events)
                return count, None
            for start in range(0, count, step):
                processor.process_batch(events[start:start + step])
                done = min(start + step, count)
        except ChannelException as exc:
            return done, exc
        return done, None


@attrs.frozen(kw_only=True)
class PollableSourceSettings:
    """Flume's keys of every pollable source; a source's own settings class extends it."""

    backoff_sleep_increment: int = setting(default=1000, validator=at_least(1),
                                           help="ms added to the wait after each idle poll")
    max_backoff_sleep: int = setting(default=5000, validator=at_least(1),
                                     help="ms, the longest wait between idle polls")


class PollableSource(Source):
    """A source driven by a runner thread that calls :meth:`process` in a loop.

    ``process`` returns ``Status.BACKOFF`` when there was nothing to do; the runner
    then waits ``backoff_sleep_increment`` × consecutive backoffs, at most
    ``max_backoff_sleep`` seconds. A source whose settings extend
    :class:`PollableSourceSettings` takes both from Flume's keys (in ms).
    """

    backoff_sleep_increment: float = 1.0
    max_backoff_sleep: float = 5.0

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        if isinstance(self.settings, PollableSourceSettings):
            self.backoff_sleep_increment = self.settings.backoff_sleep_increment / 1000
            self.max_backoff_sleep = self.settings.max_backoff_sleep / 1000

    @abc.abstractmethod
    def process(self) -> Status:
        """Read what is available (at most one batch) and hand it to the channel processor.

        Called in a loop on the source's runner thread (never the thread that called
        ``start()``). Acknowledge the input (advance a position, delete a file, reply)
        only after the events were committed: ``self.deliver(events)`` does the commit
        and the counting and says how many were accepted.

        Returns:
            ``Status.READY`` when events were committed, ``Status.BACKOFF`` when there was
            nothing to read or the channel refused (the runner then waits before calling
            again; keep what was refused and offer it again next time).

        Raises:
            Exception: an unexpected failure; the runner logs it and backs off. Do not raise
                for a full channel: return ``Status.BACKOFF``.
        """


class EventDrivenSource(Source):
    """A source that runs its own threads or sockets, started in ``do_start``."""
