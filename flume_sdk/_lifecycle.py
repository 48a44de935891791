"""Lifecycle states and the component base class every source, channel and sink extends."""

from __future__ import annotations

import abc
import enum
import threading
from typing import Any, ClassVar

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._configurable import Configurable, NoSettings
from flume_sdk._counters import Counter
from flume_sdk._errors import Problem
from flume_sdk._health import HealthChecks

__all__ = ["Component", "LifecycleState", "NoSettings"]


class LifecycleState(enum.Enum):
    """Flume's lifecycle states."""

    IDLE = "IDLE"
    START = "START"
    STOP = "STOP"
    ERROR = "ERROR"


class Component(Configurable, abc.ABC):
    """Base of sources, channels and sinks: a name, settings, a clock, counters and a lifecycle.

    Subclasses declare ``Settings`` (an attrs class built with ``setting``; see
    :class:`Configurable` for ``from_config``) and implement ``do_start``/``do_stop``.
    ``start`` and ``stop`` handle state, idempotency and timing: ``stop`` is safe without
    ``start``, and safe twice. ``health`` is where the component
    reports what stops it from doing its job (see :class:`flume_sdk.HealthChecks`).

    Args:
        name: the component's name in the agent (``k1``).
        settings: an instance of ``Settings``; default settings when omitted.
        clock: where time comes from.
    """

    counter_kind: ClassVar[str] = "COMPONENT"
    counter_extra: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.name = name
        self.settings: Any = settings if settings is not None else self.Settings()
        self.clock = clock
        self.counter = Counter(self.counter_kind, name, self.counter_extra)
        self.counter.component_type = type(self).__name__
        self.lifecycle_state = LifecycleState.IDLE
        self.last_error: BaseException | None = None
        self.error_since: float | None = None
        self.health = HealthChecks(self.counter.group_key, f"{self.counter_kind.lower()} {name}",
                                   clock=clock)
        self._lifecycle_lock = threading.RLock()
        self.config_warnings: list[Problem] = []  # filled by from_config
        self.config_path = name
        self.config_locations = {}


    def start(self) -> None:
        """Start; a second call while started does nothing. On failure the state is ERROR."""
        with self._lifecycle_lock:
            if self.lifecycle_state is LifecycleState.START:
                return
            try:
                self.do_start()
            except BaseException as exc:
                self._enter_error(exc)
                raise
            self.lifecycle_state = LifecycleState.START
            self.last_error = None
            self.error_since = None
            self.health.ok("start")
            self.health.ok("running")
            self.counter.start_time = int(self.clock.time() * 1000)
            self.counter.stop_time = 0

    def stop(self) -> None:
        """Stop and release ports, files and threads; idempotent and safe without ``start``."""
        with self._lifecycle_lock:
            was = self.lifecycle_state
            if was in (LifecycleState.IDLE, LifecycleState.STOP):
                self.lifecycle_state = LifecycleState.STOP
                return
            try:
                self.do_stop()
            finally:
                self.lifecycle_state = LifecycleState.STOP
                self.counter.stop_time = int(self.clock.time() * 1000)

    def fail(self, exc: BaseException) -> None:
        """Mark this component failed from one of its own threads; the supervisor restarts it.

        Logged once with its cause (repeats with backoff, traceback at DEBUG) and shown
        in ``/health`` as the ``running`` check until a restart succeeds.
        """
        self.health.failing("running", exc)
        self._enter_error(exc)

    def _enter_error(self, exc: BaseException) -> None:
        if self.error_since is None:
            self.error_since = self.clock.time()
        self.last_error = exc
        self.lifecycle_state = LifecycleState.ERROR

    def do_start(self) -> None:
        """Acquire resources and start threads. Override."""

    def do_stop(self) -> None:
        """Release everything ``do_start`` acquired. Override."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.lifecycle_state.value}>"
