"""The agent's ``/health`` document: what components report plus what the agent observes.

Semantics (the README's "Health" section says the same):

- **failing** (``/health`` answers 503) while any *required* condition lasts:
  a component that failed to start or failed while running (``start``); a sink
  outside any group whose last ``maxFailures`` processes failed (``delivery``); a
  sink or sink group that has delivered nothing for ``stallTimeout`` seconds while
  its channel holds events (``stalled``); a sink group with no live sink
  (``no-live-sink``); a channel at or above ``fillThreshold`` percent full
  (``fill``); anything a component reports with ``self.health.failing(...)``.
- **degraded** (200, visible) for conditions that are not required: a sink of a
  group that failed while another sink still delivers (a failed standby), a sink's
  first failures below ``maxFailures``, a rejected reload (the running pipeline
  keeps going), whatever a component reports with ``required=False``.
- **ok** otherwise; **stopped** (503) when no pipeline runs.

The thresholds are ``-D`` properties: ``flume.health.sink.maxFailures`` (3),
``flume.health.sink.stallTimeout`` (seconds, 60), ``flume.health.channel.fillThreshold``
(percent, 90).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._errors import ConfigurationError, Problem
from flume_sdk._failure_log import describe_error
from flume_sdk._health import HealthCondition
from flume_sdk._lifecycle import Component, LifecycleState

if TYPE_CHECKING:
    from flume_sdk._pipeline import Pipeline
    from flume_sdk._runners import SinkRunner

__all__ = ["HealthMonitor", "HealthPolicy"]

_PROPERTIES = {
    "flume.health.sink.maxFailures": ("sink_max_failures", int, 1),
    "flume.health.sink.stallTimeout": ("sink_stall_timeout", float, 0.001),
    "flume.health.channel.fillThreshold": ("channel_fill_threshold", float, 0.0),
}


@attrs.frozen(kw_only=True)
class HealthPolicy:
    """When the agent's own observations count as failing.

    Attributes:
        sink_max_failures: consecutive failed processes after which a sink outside a
            group is failing (before that it is degraded).
        sink_stall_timeout: seconds without a delivery, while the channel holds events,
            after which a sink (or group) is failing.
        channel_fill_threshold: percent of capacity at or above which a channel is failing.
    """

    sink_max_failures: int = 3
    sink_stall_timeout: float = 60.0
    channel_fill_threshold: float = 90.0

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> HealthPolicy:
        """Read ``flume.health.*`` from ``-D`` properties.

        Raises:
            ConfigurationError: a value that is not a number or is out of range.
        """
        values: dict[str, Any] = {}
        problems = []
        for key, (field, kind, least) in _PROPERTIES.items():
            if key not in properties:
                continue
            try:
                value = kind(properties[key])
                if value < least:
                    raise ValueError
            except ValueError:
                problems.append(Problem(f"-D{key}", f"must be a {kind.__name__} of at least "
                                        f"{least:g} (got {properties[key]!r})"))
                continue
            values[field] = value
        if problems:
            raise ConfigurationError(problems)
        return cls(**values)


class HealthMonitor:
    """Turns a running pipeline into the ``/health`` document.

    Keeps since-when for the conditions it observes by sampling (a channel over its
    threshold, a group without a live sink); the agent's supervisor samples every
    few seconds and every request samples too.
    """

    def __init__(self, policy: HealthPolicy | None = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.policy = policy or HealthPolicy()
        self.clock = clock
        self._first_seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def conditions(self, pipeline: Pipeline | None, *, agent: str = "agent",
                   reload_error: BaseException | None = None) -> list[HealthCondition]:
        """Every failing condition now."""
        found: list[HealthCondition] = []
        if pipeline is not None:
            grouped = {s.name for r in pipeline.sink_runners if r.group for s in r.processor.sinks}
            for component in pipeline.components():
                found.extend(self._of_component(component, component.name in grouped
                                                and component.counter.kind == "SINK"))
            for runner in pipeline.sink_runners:
                found.extend(self._of_runner(runner))
            for channel in pipeline.channels.values():
                found.extend(self._of_channel(channel))
        if reload_error is not None:
            found.append(self._sampled(f"AGENT.{agent}", "reload", describe_error(reload_error),
                                       required=False))
        self._forget_except(found)
        return found

    def document(self, pipeline: Pipeline | None, *, agent: str = "agent", generation: int = 0,
                 reload_error: BaseException | None = None) -> dict[str, Any]:
        """The ``/health`` JSON document."""
        found = self.conditions(pipeline, agent=agent, reload_error=reload_error)
        failing = _summary(c for c in found if c.required)
        degraded = _summary(c for c in found if not c.required)
        status = "failing" if failing else ("degraded" if degraded else "ok")
        if pipeline is None:
            status = "stopped"
        return {"status": status, "generation": generation, "failing": failing,
                "degraded": degraded, "conditions": [c.to_json() for c in found],
                "lastReloadError": str(reload_error) if reload_error else None}

    # -- observations ------------------------------------------------------------------------

    def _of_component(self, component: Component, in_group: bool) -> list[HealthCondition]:
        out = []
        for condition in component.health.conditions():
            if condition.check == "delivery" and component.counter.kind == "SINK":
                required = not in_group and condition.failures >= self.policy.sink_max_failures
                condition = attrs.evolve(condition, required=required)
            out.append(condition)
        if component.lifecycle_state is LifecycleState.ERROR and not component.health.is_failing():
            since = component.error_since or self.clock.time()
            out.append(HealthCondition(component.counter.group_key, "start", True, since,
                                       describe_error(component.last_error or "failed")))
        return out

    def _of_runner(self, runner: SinkRunner) -> list[HealthCondition]:
        out = []
        subject = f"SINKGROUP.{runner.name}" if runner.group else f"SINK.{runner.name}"
        if runner.group and runner.running and not runner.processor.live_sinks():
            errors = [c.last_error for s in runner.processor.sinks for c in s.health.conditions()]
            out.append(self._sampled(subject, "no-live-sink",
                                     errors[-1] if errors else "every sink is failing"))
        waiting = {c.name: c.size for c in runner.channels() if c.size}
        idle = self.clock.monotonic() - runner.progress_at
        if runner.running and waiting and idle >= self.policy.sink_stall_timeout:
            held = ", ".join(f"channel {n} holds {size} event(s)" for n, size in waiting.items())
            errors = [c.last_error for s in runner.processor.sinks for c in s.health.conditions()]
            last = f"; last error: {errors[-1]}" if errors else ""
            out.append(HealthCondition(subject, "stalled", True, self.clock.time() - idle,
                                       f"nothing delivered for {idle:.0f}s while {held}{last}"))
        return out

    def _of_channel(self, channel: Component) -> list[HealthCondition]:
        size = int(getattr(channel, "size", 0))
        capacity = int(getattr(channel, "capacity", 0))
        if not capacity:
            return []
        fill = 100.0 * size / capacity
        if fill < self.policy.channel_fill_threshold:
            return []
        return [self._sampled(channel.counter.group_key, "fill",
                              f"holds {size} of {capacity} events ({fill:.1f}%, threshold "
                              f"{self.policy.channel_fill_threshold:g}%)")]

    def _sampled(self, subject: str, check: str, error: str, *,
                 required: bool = True) -> HealthCondition:
        with self._lock:
            since = self._first_seen.setdefault((subject, check), self.clock.time())
        return HealthCondition(subject, check, required, since, error)

    def _forget_except(self, found: Iterable[HealthCondition]) -> None:
        live = {(c.subject, c.check) for c in found}
        with self._lock:
            for key in [k for k in self._first_seen if k not in live]:
                del self._first_seen[key]


def _summary(conditions: Iterable[HealthCondition]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in conditions:
        text = f"{c.check}: {c.last_error}"
        out[c.subject] = f"{out[c.subject]}; {text}" if c.subject in out else text
    return out
