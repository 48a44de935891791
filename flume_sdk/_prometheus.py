"""Prometheus exposition of the agent's counters, rendered by ``prometheus_client``.

A custom collector reads every component's :class:`~flume_sdk.Counter` at scrape
time. Monotonic counts (Flume's ``...Count``, ``...Fail`` and ``...Timer``
attributes) become counters named ``flume_<kind>_<what>_total``; sizes,
capacities, fill percentages and open connections become gauges. Every sample
carries ``agent``, ``component``, ``kind`` and ``type`` labels. The library's own
process, platform and Python GC collectors are served beside them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from flume_sdk._counters import Counter

__all__ = ["CONTENT_TYPE", "ComponentCollector", "PrometheusExposition", "metric_name"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LABELS = ("agent", "component", "kind", "type")
# Flume attributes that go up and down although their names look like counts.
_GAUGES = frozenset({"OpenConnectionCount", "Open", "Closed", "Unhealthy"})
_MONOTONIC_SUFFIXES = ("Count", "Fail", "Timer")
# A gauge name should not end in ``_count`` (Prometheus reserves it for summaries).
_RENAMES = {"OpenConnectionCount": "open_connections"}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def is_gauge(name: str, live: frozenset[str] = frozenset()) -> bool:
    """Whether Flume's attribute ``name`` is a gauge (else a monotonic counter)."""
    return name in live or name in _GAUGES or not name.endswith(_MONOTONIC_SUFFIXES)


def metric_name(kind: str, name: str, gauge: bool) -> str:
    """The family name for Flume's attribute ``name`` of a ``kind`` component.

    ``ChannelSize`` of a channel is ``flume_channel_size`` (not ``..._channel_channel_size``);
    counters lose Flume's ``Count`` suffix, the exposition adds ``_total``.
    """
    prefix = kind.lower()
    what = _RENAMES.get(name) or _snake(name)
    if what.startswith(prefix + "_"):
        what = what[len(prefix) + 1:]
    if not gauge and what.endswith("_count"):
        what = what[: -len("_count")]
    return f"flume_{prefix}_{what}"


class ComponentCollector(Collector):
    """Collects the component counters of one agent at scrape time.

    Args:
        agent: the agent's name, the ``agent`` label of every sample.
        counters: returns the current components' counters (they change on reload).
    """

    def __init__(self, agent: str, counters: Callable[[], list[Counter]]) -> None:
        self._agent = agent
        self._counters = counters

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        started = GaugeMetricFamily("flume_component_start_time_seconds",
                                    "When the component last started (Unix time)", labels=_LABELS)
        for counter in self._counters():
            labels = [self._agent, counter.name, counter.kind, counter.component_type]
            live = counter.live_gauge_names()
            for name, value in counter.values().items():
                gauge = is_gauge(name, live)
                family = metric_name(counter.kind, name, gauge)
                if family not in families:
                    help_text = f"Flume's {name} of each {counter.kind.lower()}"
                    maker = GaugeMetricFamily if gauge else CounterMetricFamily
                    families[family] = maker(family, help_text, labels=_LABELS)
                families[family].add_metric(labels, float(value))  # type: ignore[attr-defined]
            started.add_metric(labels, counter.start_time / 1000.0)
        yield from families.values()
        if started.samples:
            yield started


class PrometheusExposition:
    """A private registry: the component collector plus process, platform and GC metrics.

    Args:
        agent: the agent's name.
        counters: returns the current components' counters.
    """

    def __init__(self, agent: str, counters: Callable[[], list[Counter]]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(ComponentCollector(agent, counters))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def render(self) -> bytes:
        """The exposition text, as served to a Prometheus scrape."""
        return generate_latest(self.registry)
