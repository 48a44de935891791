"""Fakes that record what a component did to them, importable without pytest.

* :class:`RecordingChannel` - an in-memory channel that records puts, takes,
  commits, rollbacks and open transactions, with scriptable failures
  (:class:`ChannelFailure`: full, fail on put, fail on commit, slow).
* :class:`RecordingSink` - a sink with scripted statuses and errors and a
  breakable destination.
* :class:`ScriptedSource` - a pollable source that emits the batches it is fed and
  acknowledges a batch only after the channel processor committed it.
* :class:`RecordingInterceptor` - passes events through and records them.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    BatchSink,
    Channel,
    ChannelException,
    ChannelFullException,
    Clock,
    Event,
    EventDeliveryException,
    Interceptor,
    PollableSource,
    Status,
    Transaction,
    TransactionState,
    at_least,
    setting,
)

__all__ = [
    "ChannelFailure",
    "RecordingChannel",
    "RecordingChannelSettings",
    "RecordingInterceptor",
    "RecordingSink",
    "RecordingSinkSettings",
    "RecordingTransaction",
    "ScriptedSource",
    "ScriptedSourceSettings",
]


class ChannelFailure(enum.Enum):
    """What a :class:`RecordingChannel` can be scripted to do wrong."""

    FULL = "full"
    """Every commit that carries puts raises ``ChannelFullException``."""
    FAIL_ON_PUT = "fail on put"
    """``put``/``put_batch`` raises ``ChannelException``."""
    FAIL_ON_COMMIT = "fail on commit"
    """``commit`` raises ``ChannelException`` (puts and takes alike)."""
    SLOW = "slow"
    """``commit`` first sleeps ``slow_delay`` seconds on the channel's clock."""


@attrs.frozen(kw_only=True)
class RecordingChannelSettings:
    capacity: int = setting(default=10_000, validator=at_least(1), help="most committed events")
    transaction_capacity: int = setting(default=1000, validator=at_least(1),
                                        help="most puts or takes in one transaction")


class RecordingChannel(Channel):
    """An in-memory, non-blocking channel that records everything done to it.

    Takes never wait: an empty channel answers at once. Capacity is checked at
    commit (committed + in-flight takes + new puts <= capacity).

    Attributes:
        puts: every event accepted by ``put`` (committed or not), in order.
        committed: every event whose put was committed, in order.
        taken: every event whose take was committed, in order.
        commits / rollbacks: how many transactions ended each way.
        transaction_takes: the number of events taken by each completed transaction.
        commit_hooks: called with the transaction at the start of every commit,
            before anything is made final (contracts use this to check ordering).
        slow_delay: seconds a ``SLOW`` commit sleeps.
    """

    Settings: ClassVar[type] = RecordingChannelSettings
    settings: RecordingChannelSettings

    def __init__(self, name: str = "recording", settings: Any = None, *,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._lock = threading.RLock()
        self._queue: deque[Event] = deque()
        self._in_flight = 0
        self._failures: dict[ChannelFailure, int | None] = {}
        self._transactions: list[RecordingTransaction] = []
        self.puts: list[Event] = []
        self.committed: list[Event] = []
        self.taken: list[Event] = []
        self.commits = 0
        self.rollbacks = 0
        self.transaction_takes: list[int] = []
        self.commit_hooks: list[Callable[[RecordingTransaction], None]] = []
        self.slow_delay = 0.05

    # -- scripting -------------------------------------------------------------------------

    def script_failure(self, mode: ChannelFailure, times: int | None = None) -> None:
        """Misbehave in ``mode`` for the next ``times`` occasions (forever when ``None``)."""
        with self._lock:
            self._failures[mode] = times

    def heal(self) -> None:
        """Stop every scripted failure."""
        with self._lock:
            self._failures.clear()

    def preload(self, events: Sequence[Event]) -> None:
        """Put committed events straight into the queue: test setup, not recorded, no failures."""
        with self._lock:
            self._queue.extend(events)

    # -- observation -----------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self._queue)

    @property
    def events(self) -> list[Event]:
        """Committed events not yet taken, head first."""
        with self._lock:
            return list(self._queue)

    @property
    def open_transactions(self) -> list[RecordingTransaction]:
        """Transactions begun and neither committed nor rolled back."""
        with self._lock:
            return [t for t in self._transactions if t.state is TransactionState.OPEN]

    @property
    def unclosed_transactions(self) -> list[RecordingTransaction]:
        """Transactions begun and not yet closed (open, or completed but not closed)."""
        with self._lock:
            return [t for t in self._transactions
                    if t.state in (TransactionState.OPEN, TransactionState.COMPLETED)]

    def create_transaction(self) -> Transaction:
        return RecordingTransaction(self)

    # -- called by transactions ------------------------------------------------------------

    def _trip(self, mode: ChannelFailure) -> bool:
        """Whether ``mode`` is active now; consumes one occasion."""
        with self._lock:
            if mode not in self._failures:
                return False
            left = self._failures[mode]
            if left is not None:
                if left <= 1:
                    del self._failures[mode]
                else:
                    self._failures[mode] = left - 1
            return True

    def _register(self, tx: RecordingTransaction) -> None:
        with self._lock:
            self._transactions = [t for t in self._transactions
                                  if t.state is not TransactionState.CLOSED]
            self._transactions.append(tx)

    def _take(self, max_events: int) -> list[Event]:
        with self._lock:
            count = min(max_events, len(self._queue))
            events = [self._queue.popleft() for _ in range(count)]
            self._in_flight += count
            return events

    def _commit(self, puts: list[Event], takes: list[Event]) -> None:
        with self._lock:
            if puts and self._trip(ChannelFailure.FULL):
                msg = f"{self.name}: scripted failure: channel full ({len(puts)} event(s) refused)"
                raise ChannelFullException(msg)
            used = len(self._queue) + self._in_flight - len(takes) + len(puts)
            if puts and used > self.capacity:
                msg = (f"{self.name}: no room for {len(puts)} event(s): capacity "
                       f"{self.capacity}, {len(self._queue)} queued, {self._in_flight} in flight")
                raise ChannelFullException(msg)
            self._queue.extend(puts)
            self._in_flight -= len(takes)
            self.committed.extend(puts)
            self.taken.extend(takes)
            self.commits += 1
            self.transaction_takes.append(len(takes))

    def _rollback(self, takes: list[Event]) -> None:
        with self._lock:
            self._queue.extendleft(reversed(takes))
            self._in_flight -= len(takes)
            self.rollbacks += 1
            self.transaction_takes.append(len(takes))


class RecordingTransaction(Transaction):
    """A :class:`RecordingChannel` transaction; ``puts`` and ``takes`` are its own events."""

    channel: RecordingChannel

    def do_begin(self) -> None:
        self.puts: list[Event] = []
        self.takes: list[Event] = []
        self.channel._register(self)

    def do_put_batch(self, events: Sequence[Event]) -> None:
        channel = self.channel
        if channel._trip(ChannelFailure.FAIL_ON_PUT):
            msg = f"{channel.name}: scripted failure on put of {len(events)} event(s)"
            raise ChannelException(msg)
        self.puts.extend(events)
        with channel._lock:
            channel.puts.extend(events)

    def do_take_batch(self, max_events: int) -> list[Event]:
        events = self.channel._take(max_events)
        self.takes.extend(events)
        return events

    def do_commit(self) -> None:
        channel = self.channel
        for hook in list(channel.commit_hooks):
            hook(self)
        if channel._trip(ChannelFailure.SLOW):
            channel.clock.sleep(channel.slow_delay)
        if channel._trip(ChannelFailure.FAIL_ON_COMMIT):
            msg = f"{channel.name}: scripted failure on commit"
            raise ChannelException(msg)
        channel._commit(self.puts, self.takes)
        self.puts, self.takes = [], []

    def do_rollback(self) -> None:
        self.channel._rollback(self.takes)
        self.puts, self.takes = [], []


# -- sink ---------------------------------------------------------------------------------

Outcome = Status | BaseException


@attrs.frozen(kw_only=True)
class RecordingSinkSettings:
    batch_size: int = setting(default=100, validator=at_least(1), help="events per transaction")


class RecordingSink(BatchSink):
    """A sink whose destination is a list, with scripted outcomes.

    Each ``process()`` consumes one scripted outcome, if any: ``Status.BACKOFF``
    returns at once without touching the channel; an exception is raised by the
    write (so the batch is rolled back); ``Status.READY`` behaves normally.

    Attributes:
        delivered: every event written, in order.
        batches: every batch written.
        broken: while true, every write fails with ``EventDeliveryException``.
        fail_after: when set, the destination accepts that many more events and then
            fails part-way through a batch (see :meth:`break_destination_after`).
    """

    Settings: ClassVar[type] = RecordingSinkSettings

    def __init__(self, name: str = "recording", settings: Any = None, *,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self.delivered: list[Event] = []
        self.batches: list[list[Event]] = []
        self.broken = False
        self.fail_after: int | None = None
        self._script: deque[Outcome] = deque()
        self._pending_error: BaseException | None = None

    def script(self, *outcomes: Outcome) -> None:
        """Queue outcomes for the next ``process()`` calls, one each."""
        self._script.extend(outcomes)

    def break_destination(self) -> None:
        self.broken = True

    def break_destination_after(self, count: int) -> None:
        """Accept ``count`` more events, then fail part-way through the batch."""
        self.fail_after = count

    def heal_destination(self) -> None:
        self.broken = False
        self.fail_after = None

    def process(self) -> Status:
        outcome = self._script.popleft() if self._script else Status.READY
        if outcome is Status.BACKOFF:
            return Status.BACKOFF
        self._pending_error = outcome if isinstance(outcome, BaseException) else None
        return super().process()

    def deliver(self, events: Sequence[Event]) -> None:
        error, self._pending_error = self._pending_error, None
        if error is not None:
            raise error
        if self.broken:
            msg = f"sink {self.name!r}: destination is broken (break_destination() was called)"
            raise EventDeliveryException(msg)
        if self.fail_after is not None and self.fail_after < len(events):
            accepted, self.fail_after = list(events[:self.fail_after]), 0
            self.batches.append(accepted)
            self.delivered.extend(accepted)
            msg = (f"sink {self.name!r}: destination failed after {len(accepted)} of "
                   f"{len(events)} event(s) (break_destination_after() was called)")
            raise EventDeliveryException(msg)
        if self.fail_after is not None:
            self.fail_after -= len(events)
        self.batches.append(list(events))
        self.delivered.extend(events)


# -- source -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ScriptedSourceSettings:
    batch_size: int = setting(default=10, validator=at_least(1), help="events per batch")


class ScriptedSource(PollableSource):
    """Emits what it is fed, one batch per ``process()``; retries a refused batch.

    Attributes:
        acknowledged: events whose batch the channel processor committed, in order;
            the analogue of a network source's replies to its client.
    """

    Settings: ClassVar[type] = ScriptedSourceSettings
    settings: ScriptedSourceSettings

    def __init__(self, name: str = "scripted", settings: Any = None, *,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._pending: deque[list[Event]] = deque()
        self._lock = threading.Lock()
        self.acknowledged: list[Event] = []

    def feed(self, events: Sequence[Event]) -> None:
        """Queue ``events``, split into batches of ``batchSize``."""
        size = self.settings.batch_size
        with self._lock:
            for start in range(0, len(events), size):
                self._pending.append(list(events[start:start + size]))

    def feed_batch(self, events: Sequence[Event]) -> None:
        """Queue ``events`` as one delivery, whatever ``batchSize`` says (``deliver`` splits it)."""
        with self._lock:
            self._pending.append(list(events))

    @property
    def pending(self) -> int:
        """Events fed and not yet acknowledged."""
        with self._lock:
            return sum(len(b) for b in self._pending)

    def process(self) -> Status:
        with self._lock:
            batch = self._pending[0] if self._pending else None
        if batch is None:
            return Status.BACKOFF
        delivered = self.deliver(batch)
        with self._lock:
            self.acknowledged.extend(batch[:delivered.accepted])
            if delivered:
                self._pending.popleft()
            else:
                self._pending[0] = batch[delivered.accepted:]
        return Status.READY if delivered else Status.BACKOFF


# -- interceptor --------------------------------------------------------------------------


class RecordingInterceptor(Interceptor):
    """Passes every event through unchanged and records it.

    Attributes:
        seen: every event intercepted, in order.
    """

    def __init__(self, name: str = "recording", settings: Any = None, *,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self.seen: list[Event] = []
        self.initialized = False
        self._lock = threading.Lock()

    def initialize(self) -> None:
        self.initialized = True

    def intercept(self, event: Event) -> Event | None:
        with self._lock:
            self.seen.append(event)
        return event
