"""Drivers: step one component synchronously and collect what happened.

Like Fluentd's test drivers, a driver wires a component to fakes, calls its
``process()`` (or waits for its own threads) until a condition holds or a hard
timeout passes, and collects events, log records, errors and counters. Its
``stop()`` walks the full stop sequence and reports threads left behind.

* :class:`SourceDriver` - a source behind a real ``ChannelProcessor``.
* :class:`SinkDriver` - a sink reading a (by default recording) channel.
* :class:`ChannelDriver` - put/take/drain helpers and "run this on another thread".
* :class:`LogRecorder` - caplog-free log capture (a plain ``logging.Handler``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Self, TypeVar

from flume_sdk import (
    Channel,
    ChannelProcessor,
    ChannelSelector,
    Event,
    Interceptor,
    LifecycleState,
    PollableSource,
    Sink,
    Source,
    Status,
)
from flume_testkit.fakes import RecordingChannel

__all__ = [
    "ChannelDriver",
    "DriverTimeout",
    "LogRecorder",
    "SinkDriver",
    "SourceDriver",
    "new_threads",
    "run_in_thread",
]

T = TypeVar("T")
_TICK = 0.005


class DriverTimeout(AssertionError):
    """A driver's condition did not hold before its hard timeout."""


class LogRecorder(logging.Handler):
    """Collects log records from a logger (the root logger by default) while attached.

    Args:
        logger: the logger name to listen on ("" = root).
        level: the lowest level recorded; the logger's level is lowered while attached.
    """

    def __init__(self, logger: str = "", level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []
        self._logger = logging.getLogger(logger)
        self._saved_level: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def attach(self) -> Self:
        if self._saved_level is None:
            self._saved_level = self._logger.level
            if self._logger.getEffectiveLevel() > self.level:
                self._logger.setLevel(self.level)
            self._logger.addHandler(self)
        return self

    def detach(self) -> None:
        if self._saved_level is not None:
            self._logger.removeHandler(self)
            self._logger.setLevel(self._saved_level)
            self._saved_level = None

    def messages(self, level: int = logging.NOTSET) -> list[str]:
        """Formatted messages at ``level`` or above."""
        return [r.getMessage() for r in self.records if r.levelno >= level]

    def __enter__(self) -> Self:
        return self.attach()

    def __exit__(self, *exc: object) -> None:
        self.detach()


def new_threads(before: Iterable[threading.Thread], timeout: float = 5.0) -> list[threading.Thread]:
    """Threads alive now that were not in ``before``, after giving them ``timeout`` s to end."""
    known = set(before)
    deadline = threading.Event()
    timer = threading.Timer(timeout, deadline.set)
    timer.daemon = True
    timer.start()
    try:
        while True:
            extra = [t for t in threading.enumerate() if t not in known and t is not timer]
            if not extra or deadline.is_set():
                return extra
            extra[0].join(_TICK * 10)
    finally:
        timer.cancel()


def run_in_thread(fn: Callable[[], T], timeout: float = 10.0, name: str = "testkit-worker") -> T:
    """Run ``fn`` on a fresh thread and return its result here, re-raising its exception.

    Raises:
        DriverTimeout: ``fn`` did not return within ``timeout`` seconds.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        msg = f"{name}: {fn!r} did not return within {timeout}s (still blocked)"
        raise DriverTimeout(msg)
    if error:
        raise error[0]
    return result[0]


class _Driver:
    """What every driver shares: logs, errors, a stop sequence and a thread census."""

    def __init__(self, record_logs: bool = True) -> None:
        self._threads_before = list(threading.enumerate())
        self.errors: list[BaseException] = []
        self.statuses: list[Status] = []
        self.logs = LogRecorder()
        if record_logs:
            self.logs.attach()
        self.leaked_threads: list[threading.Thread] = []
        self._stopped = False

    def _wait(self, condition: Callable[[], bool], timeout: float, step: Callable[[], None],
              what: str) -> int:
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.daemon = True
        timer.start()
        steps = 0
        try:
            while not condition():
                if deadline.is_set():
                    msg = (f"{what}: condition still false after {timeout}s and {steps} step(s); "
                           f"errors={self.errors!r}; {self._describe()}")
                    raise DriverTimeout(msg)
                step()
                steps += 1
        finally:
            timer.cancel()
        return steps

    def _describe(self) -> str:
        return ""

    def _stop_components(self) -> None:
        raise NotImplementedError  # pragma: no cover - abstract hook

    def stop(self, thread_timeout: float = 5.0) -> list[threading.Thread]:
        """Stop everything in order; return (and keep in ``leaked_threads``) threads left behind."""
        if self._stopped:
            return self.leaked_threads
        self._stopped = True
        try:
            self._stop_components()
        finally:
            self.logs.detach()
        self.leaked_threads = new_threads(self._threads_before, thread_timeout)
        return self.leaked_threads

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class SourceDriver(_Driver):
    """Drives one source; its events go through a real ``ChannelProcessor``.

    Args:
        source: the configured, unstarted source.
        channel: where events land; a fresh :class:`RecordingChannel` by default.
        interceptors: run by the channel processor.
        processor: a ready-made channel processor (overrides ``channel``'s selector).
    """

    def __init__(self, source: Source, channel: Channel | None = None, *,
                 interceptors: Sequence[Interceptor] = (),
                 processor: ChannelProcessor | None = None, record_logs: bool = True) -> None:
        super().__init__(record_logs)
        self.source = source
        self.channel = channel if channel is not None else RecordingChannel("c1")
        if processor is None:
            processor = ChannelProcessor(ChannelSelector([self.channel]), interceptors)
        self.processor = processor
        source.set_channel_processor(processor)

    def start(self) -> Self:
        """Start the channels, the processor's interceptors and the source."""
        for channel in self.processor.channels:
            channel.start()
        self.processor.initialize()
        self.source.start()
        return self

    @property
    def pollable(self) -> bool:
        return isinstance(self.source, PollableSource)

    def process(self, times: int = 1) -> list[Status]:
        """Call ``process()`` ``times`` times (pollable sources); errors are collected."""
        if not isinstance(self.source, PollableSource):
            msg = (f"source {self.source.name!r} is event-driven; feed it through its input and "
                   "use run_until() instead of process()")
            raise TypeError(msg)
        out: list[Status] = []
        for _ in range(times):
            try:
                status = self.source.process()
            except Exception as exc:
                self.errors.append(exc)
                status = Status.BACKOFF
            out.append(status)
        self.statuses.extend(out)
        return out

    def run_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> int:
        """Step (pollable) or wait (event-driven) until ``condition()``; return the steps taken.

        Raises:
            DriverTimeout: ``condition`` still false after ``timeout`` seconds.
        """
        pause = threading.Event()

        def step() -> None:
            if self.pollable:
                self.process()
            else:
                pause.wait(_TICK)

        return self._wait(condition, timeout, step, f"source {self.source.name!r}")

    @property
    def events(self) -> list[Event]:
        """Events committed to the channel (a recording channel's history, else a drain)."""
        if isinstance(self.channel, RecordingChannel):
            return list(self.channel.committed)
        return ChannelDriver(self.channel).drain()

    @property
    def counters(self) -> dict[str, int | float]:
        return self.source.counter.values()

    def _describe(self) -> str:
        return f"counters={self.counters!r}"

    def _stop_components(self) -> None:
        try:
            self.source.stop()
        finally:
            self.processor.close()
            for channel in self.processor.channels:
                channel.stop()


class SinkDriver(_Driver):
    """Drives one sink reading ``channel`` (a fresh :class:`RecordingChannel` by default)."""

    def __init__(self, sink: Sink, channel: Channel | None = None, *,
                 record_logs: bool = True) -> None:
        super().__init__(record_logs)
        self.sink = sink
        self.channel = channel if channel is not None else RecordingChannel("c1")
        sink.set_channel(self.channel)

    def start(self) -> Self:
        self.channel.start()
        self.sink.start()
        return self

    def feed(self, events: Sequence[Event]) -> None:
        """Make ``events`` committed in the channel (without scripted failures or records)."""
        if isinstance(self.channel, RecordingChannel):
            self.channel.preload(events)
        else:
            ChannelDriver(self.channel).put(events)

    def process(self) -> Status | None:
        """One ``process()``; an exception is collected and ``None`` returned."""
        try:
            status = self.sink.process()
        except Exception as exc:
            self.errors.append(exc)
            return None
        self.statuses.append(status)
        return status

    def run_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> int:
        """Call ``process()`` until ``condition()``; return the calls made.

        Raises:
            DriverTimeout: ``condition`` still false after ``timeout`` seconds.
        """
        def step() -> None:
            self.process()

        return self._wait(condition, timeout, step, f"sink {self.sink.name!r}")

    def run_until_empty(self, timeout: float = 5.0) -> int:
        """Process until the channel holds nothing (by its ``size``)."""
        return self.run_until(lambda: self.channel.size == 0, timeout)

    @property
    def counters(self) -> dict[str, int | float]:
        return self.sink.counter.values()

    def _describe(self) -> str:
        return f"channel size={self.channel.size}; counters={self.counters!r}"

    def _stop_components(self) -> None:
        try:
            self.sink.stop()
        finally:
            self.channel.stop()


class ChannelDriver(_Driver):
    """Transactions in one line each, on this thread or another."""

    def __init__(self, channel: Channel, *, record_logs: bool = False) -> None:
        super().__init__(record_logs)
        self.channel = channel

    def start(self) -> Self:
        self.channel.start()
        return self

    @property
    def started(self) -> bool:
        return self.channel.lifecycle_state is LifecycleState.START

    def put(self, events: Sequence[Event]) -> None:
        """Put ``events`` in one committed transaction."""
        with self.channel.transaction() as tx:
            tx.put_batch(list(events))

    def take(self, max_events: int) -> list[Event]:
        """Take up to ``max_events`` in one committed transaction."""
        with self.channel.transaction() as tx:
            return tx.take_batch(max_events)

    def drain(self, batch: int = 100, limit: int = 1_000_000) -> list[Event]:
        """Take everything committed, ``batch`` at a time, until a take comes back empty."""
        batch = max(1, min(batch, self.channel.transaction_capacity))
        out: list[Event] = []
        while len(out) < limit:
            got = self.take(batch)
            if not got:
                break
            out.extend(got)
        return out

    def in_thread(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on another thread (its own transactions) and return its result."""
        return run_in_thread(fn, timeout, f"{self.channel.name}-other-thread")

    def _stop_components(self) -> None:
        self.channel.stop()
