"""Real ``flume-ng agent`` processes for acceptance tests, with HTTP monitoring on 127.0.0.1.

::

    agent = AgentProcess("a1", tmp_path, ["a1.sources = r1", ...], extra_args=["--log-level", "DEBUG"])
    agent.start()                       # waits until /metrics answers
    status, doc = agent.health()        # (200, {"status": "ok", ...})
    agent.stop()                        # SIGTERM by pid, SIGKILL after the timeout
    print(agent.log_text())             # everything it wrote to stdout and stderr
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flume_testkit.servers._process import free_port
from flume_testkit.waiting import wait_until

__all__ = ["AgentProcess"]


class AgentProcess:
    """One ``flume-ng agent`` process started from ``lines`` (a properties file), stopped by pid.

    Args:
        name: the agent name (``-n``), also the file names in ``work``.
        work: a directory for the properties file and the log.
        lines: the properties file's lines.
        extra_args: more command-line arguments (``-D...``, ``--log-format json``).
    """

    def __init__(self, name: str, work: Path, lines: Sequence[str],
                 extra_args: Sequence[str] = ()) -> None:
        self.name = name
        self.conf = work / f"{name}.properties"
        self.conf.write_text("\n".join(lines) + "\n")
        self.log = work / f"{name}.log"
        self.port = free_port()
        self.extra_args = list(extra_args)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", "flume_sdk.cli", "agent", "-n", self.name, "-f",
                str(self.conf), "--no-reload-conf", "-Dflume.monitoring.type=http",
                f"-Dflume.monitoring.port={self.port}", "-Dflume.monitoring.host=127.0.0.1",
                *self.extra_args]

    def start(self, timeout: float = 30) -> None:
        """Start and wait until ``/metrics`` answers."""
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        wait_until(lambda: bool(self.metrics() is not None), timeout=timeout,
                   what=f"agent {self.name} monitoring")

    def _get(self, path: str) -> tuple[int, Any]:
        if self._proc is None or self._proc.poll() is not None:
            msg = f"agent {self.name} is not running; log tail:\n{self.log_tail()}"
            raise RuntimeError(msg)
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status), json.load(response)
        except urllib.error.HTTPError as err:
            return int(err.code), json.load(err)

    def metrics(self) -> dict[str, dict[str, str]]:
        """Flume's ``/metrics`` document; raises while the agent is not answering."""
        document: dict[str, dict[str, str]] = self._get("/metrics")[1]
        return document

    def health(self) -> tuple[int, dict[str, Any]]:
        """``/health``: the HTTP status and the document."""
        status, document = self._get("/health")
        return status, document

    def counter(self, component: str, name: str) -> int:
        """One counter, e.g. ``counter("SINK.k1", "EventWriteFail")``."""
        return int(self.metrics()[component][name])

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not end within ``timeout``. Returns the exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])
