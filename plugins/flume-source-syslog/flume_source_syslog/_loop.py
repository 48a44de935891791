"""An asyncio loop in a source's own thread, and the delivery of decoded batches.

Sources are synchronous components; their network I/O runs on a private event loop in one
daemon thread. Decoded events go to the channel processor in batches of ``batchSize`` from that
thread. When the channel refuses a batch (full), the connection stops being read
(``pause_reading``), so the sender's TCP window closes: backpressure, not loss. The batch is
retried with a growing delay until it commits or the source stops.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from flume_sdk import ChannelException, Event, Source

__all__ = ["RETRY_DELAYS", "BatchDelivery", "LoopThread"]

log = logging.getLogger("flume_source_syslog")

RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
_START_TIMEOUT = 10.0


class LoopThread:
    """Run an event loop in a daemon thread; run coroutines on it from the caller's thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
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
        """Stop the loop and join the thread."""
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
        loop: the source's loop, for retry timers.
        extra: headers added to every event (client IP, host name, port).
        on_blocked: called with True when the channel refused, False when space returned.
    """

    def __init__(
        self,
        source: Source,
        loop: asyncio.AbstractEventLoop,
        extra: dict[str, str],
        on_blocked: Callable[[bool], None],
    ) -> None:
        self._source = source
        self._loop = loop
        self._extra = extra
        self._on_blocked = on_blocked
        self._pending: list[Event] = []
        self._attempt = 0  # consecutive refusals
        self._paused = False
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False

    @property
    def blocked(self) -> bool:
        """Events are waiting for channel space."""
        return bool(self._pending)

    def add(self, events: list[Event]) -> None:
        """Add the connection's extra headers and deliver what the channel accepts."""
        if not events:
            return
        self._source.counter.incr("EventReceivedCount", len(events))
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
        processor = self._source.channel_processor
        counter = self._source.counter
        pending = self._pending
        while pending and not self.closed:
            batch = pending[:size] if len(pending) > size else pending
            counter.incr("AppendBatchReceivedCount")
            try:
                processor.process_batch(batch)
            except ChannelException as exc:
                counter.incr("ChannelWriteFail")
                self._retry_later(exc)
                return False
            counter.incr("AppendBatchAcceptedCount")
            counter.incr("EventAcceptedCount", len(batch))
            pending = pending[size:] if batch is not pending else []
            self._pending = pending
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
        self._timer = self._loop.call_later(delay, self.flush)
