"""``exec``: runs a command; each line it prints on stdout becomes an event.

Lines are batched (``batchSize`` lines, or whatever arrived within
``batchTimeout`` ms) and handed to the channel processor. Unlike Flume, a batch
the channel refuses is **kept and retried** (with a growing wait, at most
``maxBackoff`` ms) while the reader stops taking new lines, so the command is
slowed down by its full pipe instead of losing lines. When the command ends the
last batch is delivered, and with ``restart = true`` the command runs again after
``restartThrottle`` ms. Delivery is at-least-once only while the command runs:
lines a command printed before the agent died are gone, as in Flume.

``shell`` (e.g. ``/bin/sh -c``) runs ``command`` through that shell; without it
the command is split like a shell would (no pipes or globs). ``logStdErr`` logs
the command's stderr lines; otherwise stderr is discarded.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading
from typing import IO, Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    Clock,
    Event,
    EventDrivenSource,
    at_least,
    setting,
)

__all__ = ["ExecSource", "ExecSourceSettings"]

log = logging.getLogger("flume_sdk.source.exec")


@attrs.frozen(kw_only=True)
class ExecSourceSettings:
    command: str = setting(required=True, help="the command whose stdout lines are events")
    shell: str = setting(default="", help="shell to run the command with, e.g. /bin/sh -c")
    restart: bool = setting(default=False, help="run the command again when it ends")
    restart_throttle: int = setting(default=10_000, validator=at_least(0),
                                    help="ms to wait before a restart")
    log_std_err: bool = setting("logStdErr", default=False, help="log the command's stderr")
    batch_size: int = setting(default=20, validator=at_least(1), help="lines per transaction")
    batch_timeout: int = setting(default=3000, validator=at_least(1),
                                 help="ms before a partial batch is delivered")
    charset: str = setting(default="UTF-8", help="charset of the output (bodies keep its bytes)")
    max_backoff: int = setting(default=5000, validator=at_least(1),
                               help="ms, the longest wait between retries of a refused batch")


class ExecSource(EventDrivenSource):
    """Runs ``command``; see the module docstring for batching, retries and restarts."""

    Settings: ClassVar[type] = ExecSourceSettings
    settings: ExecSourceSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("ExecRestarts",)

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._stopping = threading.Event()
        self._has_pending = threading.Event()
        self._lock = threading.Lock()
        self._process_lock = threading.Lock()
        self._pending: list[Event] = []
        self._oldest = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._threads: list[threading.Thread] = []
        self.runs = 0

    @property
    def argv(self) -> list[str]:
        """What is executed: ``shell`` words plus ``command``, or ``command`` split."""
        s = self.settings
        return [*shlex.split(s.shell), s.command] if s.shell.strip() else shlex.split(s.command)

    def do_start(self) -> None:
        self._stopping.clear()
        self._pending = []
        self._spawn(self._run_loop, f"{self.name}-exec")
        self._spawn(self._timeout_loop, f"{self.name}-flush")

    def do_stop(self) -> None:
        with self._process_lock:
            self._stopping.set()
        self._has_pending.set()
        self._kill()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        with self._lock:
            if self._pending:
                log.warning("%s: %d line(s) not delivered at stop", self.name, len(self._pending))
            self._pending = []

    def _spawn(self, target: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # -- running the command -----------------------------------------------------------------

    def _run_loop(self) -> None:
        s = self.settings
        while not self._stopping.is_set():
            self._run_once()
            if not s.restart or self._stopping.is_set():
                return
            self.clock.wait(self._stopping, s.restart_throttle / 1000)
            self.counter.incr("ExecRestarts")

    def _start_process(self) -> subprocess.Popen[bytes] | None:
        """Start the command unless the source is stopping (checked under the same lock)."""
        with self._process_lock:
            if self._stopping.is_set():
                return None
            try:
                process = subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE if self.settings.log_std_err else subprocess.DEVNULL)
            except OSError as exc:
                log.error("%s: cannot run %r: %s", self.name, self.argv, exc)
                return None
            self._process = process
            self.runs += 1
            return process

    def _run_once(self) -> None:
        process = self._start_process()
        if process is None:
            return
        stderr = None
        if process.stderr is not None:
            stderr = threading.Thread(target=self._log_stderr, args=(process.stderr,),
                                      name=f"{self.name}-stderr", daemon=True)
            stderr.start()
        assert process.stdout is not None
        try:
            self._read(process.stdout)
            self._flush_until_delivered()
        finally:
            self._kill()
            process.stdout.close()
            if stderr is not None:
                stderr.join(timeout=5)
            log.info("%s: command %r exited with %s", self.name, self.settings.command,
                     process.returncode)

    def _read(self, stdout: IO[bytes]) -> None:
        size = self.settings.batch_size
        for raw in stdout:
            line = raw[:-1] if raw.endswith(b"\n") else raw
            if line.endswith(b"\r"):
                line = line[:-1]
            with self._lock:
                if not self._pending:
                    self._oldest = self.clock.monotonic()
                self._pending.append(Event(line))
                full = len(self._pending) >= size
            self._has_pending.set()
            if full:
                self._flush_until_delivered()
            if self._stopping.is_set():
                return

    def _log_stderr(self, stderr: IO[bytes]) -> None:
        charset = self.settings.charset
        for raw in stderr:
            log.info("%s: stderr: %s", self.name, raw.rstrip(b"\r\n").decode(charset, "replace"))
        stderr.close()

    def _kill(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            if process is not None:
                process.wait()
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    # -- delivering ----------------------------------------------------------------------------

    def _timeout_loop(self) -> None:
        """Deliver a partial batch once its oldest line is ``batchTimeout`` old."""
        timeout = self.settings.batch_timeout / 1000
        while not self._stopping.is_set():
            self._has_pending.wait()
            if self._stopping.is_set():
                return
            with self._lock:
                due = self._oldest + timeout - self.clock.monotonic() if self._pending else None
            if due is None:
                self._has_pending.clear()
                continue
            if due > 0:
                self.clock.wait(self._stopping, due)
                continue
            if not self._flush():
                self.clock.wait(self._stopping, min(timeout, self.settings.max_backoff / 1000))

    def _flush_until_delivered(self) -> None:
        """Retry the pending batch until the channel takes it or the source stops."""
        wait, ceiling = 0.1, self.settings.max_backoff / 1000
        while not self._flush():
            if self.clock.wait(self._stopping, wait):
                return
            wait = min(wait * 2, ceiling)

    def _flush(self) -> bool:
        """Deliver the pending lines once; True when nothing is left pending."""
        with self._lock:
            events = self._pending
            if not events:
                return True
            delivered = self.deliver(events)
            self._pending = events[delivered.accepted:]
            if not delivered:
                log.debug("%s: channel refused %d line(s); keeping them: %s", self.name,
                          len(self._pending), delivered.error)
            return bool(delivered)



