"""Interceptors: per-source event transforms and filters, run before the selector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._errors import Location
from flume_sdk._event import Event
from flume_sdk._lifecycle import NoSettings
from flume_sdk._settings import parse_settings

__all__ = ["Interceptor"]


class Interceptor:
    """Base of every interceptor.

    ``intercept`` returns the (possibly modified) event or ``None`` to drop it;
    ``intercept_batch`` must equal the filtered map of ``intercept`` (override it
    only to make it faster).

    Args:
        name: the interceptor's name in the source's ``interceptors`` list.
        settings: an instance of ``Settings``.
        clock: where time comes from.
    """

    Settings: ClassVar[type] = NoSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.name = name
        self.settings: Any = settings if settings is not None else self.Settings()
        self.clock = clock
        self.closed = False

    @classmethod
    def from_config(
        cls,
        name: str,
        properties: Mapping[str, Any] | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        component: str | None = None,
        locations: Mapping[str, Location] | None = None,
    ) -> Self:
        settings: Any = parse_settings(
            cls.Settings, properties or {}, component=component or name, locations=locations
        )
        return cls(name, settings, clock=clock)

    def initialize(self) -> None:
        """Called once before the first event."""

    def intercept(self, event: Event) -> Event | None:
        raise NotImplementedError  # pragma: no cover - abstract hook

    def intercept_batch(self, events: Sequence[Event]) -> list[Event]:
        intercept = self.intercept
        return [out for out in map(intercept, events) if out is not None]

    def close(self) -> None:
        """Release resources; idempotent."""
        self.closed = True
