"""Runner threads: call a source's or sink processor's ``process()`` in a loop, with backoff."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flume_sdk._channel import Channel
from flume_sdk._clock import Clock
from flume_sdk._failure_log import FailureLog
from flume_sdk._lifecycle import Component, LifecycleState
from flume_sdk._sink_processor import SinkProcessor
from flume_sdk._source import EventDrivenSource, PollableSource, Source, Status

__all__ = ["PollingLoop", "SinkRunner", "SourceRunner"]

log = logging.getLogger("flume_sdk.runner")


class PollingLoop:
    """A thread that calls ``process`` until stopped.

    After ``BACKOFF`` it waits ``increment`` × consecutive backoffs (at most
    ``max_backoff``); after an exception it reports (``on_error``), logs quietly (once,
    then with backoff and a count, unless ``on_error`` returns True to say it logged)
    and waits ``error_backoff``. ``on_status`` sees every status. Every wait ends early
    when the loop is stopped.
    """

    def __init__(
        self,
        name: str,
        process: Callable[[], Status],
        clock: Clock,
        *,
        increment: float = 1.0,
        max_backoff: float = 5.0,
        error_backoff: float = 5.0,
        on_error: Callable[[BaseException], bool | None] | None = None,
        on_status: Callable[[Status], None] | None = None,
    ) -> None:
        self.name = name
        self._process = process
        self._clock = clock
        self._increment = increment
        self._max_backoff = max_backoff
        self._error_backoff = error_backoff
        self._on_error = on_error
        self._on_status = on_status
        self._failures = FailureLog(log, name, clock=clock)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the loop to end after the current ``process()``."""
        self._stopping.set()

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the loop to end and wait; return whether the thread has ended."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.error("%s did not stop within %.0fs; it is stuck in process()", self.name, timeout)
            return False
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        backoffs = 0
        stopping, clock = self._stopping, self._clock
        while not stopping.is_set():
            try:
                status = self._process()
            except Exception as exc:
                self.errors += 1
                logged = self._on_error(exc) if self._on_error else False
                if not logged:
                    self._failures.failed(exc)
                clock.wait(stopping, self._error_backoff)
                continue
            if self._failures.failing:
                self._failures.recovered()
            if self._on_status:
                self._on_status(status)
            if status is Status.BACKOFF:
                backoffs += 1
                clock.wait(stopping, min(backoffs * self._increment, self._max_backoff))
            else:
                backoffs = 0


class SourceRunner:
    """Runs one source: a polling loop for a pollable source, nothing extra otherwise."""

    def __init__(self, source: Source, clock: Clock) -> None:
        self.source = source
        self._loop: PollingLoop | None = None
        if isinstance(source, PollableSource):
            self._loop = PollingLoop(
                f"source-{source.name}", source.process, clock,
                increment=source.backoff_sleep_increment, max_backoff=source.max_backoff_sleep,
                on_error=self._read_failed, on_status=self._read_ok,
            )
        elif not isinstance(source, EventDrivenSource):
            msg = f"source {source.name!r} is neither pollable nor event-driven"
            raise TypeError(msg)

    @property
    def component(self) -> Component:
        return self.source

    def _read_failed(self, exc: BaseException) -> bool:
        self.source.health.failing("process", exc)
        return True

    def _read_ok(self, status: Status) -> None:
        self.source.health.ok("process")

    def start(self) -> None:
        self.source.channel_processor.initialize()
        self.source.start()
        if self._loop:
            self._loop.start()

    def stop(self) -> None:
        if self._loop:
            self._loop.stop()
        self.source.stop()
        self.source.channel_processor.close()

    @property
    def failed(self) -> bool:
        return self.source.lifecycle_state is LifecycleState.ERROR


class SinkRunner:
    """Runs one sink processor (a group, or a single sink's default processor).

    ``progress_at`` is the monotonic time the runner last delivered a batch or found
    its channels empty; ``/health`` calls it stalled when that is too long ago while
    a channel holds events.

    Args:
        group: whether ``name`` is a sink group's (``SINKGROUP.g1``) or a sink's.
    """

    def __init__(self, name: str, processor: SinkProcessor, clock: Clock, *,
                 max_backoff: float = 5.0, error_backoff: float = 5.0,
                 group: bool = False) -> None:
        self.name = name
        self.processor = processor
        self.group = group
        self._clock = clock
        self.progress_at = clock.monotonic()
        self._loop = PollingLoop(f"{'sinkgroup' if group else 'sink'}-{name}", processor.process,
                                 clock, max_backoff=max_backoff, error_backoff=error_backoff,
                                 on_error=self._failed, on_status=self._progressed)

    def channels(self) -> list[Channel]:
        """The channels this runner's sinks take from."""
        return list({id(s.channel): s.channel for s in self.processor.sinks}.values())

    def _failed(self, exc: BaseException) -> bool:
        # A sink's own failure was logged by the processor (process_sink); log only the
        # group's ("every sink failed").
        return exc is self.processor.last_sink_error

    def _progressed(self, status: Status) -> None:
        if status is Status.READY or not any(c.size for c in self.channels()):
            self.progress_at = self._clock.monotonic()

    def start(self) -> None:
        """Start the sinks and the loop; the loop runs even if a sink failed to start
        (a group keeps its other sinks; the supervisor restarts the failed one)."""
        self.progress_at = self._clock.monotonic()
        try:
            self.processor.start()
        finally:
            self._loop.start()

    @property
    def running(self) -> bool:
        return self._loop.running

    def stop(self) -> None:
        self._loop.request_stop()
        for channel in {id(s.channel): s.channel for s in self.processor.sinks}.values():
            channel.wake()
        self._loop.stop()
        self.processor.stop()

    @property
    def failed(self) -> bool:
        return any(s.lifecycle_state is LifecycleState.ERROR for s in self.processor.sinks)
