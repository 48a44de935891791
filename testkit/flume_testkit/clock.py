"""A fake clock: virtual time that tests move forward, so timers and backoff never block.

:class:`FakeClock` implements :class:`flume_sdk.Clock`. ``sleep`` and ``wait``
advance virtual time instead of blocking, so a component that backs off for
five seconds does so instantly, and a test can check *how long* it asked to wait.
"""

from __future__ import annotations

import threading

__all__ = ["FakeClock"]

_DEFAULT_EPOCH = 1_700_000_000.0


class FakeClock:
    """Virtual monotonic and wall time, thread-safe.

    Args:
        start: the initial wall-clock time (seconds since the epoch).
        monotonic_start: the initial monotonic reading.

    Attributes:
        sleeps: every duration passed to :meth:`sleep` or :meth:`wait`, in call order.
    """

    def __init__(self, start: float = _DEFAULT_EPOCH, monotonic_start: float = 1000.0) -> None:
        self._lock = threading.Lock()
        self._wall = float(start)
        self._mono = float(monotonic_start)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def time(self) -> float:
        with self._lock:
            return self._wall

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``.

        Raises:
            ValueError: ``seconds`` is negative (time never goes backwards).
        """
        if seconds < 0:
            msg = f"FakeClock.advance() needs seconds >= 0 (got {seconds!r}); time cannot go back"
            raise ValueError(msg)
        with self._lock:
            self._mono += seconds
            self._wall += seconds

    def sleep(self, seconds: float) -> None:
        """Record the request and advance virtual time; never blocks."""
        seconds = max(float(seconds), 0.0)
        with self._lock:
            self.sleeps.append(seconds)
        self.advance(seconds)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """``True`` at once if ``event`` is set; otherwise advance by ``timeout`` and re-check."""
        if event.is_set():
            return True
        self.sleep(timeout)
        return event.is_set()

    @property
    def total_slept(self) -> float:
        """Sum of every sleep and wait requested so far."""
        with self._lock:
            return sum(self.sleeps)

    def __repr__(self) -> str:
        return f"FakeClock(time={self.time()!r}, monotonic={self.monotonic()!r})"
