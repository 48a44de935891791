"""The transaction state machine that every channel's transactions inherit.

``NEW -begin-> OPEN -commit|rollback-> COMPLETED -close-> CLOSED``. A
transaction belongs to the thread that created it; any use from another
thread, or out of order, raises :class:`TransactionStateError`. Channel
implementers subclass :class:`Transaction` and write only the ``do_*`` hooks.
"""

from __future__ import annotations

import abc
import enum
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flume_sdk._errors import ChannelException, TransactionStateError

if TYPE_CHECKING:
    from flume_sdk._channel import Channel
    from flume_sdk._event import Event

__all__ = ["Transaction", "TransactionState"]


class TransactionState(enum.Enum):
    NEW = "NEW"
    OPEN = "OPEN"
    COMPLETED = "COMPLETED"
    CLOSED = "CLOSED"


_NEW, _OPEN, _COMPLETED, _CLOSED = TransactionState


class Transaction(abc.ABC):
    """One channel transaction, bound to the creating thread.

    A channel implements the four abstract ``do_*`` hooks (``do_begin`` and ``do_close``
    are optional); the public methods check the state machine, the owning thread and
    transactionCapacity, keep the counters, and call them.

    Args:
        channel: the channel this transaction belongs to.
    """

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.state = _NEW
        self.owner = threading.get_ident()
        self.put_count = 0
        self.take_count = 0

    # -- the public API, checked ------------------------------------------------------------

    def begin(self) -> None:
        self._check("begin", _NEW)
        self.do_begin()
        self.state = _OPEN

    def put(self, event: Event) -> None:
        self.put_batch((event,))

    def put_batch(self, events: Sequence[Event]) -> None:
        """Put events; invisible to takers until commit."""
        self._check("put", _OPEN)
        count = len(events)
        counter = self.channel.counter
        counter.incr("EventPutAttemptCount", count)
        limit = self.channel.transaction_capacity
        if self.put_count + count > limit:
            msg = (f"{self.channel.name}: put of {count} event(s) would exceed transactionCapacity "
                   f"{limit} ({self.put_count} already put); commit more often or raise "
                   "transactionCapacity")
            raise ChannelException(msg)
        self.do_put_batch(events)
        self.put_count += count

    def take(self) -> Event | None:
        """Take one event, or ``None`` when the channel stays empty for its keep-alive."""
        events = self.take_batch(1)
        return events[0] if events else None

    def take_batch(self, max_events: int) -> list[Event]:
        """Take up to ``max_events``; waits (up to keep-alive) only for the first one."""
        self._check("take", _OPEN)
        room = self.channel.transaction_capacity - self.take_count
        if room <= 0:
            msg = (f"{self.channel.name}: take would exceed transactionCapacity "
                   f"{self.channel.transaction_capacity}; commit more often")
            raise ChannelException(msg)
        self.channel.counter.incr("EventTakeAttemptCount", 1)
        events = self.do_take_batch(min(max_events, room))
        self.take_count += len(events)
        return events

    def commit(self) -> None:
        """Make puts visible and takes final; on failure the state stays OPEN for a rollback."""
        self._check("commit", _OPEN)
        self.do_commit()
        self.state = _COMPLETED
        counter = self.channel.counter
        if self.put_count:
            counter.incr("EventPutSuccessCount", self.put_count)
        if self.take_count:
            counter.incr("EventTakeSuccessCount", self.take_count)

    def rollback(self) -> None:
        """Discard puts and return takes to the head of the channel in their order."""
        self._check("rollback", _OPEN)
        try:
            self.do_rollback()
        finally:
            self.state = _COMPLETED

    def close(self) -> None:
        """Close; allowed only before begin or after commit/rollback."""
        if self.state is _CLOSED:
            return
        self._check("close", _NEW, _COMPLETED)
        try:
            self.do_close()
        finally:
            self.state = _CLOSED

    def _check(self, op: str, *allowed: TransactionState) -> None:
        if threading.get_ident() != self.owner:
            msg = (f"{self.channel.name}: transaction used for {op}() from a thread that did not "
                   "create it; each thread must use its own transaction")
            raise TransactionStateError(msg)
        if self.state not in allowed:
            expected = " or ".join(s.value for s in allowed)
            msg = (f"{self.channel.name}: cannot {op}() a transaction in state "
                   f"{self.state.value} (expected {expected})")
            raise TransactionStateError(msg)

    # -- what a channel implements (the kernel calls nothing else) ---------------------------

    def do_begin(self) -> None:
        """Prepare per-transaction buffers (optional). Called once, by :meth:`begin`."""

    @abc.abstractmethod
    def do_put_batch(self, events: Sequence[Event]) -> None:
        """Stage ``events`` for this transaction; takers must not see them before the commit.

        Called on the putting thread (a source's) after the kernel checked the state and
        transactionCapacity.

        Args:
            events: the events, in order; keep the objects or copy them, never change them.

        Raises:
            ChannelException: the events cannot be staged (storage error, ...).
        """

    @abc.abstractmethod
    def do_take_batch(self, max_events: int) -> list[Event]:
        """Take up to ``max_events`` committed events, head first, for this transaction.

        May wait up to the channel's keep-alive for the first event, never longer; must not
        return more than ``max_events`` (the kernel already capped it at what is left of
        transactionCapacity).

        Args:
            max_events: the most events to return (at least 1).

        Returns:
            The events taken, in order; empty when the channel stayed empty.

        Raises:
            ChannelException: the channel cannot be read.
        """

    @abc.abstractmethod
    def do_commit(self) -> None:
        """Make the staged puts visible and the takes final, all or nothing.

        A durable channel returns only once the commit survives a crash. A refused commit
        leaves nothing of its puts behind and the transaction open for a rollback.

        Raises:
            ChannelFullException: no room for the puts (within keep-alive).
            ChannelException: the commit failed; nothing of it took effect.
        """

    @abc.abstractmethod
    def do_rollback(self) -> None:
        """Discard the staged puts and return the takes to the head of the channel, in order.

        Raises:
            ChannelException: the rollback could not be recorded (the state still ends
                COMPLETED; a durable channel recovers the takes at its next start).
        """

    def do_close(self) -> None:
        """Release per-transaction resources (optional). Called once, by :meth:`close`."""
