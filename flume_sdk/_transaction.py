"""The transaction state machine that every channel's transactions inherit.

``NEW -begin-> OPEN -commit|rollback-> COMPLETED -close-> CLOSED``. A
transaction belongs to the thread that created it; any use from another
thread, or out of order, raises :class:`TransactionStateError`. Channel
implementers subclass :class:`Transaction` and write only the ``do_*`` hooks.
"""

from __future__ import annotations

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


class Transaction:
    """One channel transaction, bound to the creating thread.

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

    # -- what a channel implements -------------------------------------------------------

    def do_begin(self) -> None:
        """Prepare per-transaction buffers."""

    def do_put(self, event: Event) -> None:
        raise NotImplementedError  # pragma: no cover - abstract hook

    def do_put_batch(self, events: Sequence[Event]) -> None:
        for event in events:
            self.do_put(event)

    def do_take(self) -> Event | None:
        raise NotImplementedError  # pragma: no cover - abstract hook

    def do_take_batch(self, max_events: int) -> list[Event]:
        out: list[Event] = []
        while len(out) < max_events:
            event = self.do_take()
            if event is None:
                break
            out.append(event)
        return out

    def do_commit(self) -> None:
        raise NotImplementedError  # pragma: no cover - abstract hook

    def do_rollback(self) -> None:
        raise NotImplementedError  # pragma: no cover - abstract hook

    def do_close(self) -> None:
        """Release per-transaction resources."""

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.state is _OPEN:
            self.rollback()
        self.close()
