"""Quiet logs for repeating failures: once with its cause, then with backoff and a count.

A component that keeps failing (a sink whose destination is down, a source
that cannot bind, an accept loop out of file descriptors) must not flood the
log. :class:`FailureLog` writes the first failure as one ERROR line with its
cause, repeats it only after a growing interval ("still failing after 12 tries,
last error: ..."), logs the recovery once, and writes a traceback only at
DEBUG::

    failures = FailureLog(log, "source r1: accept", clock=self.clock)
    try:
        conn = listener.accept()
    except OSError as exc:
        failures.failed(exc)          # logs at most once per interval
    else:
        failures.recovered()          # logs once if it was failing

It is thread-safe; ``describe_error`` gives the one-line cause it uses.
"""

from __future__ import annotations

import logging
import threading

from flume_sdk._clock import SYSTEM_CLOCK, Clock

__all__ = ["FailureLog", "describe_error"]

FIRST_REPEAT = 10.0
MAX_REPEAT = 300.0


def describe_error(error: BaseException | str) -> str:
    """One line: ``TypeName: message (caused by Other: message)``, whitespace collapsed."""
    if isinstance(error, str):
        return " ".join(error.split())
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(parts) < 4:
        seen.add(id(current))
        text = " ".join(str(current).split())
        if not parts or not text or text not in parts[0]:
            parts.append(f"{type(current).__name__}: {text}" if text else type(current).__name__)
        current = current.__cause__ or (None if current.__suppress_context__ else
                                         current.__context__)
    return parts[0] + "".join(f" (caused by {p})" for p in parts[1:])


class FailureLog:
    """Logs one repeating failure without flooding.

    Args:
        logger: where lines go.
        what: who is failing at what, the start of every line (``"sink k1"``).
        clock: where time comes from (the repeat interval is on ``clock.monotonic``).
        first_repeat: seconds before the first "still failing" line; each later one
            waits twice as long, at most ``max_repeat``.
        max_repeat: the longest interval between "still failing" lines.
    """

    def __init__(self, logger: logging.Logger, what: str, *, clock: Clock = SYSTEM_CLOCK,
                 first_repeat: float = FIRST_REPEAT, max_repeat: float = MAX_REPEAT) -> None:
        self.logger = logger
        self.what = what
        self.clock = clock
        self.first_repeat = first_repeat
        self.max_repeat = max_repeat
        self.failures = 0
        self._next_at = 0.0
        self._interval = first_repeat
        self._lock = threading.Lock()

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def failed(self, error: BaseException | str, level: int = logging.ERROR) -> bool:
        """Count a failure; log it if it is the first or the repeat interval has passed.

        Returns whether a line was written.
        """
        now = self.clock.monotonic()
        with self._lock:
            self.failures += 1
            count = self.failures
            if count > 1 and now < self._next_at:
                return False
            if count == 1:
                self._interval = self.first_repeat
            else:
                self._interval = min(self._interval * 2, self.max_repeat)
            self._next_at = now + (self.first_repeat if count == 1 else self._interval)
        cause = describe_error(error)
        if count == 1:
            self.logger.log(level, "%s: %s", self.what, cause)
        else:
            self.logger.log(level, "%s: still failing after %d tries, last error: %s",
                            self.what, count, cause)
        if isinstance(error, BaseException) and self.logger.isEnabledFor(logging.DEBUG):
            self.logger.debug("%s: traceback of the last error", self.what, exc_info=error)
        return True

    def recovered(self) -> bool:
        """Note success; log the recovery once if it was failing. Returns whether it logged."""
        if not self.failures:
            return False
        with self._lock:
            count, self.failures = self.failures, 0
        if count:
            self.logger.info("%s: recovered after %d failed tr%s", self.what, count,
                             "y" if count == 1 else "ies")
        return bool(count)
