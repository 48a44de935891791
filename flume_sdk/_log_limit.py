"""Bounded logging and transient-error backoff for loops that may fail thousands of times a second.

A source whose ``accept()`` fails with ``EMFILE`` would, logging each failure, write
gigabytes in minutes and fill the disk under a file channel. :class:`RateLimitedLog`
logs the first occurrence of a problem at once, then stays quiet for an interval that
doubles while the problem repeats, and says how many were suppressed when it speaks
again. :class:`AcceptBackoff` uses it for accept loops: a transient error (out of file
descriptors, a connection aborted before it was accepted) makes the loop wait a little
longer each time and keep serving, never end; the component shows the condition in
``/health`` (``Component.degraded``) until an accept succeeds again.
:func:`limit_asyncio_errors` routes an asyncio loop's error reports through a limiter.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
from typing import Any

from flume_sdk._clock import SYSTEM_CLOCK, Clock

__all__ = ["TRANSIENT_ACCEPT_ERRNOS", "AcceptBackoff", "RateLimitedLog", "limit_asyncio_errors"]

TRANSIENT_ACCEPT_ERRNOS = frozenset({
    errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.ECONNABORTED, errno.EPROTO,
    errno.EPERM, errno.ETIMEDOUT, errno.EAGAIN, errno.EINTR, errno.ECONNRESET,
})
"""``accept()`` errors after which the listener still works: back off and try again."""


class RateLimitedLog:
    """Log a repeated message once, then a count of repeats at growing intervals.

    Args:
        logger: where the lines go.
        clock: where time comes from.
        first_interval: seconds of silence after the first line of a key.
        max_interval: the longest silence while a key keeps repeating.
    """

    def __init__(self, logger: logging.Logger, *, clock: Clock = SYSTEM_CLOCK,
                 first_interval: float = 1.0, max_interval: float = 300.0) -> None:
        self.logger = logger
        self.clock = clock
        self.first_interval = first_interval
        self.max_interval = max_interval
        self._state: dict[str, list[float]] = {}  # key -> [quiet until, interval, suppressed]
        self._lock = threading.Lock()

    def log(self, level: int, key: str, msg: str, *args: object, **kwargs: Any) -> bool:
        """Log ``msg % args`` unless ``key`` was logged within its interval; say if logged."""
        now = self.clock.monotonic()
        with self._lock:
            state = self._state.get(key)
            if state is not None and now < state[0]:
                state[2] += 1
                return False
            suppressed = int(state[2]) if state else 0
            interval = self.first_interval
            if state is not None and suppressed:
                interval = min(state[1] * 2, self.max_interval)
            self._state[key] = [now + interval, interval, 0]
        if suppressed:
            msg += " (%d more like this in the last %.0fs; next report in %.0fs at most)"
            args = (*args, suppressed, state[1] if state else 0.0, interval)
        self.logger.log(level, msg, *args, **kwargs)
        return True

    def warning(self, key: str, msg: str, *args: object, **kwargs: Any) -> bool:
        return self.log(logging.WARNING, key, msg, *args, **kwargs)

    def error(self, key: str, msg: str, *args: object, **kwargs: Any) -> bool:
        return self.log(logging.ERROR, key, msg, *args, **kwargs)

    def suppressed(self, key: str) -> int:
        """Repeats of ``key`` not logged yet."""
        with self._lock:
            state = self._state.get(key)
            return int(state[2]) if state else 0


class AcceptBackoff:
    """What an accept loop does after ``accept()`` failed: wait, log within limits, go on.

    Args:
        component: has a ``degraded`` dict (:class:`flume_sdk.Component`) that shows the
            condition in ``/health`` while it lasts, and a ``name`` for the log.
        logger: where the (rate-limited) lines go.
        clock: where time comes from.
        first_delay: seconds waited after the first failure; doubles up to ``max_delay``.
    """

    def __init__(self, component: Any, logger: logging.Logger, *, clock: Clock = SYSTEM_CLOCK,
                 first_delay: float = 0.01, max_delay: float = 1.0) -> None:
        self.component = component
        self.log = RateLimitedLog(logger, clock=clock)
        self.clock = clock
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._delay = 0.0
        self.failures = 0

    def is_transient(self, exc: OSError) -> bool:
        return exc.errno in TRANSIENT_ACCEPT_ERRNOS or isinstance(exc, ConnectionError)

    def failed(self, exc: OSError, stopping: threading.Event) -> None:
        """Record the failure, log it within limits and wait (less if ``stopping`` is set)."""
        self.failures += 1
        self._delay = min(max(self._delay * 2, self.first_delay), self.max_delay)
        name = getattr(self.component, "name", "?")
        message = f"cannot accept connections: {exc}; retrying with backoff"
        self.component.degraded["accept"] = message
        self.log.warning(f"accept-{exc.errno}", "%s %s: %s", type(self.component).__name__,
                         name, message)
        self.clock.wait(stopping, self._delay)

    def succeeded(self) -> None:
        """An accept worked: the condition is over."""
        if self._delay:
            self._delay = 0.0
            self.component.degraded.pop("accept", None)


def limit_asyncio_errors(loop: asyncio.AbstractEventLoop, component: Any,
                         logger: logging.Logger, *, clock: Clock = SYSTEM_CLOCK) -> None:
    """Route ``loop``'s error reports (failed accepts among them) through a rate limit."""
    limiter = RateLimitedLog(logger, clock=clock)
    name = getattr(component, "name", "?")

    def handle(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        key = f"{context.get('message', '')}|{type(exc).__name__}|{getattr(exc, 'errno', '')}"
        if isinstance(exc, OSError) and exc.errno in TRANSIENT_ACCEPT_ERRNOS:
            component.degraded["accept"] = f"cannot accept connections: {exc}; retrying"
        limiter.warning(key, "%s %s: %s: %s", type(component).__name__, name,
                        context.get("message", "asyncio error"), exc or "")

    loop.set_exception_handler(handle)
