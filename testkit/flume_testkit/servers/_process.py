"""Start, probe and stop a real server process that a test owns.

Every real server the testkit runs (Kafka-protocol broker, HDFS, a Java Avro
peer, rsyslog) is a child process started by the test, probed for readiness
with a bounded loop, and stopped by its own pid. Nothing here ever signals a
process it did not start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from flume_testkit.waiting import wait_until

__all__ = ["ServerProcess", "ServerStartError", "free_port", "wait_until"]


class ServerStartError(RuntimeError):
    """A real server did not become ready; the message carries its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One child process with its log file; stopped by pid, never by name.

    Args:
        name: what the server is, for messages ("tansu broker").
        argv: the command line.
        log_path: where stdout and stderr go.
        env: extra environment variables.
        cwd: working directory.
    """

    #: the signal :meth:`stop` sends first (a server may want a faster shutdown than SIGTERM's)
    stop_signal: signal.Signals = signal.SIGTERM

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._env = {**os.environ, **(env or {})}
        self._cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self._env, cwd=self._cwd, start_new_session=True,
            )
        finally:
            log.close()

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, probe: Callable[[], bool], *, timeout: float) -> None:
        """Poll ``probe`` until true; fail fast if the process exits meanwhile."""

        def ready() -> bool:
            if not self.is_running():
                msg = f"{self.name} exited early (rc={self._proc and self._proc.returncode})"
                raise ServerStartError(f"{msg}\n{self.log_tail()}")
            return probe()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except ServerStartError:
                raise
            except Exception:
                pass
            time.sleep(0.1)
        self.stop()
        msg = f"{self.name} not ready within {timeout:.0f}s\n{self.log_tail()}"
        raise ServerStartError(msg)

    def answers(self) -> bool:
        """Whether the server answers its clients; override to use :meth:`start_and_wait`."""
        raise NotImplementedError

    def start_and_wait(self, timeout: float = 30.0) -> None:
        """Start, then poll :meth:`answers` for at most ``timeout`` seconds."""
        self.start()
        self.wait_ready(self.answers, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL this process (a crash, for fault-injection tests)."""
        if self.is_running():
            assert self._proc is not None
            os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        """``stop_signal`` (SIGTERM) by pid, wait, then SIGKILL if it will not go. Idempotent."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
