"""Accept loops and repeated per-connection errors that neither end a source nor flood the log.

A source whose ``accept()`` fails with ``EMFILE`` would, logging each failure, write
gigabytes in minutes and fill the disk under a file channel; a source refusing hostile
clients would log one line per client. :class:`RateLimitedLog` keeps one
:class:`~flume_sdk.FailureLog` per kind of trouble (``"refused"``, ``"bad input"``...), so
each kind is logged once, then with a count at growing intervals. :class:`AcceptBackoff`
is what an accept loop does after a transient error (out of file descriptors, a
connection aborted before it was accepted): wait a little longer each time and keep
serving, never end, and report the ``accept`` check in ``/health`` (through the
component's :class:`~flume_sdk.HealthChecks`) until an accept works again.
:func:`limit_asyncio_errors` does the same for the errors an asyncio loop reports.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
from typing import Any

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._failure_log import FailureLog

__all__ = ["TRANSIENT_ACCEPT_ERRNOS", "AcceptBackoff", "RateLimitedLog", "limit_asyncio_errors"]

TRANSIENT_ACCEPT_ERRNOS = frozenset({
    errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.ECONNABORTED, errno.EPROTO,
    errno.EPERM, errno.ETIMEDOUT, errno.EAGAIN, errno.EINTR, errno.ECONNRESET,
})
"""``accept()`` errors after which the listener still works: back off and try again."""

_MAX_KINDS = 64


class RateLimitedLog:
    """One :class:`~flume_sdk.FailureLog` per kind of repeated trouble of one component.

    Args:
        logger: where the lines go.
        what: who has the trouble, the start of every line (``"source r1"``).
        clock: where time comes from.
    """

    def __init__(self, logger: logging.Logger, what: str, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.logger = logger
        self.what = what
        self.clock = clock
        self._logs: dict[str, FailureLog] = {}
        self._lock = threading.Lock()

    def failed(self, kind: str, error: BaseException | str, level: int = logging.WARNING) -> bool:
        """Count one ``kind`` of trouble; log it if first, or if its interval has passed."""
        with self._lock:
            failures = self._logs.get(kind)
            if failures is None:
                if len(self._logs) >= _MAX_KINDS:  # kinds come from code, but stay bounded
                    kind = "other"
                failures = self._logs.setdefault(
                    kind, FailureLog(self.logger, f"{self.what}: {kind}", clock=self.clock))
        return failures.failed(error, level)

    def recovered(self, kind: str) -> bool:
        """``kind`` of trouble is over; logs the recovery once if it was logged."""
        failures = self._logs.get(kind)
        return failures.recovered() if failures is not None else False

    def count(self, kind: str) -> int:
        """Troubles of ``kind`` since it last recovered."""
        failures = self._logs.get(kind)
        return failures.failures if failures is not None else 0


def _health_of(component: Any) -> Any:
    return getattr(component, "health", None)


class AcceptBackoff:
    """What an accept loop does after ``accept()`` failed: wait, report within limits, go on.

    Args:
        component: the source (its ``health`` shows the ``accept`` check in ``/health``
            while it fails), or any object with a ``name`` (then only logged).
        logger: where the lines go.
        clock: where time comes from.
        first_delay: seconds waited after the first failure; doubles up to ``max_delay``.
    """

    def __init__(self, component: Any, logger: logging.Logger, *, clock: Clock = SYSTEM_CLOCK,
                 first_delay: float = 0.01, max_delay: float = 1.0) -> None:
        self.component = component
        self.health = _health_of(component)
        name = getattr(component, "name", "?")
        self.log = RateLimitedLog(logger, f"{type(component).__name__} {name}", clock=clock)
        self.clock = clock
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._delay = 0.0
        self.failures = 0

    def is_transient(self, exc: OSError) -> bool:
        return exc.errno in TRANSIENT_ACCEPT_ERRNOS or isinstance(exc, ConnectionError)

    def failed(self, exc: OSError, stopping: threading.Event) -> None:
        """Record the failure, report it within limits and wait (less if ``stopping`` is set)."""
        self.failures += 1
        self._delay = min(max(self._delay * 2, self.first_delay), self.max_delay)
        if self.health is not None:
            self.health.failing("accept", exc)  # logs through its own FailureLog
        else:
            self.log.failed("accept", exc)
        self.clock.wait(stopping, self._delay)

    def succeeded(self) -> None:
        """An accept worked: the condition is over."""
        if self._delay:
            self._delay = 0.0
            if self.health is not None:
                self.health.ok("accept")
            else:
                self.log.recovered("accept")


def limit_asyncio_errors(loop: asyncio.AbstractEventLoop, component: Any,
                         logger: logging.Logger, *, clock: Clock = SYSTEM_CLOCK) -> None:
    """Route ``loop``'s error reports (failed accepts among them) through rate limits.

    A transient ``accept()`` failure also marks the component's ``accept`` check failing;
    the component reports ``health.ok("accept")`` when its next connection arrives.
    """
    limited = RateLimitedLog(logger, f"{type(component).__name__} {getattr(component, 'name', '?')}",
                             clock=clock)
    health = _health_of(component)

    def handle(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in TRANSIENT_ACCEPT_ERRNOS and health:
            health.failing("accept", exc)
            return
        kind = f"{context.get('message', 'asyncio error')}"[:60]
        limited.failed(kind, exc if isinstance(exc, BaseException) else kind)

    loop.set_exception_handler(handle)
