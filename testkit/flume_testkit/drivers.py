"""Drivers: step one component synchronously and collect what happened.

Like Fluentd's test drivers, a driver wires a component to fakes, calls its
``process()`` (or waits for its own threads) until a condition holds or a hard
timeout passes, and collects events, log records, errors and counters. Its
``stop()`` walks the full stop sequence and reports threads left behind.

Drivers use threads the way the agent does (see "Which thread calls what" in the
testkit README): ``start()`` and ``stop()`` run on the thread that calls them (the
agent's main thread), ``process()`` runs on a :class:`RunnerThread` named like the
agent's (``sink-k1``, ``source-r1``) that lives from ``start()`` to ``stop()``, and a
:class:`ChannelDriver` puts on one runner thread and takes on another. A component
that only works when ``process()`` runs on the thread that started it fails here,
as it would in ``flume-ng agent``.

* :class:`SourceDriver` - a source behind a real ``ChannelProcessor``.
* :class:`SinkDriver` - a sink reading a (by default recording) channel.
* :class:`ChannelDriver` - put/take/drain helpers and "run this on another thread".
* :class:`LogRecorder` - caplog-free log capture (a plain ``logging.Handler``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import attrs

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
    "Driven",
    "DriverTimeout",
    "LogRecorder",
    "RunnerThread",
    "SinkDriver",
    "SourceDriver",
    "commit_put",
    "commit_take",
    "new_threads",
    "run_in_thread",
    "thread_rule_hint",
]

T = TypeVar("T")
_TICK = 0.005


@attrs.frozen
class Driven:
    """What one ``drive_source`` call did (``SourceContract``).

    Attributes:
        acknowledged: how many events the source acknowledged to its client.
        sent: the payloads the client sent, each expected in exactly one committed
            event's body once the source acknowledged it (empty: count only).
    """

    acknowledged: int
    sent: tuple[bytes, ...] = attrs.field(default=(), converter=tuple)


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


THREAD_RULE = ("the agent calls start() and stop() on its main thread and process() on the "
               "component's runner thread (puts on a source's thread, takes on a sink's): open "
               "thread-bound resources (an sqlite3 connection, a thread-local session) on the "
               "thread that uses them, or make them usable from any thread")


def thread_rule_hint(error: BaseException | None) -> str:
    """``THREAD_RULE`` when ``error`` looks like a resource used from the wrong thread, else ""."""
    text = f"{type(error).__name__}: {error}".lower() if error is not None else ""
    return f" [thread rule: {THREAD_RULE}]" if "thread" in text else ""


_STOP = object()


class RunnerThread:
    """A long-lived thread that runs the calls handed to it, one at a time, in order.

    It stands for the agent's runner thread of one component (``sink-k1``,
    ``source-r1``): the thread is started by the first :meth:`call` and ends at
    :meth:`close`, so every ``process()`` between one ``start()`` and ``stop()`` runs
    on the same thread, and never on the thread that called ``start()``.

    Args:
        name: the thread's name (shown in leak reports and thread-rule failures).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on the runner thread; return its result or re-raise its exception.

        Raises:
            DriverTimeout: ``fn`` did not return within ``timeout`` seconds.
        """
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        done = threading.Event()
        outcome: list[Any] = []
        self._calls.put((fn, done, outcome))
        if not done.wait(timeout):
            msg = f"{self.name}: {fn!r} did not return within {timeout}s (still blocked)"
            raise DriverTimeout(msg)
        ok, value = outcome[0]
        if not ok:
            raise value
        return cast(T, value)

    def close(self, timeout: float = 5.0) -> bool:
        """End the thread after the call in progress; return whether it ended in time."""
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        self._calls.put(_STOP)
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        while (item := self._calls.get()) is not _STOP:
            fn, done, outcome = item
            try:
                outcome.append((True, fn()))
            except BaseException as exc:
                outcome.append((False, exc))
            finally:
                done.set()


def commit_put(channel: Channel, events: Sequence[Event]) -> None:
    """Put ``events`` in one committed transaction, on the calling thread."""
    with channel.transaction() as tx:
        tx.put_batch(list(events))


def commit_take(channel: Channel, max_events: int) -> list[Event]:
    """Take up to ``max_events`` in one committed transaction, on the calling thread."""
    with channel.transaction() as tx:
        return tx.take_batch(max_events)


class _Driver:
    """What every driver shares: logs, errors, runner threads, a stop sequence, a thread census."""

    def __init__(self, record_logs: bool = True) -> None:
        self._threads_before = list(threading.enumerate())
        self.errors: list[BaseException] = []
        self.statuses: list[Status] = []
        self.logs = LogRecorder()
        if record_logs:
            self.logs.attach()
        self.leaked_threads: list[threading.Thread] = []
        self._runners: list[RunnerThread] = []
        self._stopped = False

    def _runner(self, name: str) -> RunnerThread:
        runner = RunnerThread(name)
        self._runners.append(runner)
        return runner

    def _close_runners(self) -> None:
        for runner in self._runners:
            runner.close()

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
                    last = self.errors[-1] if self.errors else None
                    msg = (f"{what}: condition still false after {timeout}s and {steps} step(s); "
                           f"errors={self.errors[-3:]!r}; {self._describe()}"
                           f"{thread_rule_hint(last)}")
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

    def stop(self, thread_timeout: float = 1.0) -> list[threading.Thread]:
        """Stop the runner threads, then the components (on this thread), in order.

        Returns (and keeps in ``leaked_threads``) the threads the components left alive
        ``thread_timeout`` seconds after their ``stop()`` returned.
        """
        if self._stopped:
            return self.leaked_threads
        self._stopped = True
        try:
            self._close_runners()
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

    ``start()`` and ``stop()`` run on the calling thread; ``process()`` runs on the
    runner thread ``source-<name>``, as in the agent.

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
        self.runner = self._runner(f"source-{source.name}")
        self.driven: list[Driven] = []
        source.set_channel_processor(processor)

    def start(self) -> Self:
        """Start the channels, the processor's interceptors and the source (on this thread)."""
        for channel in self.processor.channels:
            channel.start()
        self.processor.initialize()
        self.source.start()
        return self

    def restart(self) -> Self:
        """Stop and start the source in place, as the agent's supervisor does (new runner thread)."""
        self.runner.close()
        self.source.stop()
        self.source.start()
        return self

    @property
    def pollable(self) -> bool:
        return isinstance(self.source, PollableSource)

    def process(self, times: int = 1, timeout: float = 10.0) -> list[Status]:
        """Call ``process()`` ``times`` times on the runner thread; errors are collected.

        Raises:
            TypeError: the source is event-driven.
            DriverTimeout: one call did not return within ``timeout`` seconds.
        """
        source = self.source
        if not isinstance(source, PollableSource):
            msg = (f"source {source.name!r} is event-driven; feed it through its input and "
                   "use run_until() instead of process()")
            raise TypeError(msg)
        out: list[Status] = []
        for _ in range(times):
            try:
                status = self.runner.call(source.process, timeout)
            except DriverTimeout:
                raise
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
        return run_in_thread(lambda: _drain(self.channel), name=f"{self.channel.name}-drain")

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
    """Drives one sink reading ``channel`` (a fresh :class:`RecordingChannel` by default).

    ``start()`` and ``stop()`` run on the calling thread; ``process()`` runs on the
    runner thread ``sink-<name>``, as in the agent.
    """

    def __init__(self, sink: Sink, channel: Channel | None = None, *,
                 record_logs: bool = True) -> None:
        super().__init__(record_logs)
        self.sink = sink
        self.channel = channel if channel is not None else RecordingChannel("c1")
        self.runner = self._runner(f"sink-{sink.name}")
        self._feeder = self._runner(f"{self.channel.name}-feeder")
        sink.set_channel(self.channel)

    def start(self) -> Self:
        """Start the channel and the sink (on this thread)."""
        self.channel.start()
        self.sink.start()
        return self

    def restart(self) -> Self:
        """Stop and start the sink in place, as the agent's supervisor does (new runner thread)."""
        self.runner.close()
        self.sink.stop()
        self.sink.start()
        return self

    def feed(self, events: Sequence[Event]) -> None:
        """Make ``events`` committed in the channel (without scripted failures or records)."""
        if isinstance(self.channel, RecordingChannel):
            self.channel.preload(events)
        else:
            channel = self.channel
            self._feeder.call(lambda: commit_put(channel, events))

    def process(self, timeout: float = 10.0) -> Status | None:
        """One ``process()`` on the runner thread; an exception is collected, ``None`` returned.

        Raises:
            DriverTimeout: the call did not return within ``timeout`` seconds.
        """
        try:
            status = self.runner.call(self.sink.process, timeout)
        except DriverTimeout:
            raise
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
    """Transactions in one line each: puts on a source-like runner thread, takes on a sink-like one.

    ``start()`` and ``stop()`` run on the calling thread. :meth:`put` runs on the
    runner thread ``<channel>-putter`` and :meth:`take` on ``<channel>-taker``, as a
    source's and a sink's runner threads would; :meth:`as_putter` / :meth:`as_taker`
    run any transaction code there. Use :func:`commit_put` / :func:`commit_take` for
    threads of your own. A put or take that has not returned after ``call_timeout``
    seconds is reported as blocked (raise it for a channel whose calls may wait
    longer by design, such as one that joins a consumer group).
    """

    def __init__(self, channel: Channel, *, record_logs: bool = False,
                 call_timeout: float = 10.0) -> None:
        super().__init__(record_logs)
        self.channel = channel
        self.call_timeout = call_timeout
        self.putter = self._runner(f"{channel.name}-putter")
        self.taker = self._runner(f"{channel.name}-taker")

    def start(self) -> Self:
        self.channel.start()
        return self

    @property
    def started(self) -> bool:
        return self.channel.lifecycle_state is LifecycleState.START

    def as_putter(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Run ``fn`` on the putter thread (its transactions are that thread's); ``timeout``
        defaults to ``call_timeout``."""
        return self.putter.call(fn, self.call_timeout if timeout is None else timeout)

    def as_taker(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Run ``fn`` on the taker thread (its transactions are that thread's); ``timeout``
        defaults to ``call_timeout``."""
        return self.taker.call(fn, self.call_timeout if timeout is None else timeout)

    def put(self, events: Sequence[Event]) -> None:
        """Put ``events`` in one committed transaction, on the putter thread."""
        channel = self.channel
        self.putter.call(lambda: commit_put(channel, events), self.call_timeout)

    def take(self, max_events: int) -> list[Event]:
        """Take up to ``max_events`` in one committed transaction, on the taker thread."""
        channel = self.channel
        return self.taker.call(lambda: commit_take(channel, max_events), self.call_timeout)

    def drain(self, batch: int = 100, limit: int = 1_000_000) -> list[Event]:
        """Take everything committed, ``batch`` at a time, until a take comes back empty."""
        channel = self.channel
        return self.taker.call(lambda: _drain(channel, batch, limit),
                               timeout=max(60.0, self.call_timeout))

    def in_thread(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on a fresh thread (its own transactions) and return its result."""
        return run_in_thread(fn, timeout, f"{self.channel.name}-other-thread")

    def close_threads(self) -> None:
        """End the putter and taker threads without stopping the channel."""
        self._close_runners()

    def _stop_components(self) -> None:
        self.channel.stop()


def _drain(channel: Channel, batch: int = 100, limit: int = 1_000_000) -> list[Event]:
    batch = max(1, min(batch, channel.transaction_capacity))
    out: list[Event] = []
    while len(out) < limit:
        got = commit_take(channel, batch)
        if not got:
            break
        out.extend(got)
    return out
