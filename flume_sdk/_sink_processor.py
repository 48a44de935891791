"""Sink processors: how a sink group's runner picks the sink for each ``process()``."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, ClassVar

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._configurable import Configurable
from flume_sdk._errors import EventDeliveryException
from flume_sdk._failure_log import describe_error
from flume_sdk._lifecycle import LifecycleState
from flume_sdk._sink import Sink
from flume_sdk._source import Status

__all__ = ["SinkProcessor"]


class SinkProcessor(Configurable, abc.ABC):
    """Base of every sink processor.

    Processors call a sink through :meth:`process_sink`, which records the outcome in
    the sink's health (check ``delivery``: logged once, with backoff after) so
    ``/health`` can tell a failing sink; :meth:`live_sinks` says which sinks are
    currently in use (a group with none is failing).

    Args:
        sinks: the group's sinks, in configuration order.
        settings: an instance of ``Settings``.
        clock: where time comes from (penalties and backoff).
        component: the config path for messages (``a1.sinkgroups.g1.processor``).
    """

    min_sinks: ClassVar[int] = 1
    config_context: ClassVar[tuple[str, ...]] = ("component",)
    default_component: ClassVar[str] = "processor"

    def __init__(
        self, sinks: Sequence[Sink], settings: Any = None, *, clock: Clock = SYSTEM_CLOCK,
        component: str = "",
    ) -> None:
        super().__init__()
        self.sinks = list(sinks)
        self.settings: Any = settings if settings is not None else self.Settings()
        self.clock = clock
        self.component = component
        self.last_sink_error: BaseException | None = None

    def start(self) -> None:
        """Start every sink; one that fails does not keep the others from starting.

        Raises:
            Exception: the first sink's start error, after every sink was tried.
        """
        first: Exception | None = None
        for sink in self.sinks:
            try:
                sink.start()
            except Exception as exc:
                first = first or exc
        if first is not None:
            raise first

    def process_sink(self, sink: Sink) -> Status:
        """``sink.process()``, with its outcome recorded in ``sink.health``.

        Raises:
            EventDeliveryException: the sink failed (to start) and waits for its restart.
            Exception: whatever the sink raised, after recording it.
        """
        try:
            if sink.lifecycle_state is LifecycleState.ERROR:
                cause = describe_error(sink.last_error) if sink.last_error else "failed"
                msg = f"sink {sink.name!r} is not running ({cause})"
                raise EventDeliveryException(msg)
            status = sink.process()
        except Exception as exc:
            self.last_sink_error = exc
            sink.health.failing("delivery", exc, required=False)
            raise
        sink.health.ok("delivery")
        return status

    def live_sinks(self) -> list[Sink]:
        """The sinks this processor would use now (override when it keeps its own list)."""
        return [s for s in self.sinks if s.lifecycle_state is not LifecycleState.ERROR
                and not s.health.is_failing("delivery")]

    def stop(self) -> None:
        for sink in self.sinks:
            sink.stop()

    @abc.abstractmethod
    def process(self) -> Status:
        """Pick a live sink and call :meth:`process_sink` on it, on the group's runner thread.

        Returns:
            The chosen sink's status (``Status.BACKOFF`` when no sink could work).

        Raises:
            EventDeliveryException: no sink could deliver (the runner backs off).
        """
