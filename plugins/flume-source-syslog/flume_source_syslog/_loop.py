"""An asyncio loop in a source's own thread, and the delivery of decoded batches.

Sources are synchronous components; their network I/O runs on a private event loop in one
daemon thread. Decoded events go to the channel processor in batches of ``batchSize`` from that
thread. When the channel refuses a batch (full), the connection stops being read
(``pause_reading``), so the sender's TCP window closes: backpressure, not loss. The batch is
retried with a growing delay until it commits or the source stops.

The retry delays are waited on the component's :class:`~flume_sdk.Clock`, not with asyncio's
``call_later`` (which always runs on the real monotonic clock): a :class:`ClockTimer` thread
per source waits with ``Clock.wait`` and hands due callbacks to the loop. Under the testkit's
``FakeClock`` the backoff therefore takes no real time and every delay is recorded.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from flume_sdk import Clock, Event, Source

__all__ = ["RETRY_DELAYS", "BatchDelivery", "ClockTimer", "LoopThread"]

log = logging.getLogger("flume_source_syslog")

RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
_START_TIMEOUT = 10.0
_IDLE_POLL_S = 1.0  # a ClockTimer with nothing due re-checks for closing this often
_DUE_SLACK_S = 1e-6  # float rounding of "now + delay" must not cost one more tiny wait


class TimerHandle:
    """A callback scheduled by :meth:`ClockTimer.call_later`; :meth:`cancel` stops it."""

    def __init__(self, callback: Callable[[], object]) -> None:
        self._callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def run(self) -> None:
        if not self.cancelled:
            self._callback()


class ClockTimer:
    """Call callbacks on an event loop after delays measured on a component's clock.

    One daemon thread waits with ``clock.wait`` until the earliest callback is due, then
    schedules it on the loop with ``call_soon_threadsafe``; callbacks always run on the loop.

    Args:
        clock: the component's clock (``Source.clock``).
        loop: where callbacks run.
        name: the thread's name.
    """

    def __init__(self, clock: Clock, loop: asyncio.AbstractEventLoop, name: str) -> None:
        self._clock = clock
        self._loop = loop
        self._lock = threading.Lock()
        self._due: list[tuple[float, int, TimerHandle]] = []
        self._order = itertools.count()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle:
        """Run ``callback`` on the loop once ``delay`` seconds passed on the clock."""
        handle = TimerHandle(callback)
        with self._lock:
            when = self._clock.monotonic() + delay
            heapq.heappush(self._due, (when, next(self._order), handle))
        self._wake.set()
        return handle

    def close(self, timeout: float = _START_TIMEOUT) -> None:
        """Drop whatever is still scheduled and join the thread."""
        with self._lock:
            self._closed = True
            self._due.clear()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                self._wake.clear()
                now = self._clock.monotonic()
                ready = []
                while self._due and self._due[0][0] <= now + _DUE_SLACK_S:
                    ready.append(heapq.heappop(self._due)[2])
                wait = self._due[0][0] - now if self._due else None
            for handle in ready:
                self._loop.call_soon_threadsafe(handle.run)
            if wait is None:
                self._wake.wait(_IDLE_POLL_S)  # nothing is due: no time to measure
            else:
                self._clock.wait(self._wake, wait)


class LoopThread:
    """Run an event loop in a daemon thread; run coroutines on it from the caller's thread.

    Args:
        name: the thread's name.
        clock: the component's clock, for :attr:`timer`.
    """

    def __init__(self, name: str, clock: Clock) -> None:
        self.loop = asyncio.new_event_loop()
        self.timer = ClockTimer(clock, self.loop, f"{name}-timer")
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, make: Callable[[], Awaitable[Any]], timeout: float = _START_TIMEOUT) -> Any:
        """Run ``make()`` on the loop and wait for its result."""

        async def wrapped() -> Any:
            return await make()

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout)

    def close(self, timeout: float = _START_TIMEOUT) -> None:
        """Stop the timer and the loop and join their threads."""
        self.timer.close(timeout)
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


def reverse_dns(address: str, cache: dict[str, str]) -> str:
    """The host name of ``address`` (cached per source); the address itself if unknown."""
    try:
        return cache[address]
    except KeyError:
        try:
            name = socket.gethostbyaddr(address)[0]
        except OSError:
            name = address
        cache[address] = name
        return name


class BatchDelivery:
    """Events waiting for the channel on behalf of one connection (or one UDP socket).

    Args:
        source: whose channel processor and counters are used.
        timer: the source's timer, for retries (on the source's clock).
        extra: headers added to every event (client IP, host name, port).
        on_blocked: called with True when the channel refused, False when space returned.
    """

    def __init__(
        self,
        source: Source,
        timer: ClockTimer,
        extra: dict[str, str],
        on_blocked: Callable[[bool], None],
    ) -> None:
        self._source = source
        self._clock_timer = timer
        self._extra = extra
        self._on_blocked = on_blocked
        self._pending: list[Event] = []
        self._attempt = 0  # consecutive refusals
        self._paused = False
        self._timer: TimerHandle | None = None
        self.closed = False

    @property
    def blocked(self) -> bool:
        """Events are waiting for channel space."""
        return bool(self._pending)

    def add(self, events: list[Event]) -> None:
        """Add the connection's extra headers and deliver what the channel accepts."""
        if not events:
            return
        extra = self._extra
        if extra:
            for event in events:
                event.headers.update(extra)
        if self._pending:
            self._pending.extend(events)
            return
        self._pending = events
        self.flush()

    def flush(self) -> bool:
        """Deliver pending events in batches; True when nothing is left."""
        self._timer = None
        size = self._source.batch_size or 100
        pending = self._pending
        while pending and not self.closed:
            batch = pending[:size] if len(pending) > size else pending
            delivered = self._source.deliver(batch)
            pending = pending[delivered.accepted:] if delivered.accepted < len(pending) else []
            self._pending = pending
            if delivered.error is not None:
                self._retry_later(delivered.error)
                return False
            self._attempt = 0
        if self._paused:
            self._paused = False
            self._on_blocked(False)
        return True

    def drop(self, reason: str) -> int:
        """Give up on pending events (UDP only: there is no sender to push back on)."""
        dropped, self._pending = len(self._pending), []
        if dropped:
            log.warning("%s dropped %d event(s): %s", self._source.name, dropped, reason)
        return dropped

    def cancel(self) -> None:
        """Stop retrying (the source is stopping)."""
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()

    def _retry_later(self, exc: Exception) -> None:
        if not self._paused:
            log.info("%s: channel refused a batch (%s); pausing the sender", self._source.name, exc)
            self._paused = True
            self._on_blocked(True)
        delay = RETRY_DELAYS[min(self._attempt, len(RETRY_DELAYS) - 1)]
        self._attempt += 1
        self._timer = self._clock_timer.call_later(delay, self.flush)
