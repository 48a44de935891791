"""Flume's sink processors: ``default``, ``failover`` and ``load_balance``."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    Clock,
    ConfigurationError,
    EventDeliveryException,
    LifecycleState,
    Problem,
    Sink,
    SinkProcessor,
    Status,
    at_least,
    namespace,
    one_of,
    setting,
    to_bool,
)

__all__ = ["DefaultSinkProcessor", "FailoverSinkProcessor", "LoadBalancingSinkProcessor"]

_FAILURE_PENALTY = 1.0


def _penalty(failures: int, cap: float) -> float:
    return min(cap, (1 << min(failures, 30)) * _FAILURE_PENALTY)


class DefaultSinkProcessor(SinkProcessor):
    """One sink, processed directly; while it is not running (the supervisor restarts it)
    there is nothing to do."""

    def process(self) -> Status:
        sink = self.sinks[0]
        if sink.lifecycle_state is LifecycleState.ERROR:
            return Status.BACKOFF
        return self.process_sink(sink)


@attrs.frozen(kw_only=True)
class FailoverSettings:
    priority: dict[str, str] = namespace("priority.", help="sink name -> integer, higher preferred")
    maxpenalty: int = setting(default=30000, validator=at_least(0),
                              help="longest cool-down of a failed sink, ms")


@attrs.define
class _Penalised:
    sink: Sink
    priority: int
    failures: int = 0
    refresh: float = 0.0


class FailoverSinkProcessor(SinkProcessor):
    """Always the highest-priority live sink; a failing sink cools down, then is retried.

    Unlike Flume, sinks without a priority keep configuration order (first is
    preferred) and a duplicate priority is a configuration error, not a silent drop.
    """

    Settings: ClassVar[type] = FailoverSettings

    def __init__(self, sinks: Sequence[Sink], settings: Any = None, *, clock: Clock = SYSTEM_CLOCK,
                 component: str = "") -> None:
        super().__init__(sinks, settings, clock=clock, component=component)
        self._priorities = self._priorities_of(self.sinks)
        self._live = sorted(self.sinks, key=lambda s: -self._priorities[s.name])
        self._failed: list[_Penalised] = []

    def _priorities_of(self, sinks: list[Sink]) -> dict[str, int]:
        problems: list[Problem] = []
        out: dict[str, int] = {}
        seen: dict[int, str] = {}
        names = {s.name for s in sinks}
        for name, text in self.settings.priority.items():
            key = f"priority.{name}"
            if name not in names:
                problems.append(Problem(self.component, f"names sink {name!r}, not in the group",
                                        key))
                continue
            try:
                out[name] = int(text)
            except ValueError:
                problems.append(Problem(self.component, f"must be an integer (got {text!r})", key))
                continue
            if out[name] in seen:
                problems.append(Problem(self.component, f"duplicates the priority of sink "
                                        f"{seen[out[name]]!r}; priorities must be unique", key))
            seen[out[name]] = name
        if problems:
            raise ConfigurationError(problems)
        for rank, sink in enumerate(s for s in sinks if s.name not in out):
            out[sink.name] = -1 - rank
        return out

    def process(self) -> Status:
        status = self._retry_cooled_down()
        if status is not None:
            return status
        while self._live:
            sink = self._live[0]
            try:
                return self.process_sink(sink)
            except Exception:
                self._live.pop(0)
                self._penalise(_Penalised(sink, self._priorities[sink.name]))
        msg = f"{self.component}: all sinks failed to process, nothing left to fail over to"
        raise EventDeliveryException(msg)

    def _retry_cooled_down(self) -> Status | None:
        now = self.clock.monotonic()
        for entry in sorted(self._failed, key=lambda e: -e.priority):
            if entry.refresh > now:
                continue
            self._failed.remove(entry)
            try:
                status = self.process_sink(entry.sink)
            except Exception:
                self._penalise(entry)
                continue
            self._live.append(entry.sink)
            self._live.sort(key=lambda s: -self._priorities[s.name])
            return status
        return None

    def live_sinks(self) -> list[Sink]:
        return list(self._live)

    def _penalise(self, entry: _Penalised) -> None:
        entry.failures += 1
        entry.refresh = self.clock.monotonic() + _penalty(entry.failures,
                                                          self.settings.maxpenalty / 1000)
        self._failed.append(entry)


@attrs.frozen(kw_only=True)
class LoadBalanceSettings:
    backoff: bool = setting(default=False, converter=to_bool,
                            help="blacklist a failed sink for an exponentially growing time")
    selector: str = setting(default="round_robin", validator=one_of("round_robin", "random"))
    max_time_out: int = setting("selector.maxTimeOut", default=30000, validator=at_least(0),
                                help="longest blacklisting, ms")


class LoadBalancingSinkProcessor(SinkProcessor):
    """Spreads ``process()`` calls over the group's sinks; a failure tries the next sink."""

    Settings: ClassVar[type] = LoadBalanceSettings
    min_sinks: ClassVar[int] = 2

    def __init__(self, sinks: Sequence[Sink], settings: Any = None, *, clock: Clock = SYSTEM_CLOCK,
                 component: str = "") -> None:
        super().__init__(sinks, settings, clock=clock, component=component)
        if len(self.sinks) < self.min_sinks:
            msg = f"load_balance needs at least 2 sinks (got {len(self.sinks)})"
            raise ConfigurationError([Problem(component, msg, "sinks")])
        self._start = itertools.count()
        self._failures: dict[str, int] = {}
        self._restore: dict[str, float] = {}

    def _order(self) -> list[Sink]:
        if self.settings.selector.lower() == "random":
            order = random.sample(self.sinks, len(self.sinks))
        else:
            first = next(self._start) % len(self.sinks)
            order = self.sinks[first:] + self.sinks[:first]
        if not self.settings.backoff:
            return order
        now = self.clock.monotonic()
        return [s for s in order if self._restore.get(s.name, 0.0) <= now]

    def process(self) -> Status:
        for sink in self._order():
            try:
                status = self.process_sink(sink)
            except Exception:
                failures = self._failures[sink.name] = self._failures.get(sink.name, 0) + 1
                self._restore[sink.name] = self.clock.monotonic() + _penalty(
                    failures, self.settings.max_time_out / 1000)
                continue
            self._failures.pop(sink.name, None)
            return status
        msg = f"{self.component}: all sinks failed to process"
        raise EventDeliveryException(msg)

    def live_sinks(self) -> list[Sink]:
        return [s for s in self.sinks if s.name not in self._failures
                and s.lifecycle_state is not LifecycleState.ERROR]
