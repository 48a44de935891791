"""``memory``: Flume's in-memory channel, bounded by events and by body bytes."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    Channel,
    ChannelFullException,
    Clock,
    Event,
    Transaction,
    at_least,
    in_range,
    setting,
)

__all__ = ["MemoryChannel", "MemoryChannelSettings"]


@attrs.frozen(kw_only=True)
class MemoryChannelSettings:
    capacity: int = setting(default=100, validator=at_least(1),
                            help="most committed events held")
    transaction_capacity: int = setting(default=100, validator=at_least(1),
                                        help="most puts (and takes) in one transaction")
    keep_alive: float = setting("keep-alive", default=3.0, validator=at_least(0),
                                help="seconds a put waits for room or a take waits for an event")
    byte_capacity: int = setting("byteCapacity", default=0, validator=at_least(0),
                                 help="most body bytes held; 0 = unbounded")
    byte_capacity_buffer_percentage: int = setting(
        "byteCapacityBufferPercentage", default=20, validator=in_range(0, 99),
        help="share of byteCapacity kept free for headers")

    def problems(self) -> list[tuple[str, str]]:
        if self.transaction_capacity > self.capacity:
            return [("transactionCapacity",
                     f"must not exceed capacity {self.capacity} (got {self.transaction_capacity}); "
                     f"raise capacity to at least {self.transaction_capacity} or lower "
                     f"transactionCapacity to at most {self.capacity}")]
        return []


class MemoryChannel(Channel):
    """Events in a deque; puts become visible at commit; rollback restores takes in order.

    Memory is bounded by ``capacity`` events and, when set, by ``byteCapacity``
    body bytes (less the buffer percentage). Flume counts bytes in 100-byte slots;
    this channel counts actual body bytes, and only when ``byteCapacity`` is set: the sums
    over each put and take, with a take of the whole queue copying it at once rather than
    popping each event, were ~75 of the ~110 ns an event spent in a 1000-event put and take.
    """

    Settings: ClassVar[type] = MemoryChannelSettings
    settings: MemoryChannelSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._queue: deque[Event] = deque()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._in_flight = 0
        self._bytes = 0
        self._bytes_in_flight = 0
        self._wakes = 0
        pct = self.settings.byte_capacity_buffer_percentage
        self._byte_limit = self.settings.byte_capacity * (100 - pct) // 100

    @property
    def size(self) -> int:
        return len(self._queue)

    def create_transaction(self) -> Transaction:
        return MemoryTransaction(self)

    def wake(self) -> None:
        with self._lock:
            self._wakes += 1
            self._changed.notify_all()

    def _wait(self, ready: Any) -> bool:
        """Wait (holding the lock) until ``ready()``, keep-alive passes or ``wake()``.

        This blocks on a real condition variable, so its deadline is real time even when
        the channel runs on a fake clock (a fake clock never advances while we block).
        """
        if ready():
            return True
        deadline = time.monotonic() + self.settings.keep_alive
        wakes = self._wakes
        while not ready():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or wakes != self._wakes:
                return False
            self._changed.wait(remaining)
        return True

    def _commit(self, puts: list[Event], put_bytes: int, takes: list[Event], take_bytes: int) -> None:
        with self._lock:
            if puts:
                capacity, byte_limit = self.settings.capacity, self._byte_limit

                def room() -> bool:
                    used = len(self._queue) + self._in_flight - len(takes) + len(puts)
                    held = self._bytes + self._bytes_in_flight - take_bytes + put_bytes
                    return used <= capacity and (not byte_limit or held <= byte_limit)

                if not self._wait(room):
                    size = f" ({put_bytes} body bytes)" if byte_limit else ""
                    msg = (f"{self.name}: no room for {len(puts)} event(s){size} within "
                           f"keep-alive {self.settings.keep_alive}s (capacity "
                           f"{capacity}, size {len(self._queue)}, byteCapacity limit "
                           f"{byte_limit or 'none'}); sinks are not keeping up or the channel "
                           "is too small")
                    raise ChannelFullException(msg)
                self._queue.extend(puts)
                self._bytes += put_bytes
            if takes:
                self._in_flight -= len(takes)
                self._bytes_in_flight -= take_bytes
            self._changed.notify_all()

    def _take(self, max_events: int) -> tuple[list[Event], int]:
        with self._lock:
            queue = self._queue
            if not queue and not self._wait(lambda: bool(queue)):
                return [], 0
            count = min(max_events, len(queue))
            if count == len(queue):
                events = list(queue)
                queue.clear()
            else:
                popleft = queue.popleft
                events = [popleft() for _ in range(count)]
            nbytes = sum([len(e.body) for e in events]) if self._byte_limit else 0
            self._in_flight += count
            self._bytes -= nbytes
            self._bytes_in_flight += nbytes
            return events, nbytes

    def _give_back(self, takes: list[Event], take_bytes: int) -> None:
        with self._lock:
            self._queue.extendleft(reversed(takes))
            self._in_flight -= len(takes)
            self._bytes_in_flight -= take_bytes
            self._bytes += take_bytes
            self._changed.notify_all()


class MemoryTransaction(Transaction):
    channel: MemoryChannel

    def do_begin(self) -> None:
        self._puts: list[Event] = []
        self._takes: list[Event] = []
        self._take_bytes = 0

    def do_put_batch(self, events: Sequence[Event]) -> None:
        self._puts.extend(events)

    def do_take_batch(self, max_events: int) -> list[Event]:
        events, nbytes = self.channel._take(max_events)
        self._takes.extend(events)
        self._take_bytes += nbytes
        return events

    def do_commit(self) -> None:
        puts = self._puts
        put_bytes = sum([len(e.body) for e in puts]) if puts and self.channel._byte_limit else 0
        self.channel._commit(puts, put_bytes, self._takes, self._take_bytes)
        self._puts, self._takes, self._take_bytes = [], [], 0

    def do_rollback(self) -> None:
        self._puts = []
        if self._takes:
            self.channel._give_back(self._takes, self._take_bytes)
            self._takes, self._take_bytes = [], 0
