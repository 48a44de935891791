"""Interceptors: per-source event transforms and filters, run before the selector."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._configurable import Configurable
from flume_sdk._event import Event

__all__ = ["Interceptor"]


class Interceptor(Configurable, abc.ABC):
    """Base of every interceptor.

    ``intercept`` returns the (possibly modified) event or ``None`` to drop it;
    ``intercept_batch`` must equal the filtered map of ``intercept`` (override it
    only to make it faster).

    Args:
        name: the interceptor's name in the source's ``interceptors`` list.
        settings: an instance of ``Settings``.
        clock: where time comes from.
    """

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__()
        self.name = name
        self.settings: Any = settings if settings is not None else self.Settings()
        self.clock = clock
        self.closed = False

    def initialize(self) -> None:
        """Called once before the first event."""

    @abc.abstractmethod
    def intercept(self, event: Event) -> Event | None:
        """Transform or drop one event, on the source's thread (before the selector).

        Args:
            event: the event; it may be changed in place and returned.

        Returns:
            The event to keep (the same object or a new one), or ``None`` to drop it.

        Raises:
            Exception: the batch it belongs to is refused (the source does not acknowledge
                it); prefer dropping or passing an event you cannot handle.
        """

    def intercept_batch(self, events: Sequence[Event]) -> list[Event]:
        """``[intercept(e) for e in events]`` without the ``None`` results, in order.

        Override only to make it faster; it must stay equal to that map
        (``InterceptorContract`` checks it at batch sizes 1 to 1000).
        """
        intercept = self.intercept
        return [out for out in map(intercept, events) if out is not None]

    def close(self) -> None:
        """Release resources; idempotent."""
        self.closed = True
