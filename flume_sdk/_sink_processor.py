"""Sink processors: how a sink group's runner picks the sink for each ``process()``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._errors import Location
from flume_sdk._lifecycle import NoSettings
from flume_sdk._settings import parse_settings
from flume_sdk._sink import Sink
from flume_sdk._source import Status

__all__ = ["SinkProcessor"]


class SinkProcessor:
    """Base of every sink processor.

    Args:
        sinks: the group's sinks, in configuration order.
        settings: an instance of ``Settings``.
        clock: where time comes from (penalties and backoff).
        component: the config path for messages (``a1.sinkgroups.g1.processor``).
    """

    Settings: ClassVar[type] = NoSettings
    min_sinks: ClassVar[int] = 1

    def __init__(
        self, sinks: Sequence[Sink], settings: Any = None, *, clock: Clock = SYSTEM_CLOCK,
        component: str = "",
    ) -> None:
        self.sinks = list(sinks)
        self.settings: Any = settings if settings is not None else self.Settings()
        self.clock = clock
        self.component = component

    @classmethod
    def from_config(
        cls,
        sinks: Sequence[Sink],
        properties: Mapping[str, Any] | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        component: str = "processor",
        locations: Mapping[str, Location] | None = None,
    ) -> Self:
        settings: Any = parse_settings(cls.Settings, properties or {}, component=component,
                                  locations=locations)
        return cls(sinks, settings, clock=clock, component=component)

    def start(self) -> None:
        for sink in self.sinks:
            sink.start()

    def stop(self) -> None:
        for sink in self.sinks:
            sink.stop()

    def process(self) -> Status:
        raise NotImplementedError  # pragma: no cover - abstract hook
