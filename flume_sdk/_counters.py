"""Per-component counters with Flume's attribute names, rendered in Flume's JSON shape."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

__all__ = ["CHANNEL_COUNTERS", "SINK_COUNTERS", "SOURCE_COUNTERS", "Counter"]

SOURCE_COUNTERS = (
    "EventReceivedCount", "EventAcceptedCount", "AppendReceivedCount", "AppendAcceptedCount",
    "AppendBatchReceivedCount", "AppendBatchAcceptedCount", "OpenConnectionCount",
    "EventReadFail", "ChannelWriteFail", "GenericProcessingFail",
)
CHANNEL_COUNTERS = (
    "ChannelSize", "ChannelCapacity", "EventPutAttemptCount", "EventPutSuccessCount",
    "EventTakeAttemptCount", "EventTakeSuccessCount",
)
SINK_COUNTERS = (
    "ConnectionCreatedCount", "ConnectionClosedCount", "ConnectionFailedCount", "BatchEmptyCount",
    "BatchUnderflowCount", "BatchCompleteCount", "EventDrainAttemptCount", "EventDrainSuccessCount",
    "EventWriteFail", "ChannelReadFail",
)
_BY_KIND = {"SOURCE": SOURCE_COUNTERS, "CHANNEL": CHANNEL_COUNTERS, "SINK": SINK_COUNTERS}


class Counter:
    """The counters of one component.

    Args:
        kind: ``SOURCE``, ``CHANNEL``, ``SINK`` or another group name.
        name: the component's name (``r1``).
        extra: counter names beyond Flume's standard set for that kind.
    """

    def __init__(self, kind: str, name: str, extra: Iterable[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.component_type = ""
        self.start_time = 0
        self.stop_time = 0
        self._values: dict[str, int] = dict.fromkeys((*_BY_KIND.get(kind, ()), *extra), 0)
        self._gauges: Callable[[], dict[str, int | float]] | None = None
        self._lock = threading.Lock()

    def declare(self, *names: str) -> None:
        """Add counters of a component's own (Flume's ``KafkaEventGetTimer`` and the like)."""
        for name in names:
            self._values.setdefault(name, 0)

    def incr(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to counter ``name``; unknown names are a programming error."""
        with self._lock:
            try:
                self._values[name] += amount
            except KeyError:
                raise self._unknown(name) from None

    def incr_each(self, *amounts: tuple[str, int]) -> None:
        """Add to several counters at once (one lock): ``incr_each(("A", 1), ("B", 100))``."""
        with self._lock:
            values = self._values
            for name, amount in amounts:
                if name not in values:
                    raise self._unknown(name)
                values[name] += amount

    def set(self, name: str, value: int) -> None:
        with self._lock:
            if name not in self._values:
                raise self._unknown(name)
            self._values[name] = value

    def _unknown(self, name: str) -> KeyError:
        return KeyError(f"{self.kind}.{self.name} has no counter {name!r}; declare() it first")

    def get(self, name: str) -> int:
        gauges = self._gauges() if self._gauges else {}
        return int(gauges.get(name, self._values.get(name, 0)))

    def set_gauges(self, gauges: Callable[[], dict[str, int | float]]) -> None:
        """Values read live at snapshot time (a channel's size and capacity)."""
        self._gauges = gauges

    def live_gauge_names(self) -> frozenset[str]:
        """The names whose values are read live (see :meth:`set_gauges`): gauges, not counts."""
        return frozenset(self._gauges()) if self._gauges else frozenset()

    def values(self) -> dict[str, int | float]:
        """Counters and gauges as numbers."""
        with self._lock:
            out: dict[str, int | float] = dict(self._values)
        if self._gauges:
            out.update(self._gauges())
        return out

    def snapshot(self) -> dict[str, str]:
        """Flume's JSON shape: every value a string, plus Type, StartTime and StopTime."""
        out = {k: _render(v) for k, v in self.values().items()}
        out.update(Type=self.kind, StartTime=str(self.start_time), StopTime=str(self.stop_time))
        return out

    @property
    def group_key(self) -> str:
        return f"{self.kind}.{self.name}"


def _render(value: int | float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)
