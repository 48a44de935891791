"""``SPILLABLEMEMORY``: Flume's memory queue that overflows into an embedded file channel.

A put transaction goes whole into memory when ``memoryCapacity`` (and ``byteCapacity``)
leave room for it, waiting up to ``overflowTimeout`` for room; otherwise it is committed
whole to the overflow, a :class:`FileChannel` configured from the same keys (its
``capacity`` is ``overflowCapacity``). A *drain order* — runs of "n events in memory",
"m events in the overflow" in commit order — makes takes follow commit order across the
two, so FIFO holds for the channel as a whole. As in Flume, one take transaction takes
from one store only (it ends at a run boundary).

Durability is Flume's: after ``kill -9`` (or any stop) only the events in the overflow
survive; whatever was in memory is gone. ``memoryCapacity = 0`` makes every put spill
(a file channel); ``overflowCapacity = 0`` disables the overflow (a memory channel).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import attrs

from flume_channel_file.channel import FileChannel, FileChannelSettings
from flume_sdk import (
    SYSTEM_CLOCK,
    Channel,
    ChannelException,
    ChannelFullException,
    Clock,
    Event,
    Transaction,
    at_least,
    in_range,
    setting,
)

__all__ = ["SpillableMemoryChannel", "SpillableMemorySettings"]

log = logging.getLogger("flume_channel_file.spillable")
_MEMORY, _OVERFLOW = "memory", "overflow"


@attrs.frozen(kw_only=True)
class SpillableMemorySettings(FileChannelSettings):
    """Flume's spillable keys plus every file-channel key except ``capacity`` and ``keep-alive``.

    The two file-channel fields are redefined: ``capacity`` is read from ``overflowCapacity``
    and ``keep_alive`` from ``overflowTimeout`` (how long a put waits for memory to free).
    """

    memory_capacity: int = setting(default=10_000, validator=at_least(0),
                                   help="events held in memory; 0 = every put spills")
    capacity: int = setting("overflowCapacity", default=100_000_000, validator=at_least(0),
                            help="events held in the overflow file channel; 0 = no overflow")
    keep_alive: float = setting("overflowTimeout", default=3.0, validator=at_least(0),
                                help="seconds a put waits for memory before spilling")
    byte_capacity: int = setting(default=0, validator=at_least(0),
                                 help="body bytes held in memory; 0 = unbounded")
    byte_capacity_buffer_percentage: int = setting(default=20, validator=in_range(0, 99),
                                                   help="share of byteCapacity kept free")
    avg_event_size: int = setting(default=500, validator=at_least(1),
                                  help="accepted; body bytes are counted exactly")
    transaction_capacity: int = setting(default=100, validator=at_least(1),
                                        help="most puts (and takes) in one transaction")

    def problems(self) -> list[tuple[str, str]]:
        found = [p for p in super().problems() if p[0] != "transactionCapacity"]
        if self.memory_capacity == 0 and self.capacity == 0:
            found.append(("memoryCapacity", "and overflowCapacity are both 0: the channel "
                          "could hold nothing"))
        largest = max(self.memory_capacity, self.capacity)
        if self.transaction_capacity > largest:
            found.append(("transactionCapacity", f"must not exceed memoryCapacity or "
                          f"overflowCapacity ({largest}) (got {self.transaction_capacity})"))
        return found

    def overflow_settings(self) -> FileChannelSettings:
        """The embedded file channel's settings: the same keys, no wait for room."""
        values = {f.name: getattr(self, f.name) for f in attrs.fields(FileChannelSettings)}
        return FileChannelSettings(**{**values, "keep_alive": 0.0})


class SpillableMemoryChannel(Channel):
    """Memory first, the file channel's log when memory is full; FIFO across both."""

    Settings: ClassVar[type] = SpillableMemorySettings
    settings: SpillableMemorySettings
    durable: ClassVar[bool] = False  # only the overflow survives, as in Flume
    counter_extra: ClassVar[tuple[str, ...]] = ("SpilledEventCount", "MemorySize", "OverflowSize")

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._put_order = threading.Lock()
        self._memory: deque[Event] = deque()
        self._drain: deque[list[Any]] = deque()
        self._in_flight = 0
        self._bytes = 0
        pct = self.settings.byte_capacity_buffer_percentage
        self._byte_limit = self.settings.byte_capacity * (100 - pct) // 100
        self.overflow: FileChannel | None = None

    @property
    def capacity(self) -> int:
        return self.settings.memory_capacity + self.settings.capacity

    @property
    def size(self) -> int:
        return len(self._memory) + (self.overflow.size if self.overflow else 0)

    def create_transaction(self) -> Transaction:
        return SpillableTransaction(self)

    def wake(self) -> None:
        with self._lock:
            self._changed.notify_all()

    def do_start(self) -> None:
        self._memory.clear()
        self._drain.clear()
        self._in_flight = self._bytes = 0
        if self.settings.capacity:
            overflow = FileChannel(f"{self.name}-overflow", self.settings.overflow_settings(),
                                   clock=self.clock)
            overflow.start()
            self.overflow = overflow
            if overflow.size:
                self._drain.append([_OVERFLOW, overflow.size])
                log.info("%s: %d event(s) recovered from the overflow", self.name, overflow.size)

    def do_stop(self) -> None:
        if self._memory:
            log.warning("%s: %d event(s) held in memory are dropped at stop; only the "
                        "overflow survives a restart (as in Flume)", self.name, len(self._memory))
        overflow, self.overflow = self.overflow, None
        if overflow is not None:
            overflow.stop()

    def _gauges(self) -> dict[str, int | float]:
        gauges = super()._gauges()
        gauges["MemorySize"] = len(self._memory)
        gauges["OverflowSize"] = self.overflow.size if self.overflow else 0
        return gauges

    # -- puts ------------------------------------------------------------------------------

    def _wait(self, ready: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not ready():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.wait(left)
        return True

    def _add_run(self, kind: str, count: int, *, front: bool = False) -> None:
        drain = self._drain
        edge = 0 if front else -1
        if drain and drain[edge][0] == kind:
            drain[edge][1] += count
        elif front:
            drain.appendleft([kind, count])
        else:
            drain.append([kind, count])

    def _commit_puts(self, events: Sequence[Event]) -> None:
        count, nbytes = len(events), sum(len(e.body) for e in events)
        with self._put_order:  # puts commit one at a time, so the drain order is commit order
            if self._to_memory(events, count, nbytes):
                return
            if self.overflow is None:
                msg = (f"{self.name}: no room in memory for {count} event(s) within "
                       f"overflowTimeout {self.settings.keep_alive}s (memoryCapacity "
                       f"{self.settings.memory_capacity}) and the overflow is disabled "
                       "(overflowCapacity = 0)")
                raise ChannelFullException(msg)
            with self.overflow.transaction() as tx:
                tx.put_batch(events)
            with self._lock:
                self._add_run(_OVERFLOW, count)
                self._changed.notify_all()
            self.counter.incr("SpilledEventCount", count)

    def _to_memory(self, events: Sequence[Event], count: int, nbytes: int) -> bool:
        if not self.settings.memory_capacity:
            return False
        limit, byte_limit = self.settings.memory_capacity, self._byte_limit

        def room() -> bool:
            fits = len(self._memory) + self._in_flight + count <= limit
            return fits and (not byte_limit or self._bytes + nbytes <= byte_limit)

        with self._lock:
            if not self._wait(room, self.settings.keep_alive):
                return False
            self._memory.extend(events)
            self._bytes += nbytes
            self._add_run(_MEMORY, count)
            self._changed.notify_all()
            return True

    # -- takes -----------------------------------------------------------------------------

    def _take(self, tx: SpillableTransaction, max_events: int) -> list[Event]:
        with self._lock:
            if not self._drain:
                return []
            kind, available = self._drain[0]
            if tx.store not in (None, kind):
                return []  # one store per take transaction, as in Flume
            want = min(max_events, available)
            if kind == _MEMORY:
                events = [self._memory.popleft() for _ in range(want)]
                self._in_flight += want
            else:
                events = tx.overflow_transaction().take_batch(want)
            tx.store = kind
            self._drain[0][1] -= len(events)
            if not self._drain[0][1]:
                self._drain.popleft()
            return events

    def _memory_takes_done(self, events: Sequence[Event]) -> None:
        with self._lock:
            self._in_flight -= len(events)
            self._bytes -= sum(len(e.body) for e in events)
            self._changed.notify_all()

    def _give_back(self, kind: str, events: Sequence[Event]) -> None:
        with self._lock:
            if kind == _MEMORY:
                self._memory.extendleft(reversed(events))
                self._in_flight -= len(events)
            self._add_run(kind, len(events), front=True)
            self._changed.notify_all()


class SpillableTransaction(Transaction):
    """Puts buffer until commit; takes come from one store, the overflow's in its own transaction."""

    channel: SpillableMemoryChannel

    def do_begin(self) -> None:
        self._puts: list[Event] = []
        self._takes: list[Event] = []
        self.store: str | None = None
        self._overflow_tx: Transaction | None = None

    def overflow_transaction(self) -> Transaction:
        if self._overflow_tx is None:
            overflow = self.channel.overflow
            if overflow is None:
                msg = f"{self.channel.name}: the overflow is not open"
                raise ChannelException(msg)
            self._overflow_tx = overflow.get_transaction()
            self._overflow_tx.begin()
        return self._overflow_tx

    def do_put_batch(self, events: Sequence[Event]) -> None:
        self._puts.extend(events)

    def do_take_batch(self, max_events: int) -> list[Event]:
        events = self.channel._take(self, max_events)
        self._takes.extend(events)
        return events

    def do_commit(self) -> None:
        if self._overflow_tx is not None:
            self._overflow_tx.commit()
            self._overflow_tx.close()
            self._overflow_tx = None
        elif self._takes:
            self.channel._memory_takes_done(self._takes)
        self._takes = []
        if self._puts:
            self.channel._commit_puts(self._puts)
            self._puts = []

    def do_rollback(self) -> None:
        self._puts = []
        if self._overflow_tx is not None:
            self._overflow_tx.rollback()
            self._overflow_tx.close()
            self._overflow_tx = None
        if self._takes and self.store is not None:
            self.channel._give_back(self.store, self._takes)
        self._takes = []

    def do_close(self) -> None:
        if self._overflow_tx is not None:  # begun but never committed or rolled back
            self._overflow_tx.rollback()
            self._overflow_tx.close()
            self._overflow_tx = None
