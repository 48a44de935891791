"""The agent: loads a configuration, starts the pipeline, supervises it, reloads it.

Start order is channels, sinks, sources; stop order is the reverse, with a
drain deadline during which sinks keep emptying the channels. A supervisor
thread restarts any component that failed, with exponential backoff. Hot
reload polls the configuration files; a new configuration is built in full
before anything is touched, so a bad one is rejected while the running
pipeline keeps going, and a good one keeps the events already committed
(channels with the same name and type are reused; other in-memory channels
hand their events to their replacement in the background, see
:mod:`flume_sdk._handover`; a reload that would drop an in-memory channel still
holding events is refused).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path

from flume_sdk._channel import Channel
from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._config import AgentConfig, file_problems, parse_agent
from flume_sdk._counters import Counter
from flume_sdk._errors import ConfigurationError, Problem
from flume_sdk._handover import HandOver, lost_by_removal
from flume_sdk._health_report import HealthMonitor, HealthPolicy
from flume_sdk._hooks import plugin_manager
from flume_sdk._lifecycle import Component, LifecycleState
from flume_sdk._pipeline import Pipeline
from flume_sdk._plugins import PluginRegistry
from flume_sdk._preflight import build_checked
from flume_sdk._properties import Entry, read_properties
from flume_sdk._tls import TlsDefaults, using_tls_defaults

__all__ = ["Agent", "load_config"]

log = logging.getLogger("flume_sdk.agent")


def load_config(
    files: Sequence[str | Path], agent: str, *, system_properties: Mapping[str, str] | None = None,
    file_checks: bool = False,
) -> AgentConfig:
    """Read ``files`` in order (later keys win) and return ``agent``'s configuration.

    Args:
        file_checks: also report the keys that belong to no agent (empty values, keys
            without an agent prefix), as ``flume-ng validate`` does once per set of files.
    """
    entries: list[Entry] = []
    for file in files:
        entries.extend(read_properties(file))
    config = parse_agent(entries, agent, system_properties=system_properties)
    if file_checks:
        config.problems.extend(p for p in file_problems(entries, files) if p.component != "config")
    if not any(e.key.startswith(agent + ".") for e in entries):
        names = sorted({e.key.split(".", 1)[0] for e in entries if "." in e.key})
        config.problems.append(Problem(agent, f"no keys for agent {agent!r} in "
                                       f"{', '.join(map(str, files))} (agents there: "
                                       f"{', '.join(names) or 'none'})"))
    return config


class Agent:
    """One running agent.

    Args:
        name: the agent name (``-n``).
        files: configuration files (``-f``), read in order.
        system_properties: ``-D`` values, for ``${sys:...}`` and Flume's global TLS settings
            (``javax.net.ssl.*``, ``flume.ssl.*``; see :class:`flume_sdk.TlsDefaults`).
        registry: where component types come from.
        clock: where time comes from.
        lenient: drop invalid components and start the rest (Flume's behaviour).
        drain_timeout: seconds sinks get to empty channels on stop.
        supervise_interval: seconds between supervisor checks.
        health_policy: when sinks and channels count as failing in :meth:`health`.
    """

    def __init__(
        self,
        name: str,
        files: Sequence[str | Path],
        *,
        system_properties: Mapping[str, str] | None = None,
        registry: PluginRegistry | None = None,
        clock: Clock = SYSTEM_CLOCK,
        lenient: bool = False,
        drain_timeout: float = 5.0,
        supervise_interval: float = 3.0,
        health_policy: HealthPolicy | None = None,
    ) -> None:
        self.name = name
        self.files = [Path(f) for f in files]
        self.system_properties = dict(system_properties or {})
        self.registry = registry
        self.clock = clock
        self.lenient = lenient
        self.drain_timeout = drain_timeout
        self.supervise_interval = supervise_interval
        self.pipeline: Pipeline | None = None
        self.generation = 0
        self.last_reload_error: ConfigurationError | None = None
        self.monitor = HealthMonitor(health_policy, clock=clock)
        self._mtimes = self._file_mtimes()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._restart_after: dict[int, tuple[float, float]] = {}
        self._handovers: list[HandOver] = []

    # -- building -------------------------------------------------------------------------

    def build(self, running: Pipeline | None = None) -> Pipeline:
        """Read and build the configuration; raise ``ConfigurationError`` on any error."""
        config = load_config(self.files, self.name, system_properties=self.system_properties,
                             file_checks=True)
        with using_tls_defaults(TlsDefaults.resolve(self.system_properties)):
            pipeline = build_checked(config, registry=self.registry, clock=self.clock,
                                     lenient=self.lenient, running=running,
                                     ports=running is None)
        for warning in pipeline.warnings:
            log.warning("%s", warning)
        return pipeline

    def _file_mtimes(self) -> list[float]:
        return [f.stat().st_mtime if f.exists() else -1.0 for f in self.files]

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Build and start; nothing starts if the configuration has an error."""
        with self._lock:
            pipeline = self.build()
            self._start_pipeline(pipeline)
            self.pipeline = pipeline
            self.generation += 1
        self._stopping.clear()
        self._supervisor = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
        self._supervisor.start()

    def stop(self) -> None:
        """Stop sources, let sinks drain until the deadline, stop sinks, then channels."""
        self._stopping.set()
        if self._supervisor:
            self._supervisor.join(timeout=10)
            self._supervisor = None
        with self._lock:
            if self.pipeline:
                self._stop_pipeline(self.pipeline)
                self.pipeline = None
            for handover in self._handovers:
                handover.stop()
            self._handovers.clear()

    def _start_pipeline(self, pipeline: Pipeline, reused: Iterable[object] = ()) -> None:
        keep = {id(c) for c in reused}
        for channel in pipeline.channels.values():
            if id(channel) not in keep:
                self._start_one(channel, channel.start)
        for runner in pipeline.sink_runners:
            self._start_one(runner, runner.start)
        for source_runner in pipeline.source_runners:
            if id(source_runner) not in keep:
                self._start_one(source_runner.source, source_runner.start)

    def _start_one(self, what: object, start: Callable[[], object]) -> None:
        """Start; a failure is logged once (then with backoff) and shown in ``/health``."""
        try:
            start()
        except Exception as exc:
            failed = [what] if isinstance(what, Component) else \
                [c for c in _components_of(what) if c.lifecycle_state is LifecycleState.ERROR]
            for target in failed:
                error = exc if target is what else (target.last_error or exc)
                if target.lifecycle_state is not LifecycleState.ERROR:
                    target._enter_error(error)
                target.health.failing("start", error)
                plugin_manager().hook.flume_component_failed(component=target, error=error)
            if not failed:
                log.error("%s failed to start: %s", what, exc)
            return
        for component in _components_of(what):
            plugin_manager().hook.flume_component_started(component=component)

    def _stop_pipeline(self, pipeline: Pipeline, keep: Iterable[object] = ()) -> None:
        kept = {id(c) for c in keep}
        for runner in pipeline.source_runners:
            if id(runner) not in kept:
                _quietly(runner.stop, runner.source)
        self._drain(pipeline, kept)
        for sink_runner in pipeline.sink_runners:
            _quietly(sink_runner.stop, sink_runner.name)
        for channel in pipeline.channels.values():
            if id(channel) in kept:
                continue
            if channel.size and not channel.durable:
                log.error("channel %s stopped with %d event(s) still queued in memory; they are "
                          "lost", channel.name, channel.size)
            _quietly(channel.stop, channel)
        for component in pipeline.components():
            if id(component) not in kept:
                plugin_manager().hook.flume_component_stopped(component=component)

    def _drain(self, pipeline: Pipeline, kept: Collection[int] = ()) -> None:
        """Let sinks empty the channels that go away (kept ones keep their events)."""
        drained_by = {c.name for s in pipeline.sinks.values() for c in [s.channel]
                      if id(c) not in kept}
        deadline = self.clock.monotonic() + self.drain_timeout
        waiting = threading.Event()
        while self.clock.monotonic() < deadline:
            busy = [c for c in pipeline.channels.values() if c.name in drained_by and c.size]
            if not busy and (kept or all(h.done for h in self._handovers)):
                return
            self.clock.wait(waiting, 0.05)

    # -- supervision -------------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self.clock.wait(self._stopping, self.supervise_interval):
            with self._lock:
                if self.pipeline:
                    self._restart_failed(self.pipeline)
            self.health()  # samples since-when of the conditions the agent observes

    def _restart_failed(self, pipeline: Pipeline) -> None:
        now = self.clock.monotonic()
        for component, restart in _restartables(pipeline):
            if component.lifecycle_state is not LifecycleState.ERROR:
                self._restart_after.pop(id(component), None)
                continue
            due, delay = self._restart_after.get(id(component), (0.0, 1.0))
            if now < due:
                continue
            log.debug("restarting %s after failure: %s", component, component.last_error)
            _quietly(component.stop, component)
            component.lifecycle_state = LifecycleState.IDLE
            self._start_one(component, restart)
            self._restart_after[id(component)] = (now + delay, min(delay * 2, 60.0))

    # -- reload ---------------------------------------------------------------------------------

    def reload_if_changed(self) -> bool:
        """Apply the configuration if a file changed; return whether a new one was applied."""
        mtimes = self._file_mtimes()
        if mtimes == self._mtimes:
            return False
        self._mtimes = mtimes
        return self.reload()

    def reload(self) -> bool:
        """Build the current files; on success swap pipelines, keeping committed events."""
        try:
            new = self.build(running=self.pipeline)
        except ConfigurationError as exc:
            self.last_reload_error = exc
            log.error("new configuration rejected; the running pipeline keeps going:\n%s", exc)
            return False
        with self._lock:
            old = self.pipeline
            if old and not self._accept_removals(old, new):
                return False
            reused = [c for c in new.channels.values()
                      if old and old.channels.get(c.name) is c]
            handed: list[Channel] = []
            sources = [r for r in new.source_runners if old and r in old.source_runners]
            if old:
                handed = self._handed_over(old, new, reused)
                self._stop_pipeline(old, keep=[*reused, *handed, *sources,
                                               *(r.source for r in sources)])
            self._start_pipeline(new, [*reused, *sources])
            self.pipeline = new
            self._hand_over(handed)
            self.generation += 1
            self.last_reload_error = None
        log.info("configuration generation %d applied", self.generation)
        return True

    def _accept_removals(self, old: Pipeline, new: Pipeline) -> bool:
        """Refuse a reload that removes an in-memory channel still holding events."""
        pending = {h.old.name: h.old for h in self._handovers if not h.done}
        problems = lost_by_removal({**pending, **old.channels}, new.channels, self.name)
        if not problems:
            return True
        self.last_reload_error = ConfigurationError(problems)
        log.error("new configuration refused; the running pipeline keeps going:\n%s",
                  self.last_reload_error)
        return False

    @staticmethod
    def _handed_over(old: Pipeline, new: Pipeline, reused: list[Channel]) -> list[Channel]:
        """Replaced in-memory channels: they stay open until their events are handed over."""
        kept = {id(c) for c in reused}
        return [c for name, c in old.channels.items()
                if id(c) not in kept and not c.durable and name in new.channels]

    def _hand_over(self, channels: list[Channel]) -> None:
        """Move events from replaced in-memory channels into their successors, in the background."""
        self._handovers = [h for h in self._handovers if not h.done]
        for channel in channels:
            if not channel.size:
                channel.stop()
                continue
            handover = HandOver(channel, functools.partial(self._current_channel, channel.name))
            log.info("the replaced channel %s hands its %d event(s) over to its replacement",
                     channel.name, channel.size)
            self._handovers.append(handover)
            handover.start()

    def _current_channel(self, name: str) -> Channel | None:
        pipeline = self.pipeline
        channel = pipeline.channels.get(name) if pipeline else None
        if channel is None or channel.lifecycle_state is not LifecycleState.START:
            return None
        return channel

    # -- monitoring ------------------------------------------------------------------------------

    def counters(self) -> list[Counter]:
        pipeline = self.pipeline
        return [c.counter for c in pipeline.components()] if pipeline else []

    def health(self) -> dict[str, object]:
        """The ``/health`` document (see :mod:`flume_sdk._health_report` for its semantics),
        plus ``pending``: replaced channels still handing their events over."""
        document = self.monitor.document(self.pipeline, agent=self.name,
                                         generation=self.generation,
                                         reload_error=self.last_reload_error)
        document["pending"] = {f"CHANNEL.{h.old.name}": f"{h.pending} event(s) of the replaced "
                               "channel still being handed over to its replacement"
                               for h in self._handovers if not h.done}
        return document


def _components_of(what: object) -> list[Component]:
    if isinstance(what, Component):
        return [what]
    processor = getattr(what, "processor", None)
    return list(processor.sinks) if processor else []


def _restartables(pipeline: Pipeline) -> list[tuple[Component, Callable[[], object]]]:
    out: list[tuple[Component, Callable[[], object]]] = [(c, c.start) for c in pipeline.channels.values()]
    for runner in pipeline.source_runners:
        out.append((runner.source, runner.start))
    for sink in pipeline.sinks.values():
        out.append((sink, sink.start))
    return out


def _quietly(stop: Callable[[], object], what: object) -> None:
    try:
        stop()
    except Exception as exc:
        log.error("stopping %s failed: %s", what, exc)
