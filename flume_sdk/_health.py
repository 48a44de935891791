"""Health conditions: what a component reports about itself, and what ``/health`` shows.

Every component (source, channel, sink) has ``self.health``, a
:class:`HealthChecks`. A component reports a condition that stops it from doing
its job under a short name of its choosing, and clears it when it is over::

    # in a source's accept loop
    try:
        conn, _ = self._listener.accept()
    except OSError as exc:                       # e.g. EMFILE: out of file descriptors
        self.health.failing("accept", exc)       # required: /health answers 503
        backoff()
        continue
    self.health.ok("accept")                     # cheap when nothing is failing

    # something that only weakens the component
    self.health.failing("tls-reload", exc, required=False)   # degraded: visible, still 200

``failing`` records since when (wall clock, the first failure of the streak),
the last error and the number of failures, and logs through a
:class:`~flume_sdk.FailureLog`: the first failure once as one ERROR line with its
cause, repeats with backoff and a count, the recovery once at INFO, a traceback
only at DEBUG. So reporting a condition is also the way to log a repeating
failure quietly; pass ``log=False`` when the caller logs by itself.

The agent adds the conditions it observes itself (see
``flume_sdk._health_report``): a component that failed to start, a sink that
keeps failing or has not delivered while its channel holds events, a sink group
with no live sink, a channel over its fill threshold, a rejected reload. Both
kinds appear in ``/health`` as :class:`HealthCondition` entries.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import attrs

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._failure_log import FailureLog, describe_error

__all__ = ["HealthChecks", "HealthCondition"]

log = logging.getLogger("flume_sdk.health")


@attrs.frozen
class HealthCondition:
    """One failing check of one subject.

    Attributes:
        subject: what fails, as ``/metrics`` names it (``SINK.k1``, ``SINKGROUP.g1``).
        check: what about it fails (``delivery``, ``start``, ``fill``, ``accept``).
        required: whether the agent is failing (503) while this lasts; else degraded (200).
        since: wall-clock seconds since the epoch of the first failure of this streak.
        last_error: the last error, one line.
        failures: how many failures this streak has counted (1 for a state).
    """

    subject: str
    check: str
    required: bool
    since: float
    last_error: str
    failures: int = 1

    def to_json(self) -> dict[str, Any]:
        """The ``/health`` entry."""
        return {"component": self.subject, "check": self.check,
                "severity": "failing" if self.required else "degraded",
                "since": _iso(self.since), "sinceMillis": int(self.since * 1000),
                "lastError": self.last_error, "failures": self.failures}


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


@attrs.define
class _Streak:
    required: bool
    since: float
    last_error: str
    log: FailureLog


class HealthChecks:
    """The conditions one component reports about itself; thread-safe.

    Args:
        subject: the component as ``/metrics`` names it (``SOURCE.r1``).
        what: how log lines name it (``source r1``).
        clock: where time comes from.
        logger: where failures are logged.
    """

    def __init__(self, subject: str, what: str, *, clock: Clock = SYSTEM_CLOCK,
                 logger: logging.Logger = log) -> None:
        self.subject = subject
        self.what = what
        self.clock = clock
        self.logger = logger
        self._streaks: dict[str, _Streak] = {}
        self._lock = threading.Lock()

    def failing(self, check: str, error: BaseException | str, *, required: bool = True,
                log: bool = True) -> None:
        """Report that ``check`` failed (again); logs quietly unless ``log`` is false."""
        text = describe_error(error)
        with self._lock:
            streak = self._streaks.get(check)
            if streak is None:
                streak = self._streaks[check] = _Streak(
                    required, self.clock.time(), text,
                    FailureLog(self.logger, f"{self.what}: {check}", clock=self.clock))
            streak.required = required
            streak.last_error = text
            if not log:
                streak.log.failures += 1
        if log:
            streak.log.failed(error)

    def ok(self, check: str) -> None:
        """Report that ``check`` works; logs the recovery once if it was failing."""
        if not self._streaks:
            return
        with self._lock:
            streak = self._streaks.pop(check, None)
        if streak is not None:
            streak.log.recovered()

    def clear(self) -> None:
        """Forget every condition (the component was restarted or replaced)."""
        with self._lock:
            self._streaks.clear()

    def is_failing(self, check: str | None = None) -> bool:
        """Whether ``check`` (or any check) is failing."""
        return bool(self._streaks) if check is None else check in self._streaks

    def conditions(self) -> list[HealthCondition]:
        """The failing checks now."""
        with self._lock:
            return [HealthCondition(self.subject, check, s.required, s.since, s.last_error,
                                    max(1, s.log.failures))
                    for check, s in self._streaks.items()]
