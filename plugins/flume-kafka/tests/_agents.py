"""Flume agents as child processes (``flume_sdk.cli agent``) with HTTP monitoring, for tests
that need the real runners (backoff, error backoff) around the Kafka components."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from flume_testkit import wait_until
from flume_testkit.servers._process import free_port

__all__ = ["AgentProcess", "output_lines"]


class AgentProcess:
    """One ``flume-ng agent`` process started from ``lines`` (a properties file), stopped by pid."""

    def __init__(self, name: str, work: Path, lines: Sequence[str]) -> None:
        self.name = name
        self.conf = work / f"{name}.properties"
        self.conf.write_text("\n".join(lines) + "\n")
        self.log = work / f"{name}.log"
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "flume_sdk.cli", "agent", "-n", self.name, "-f",
                str(self.conf), "--no-reload-conf", "-Dflume.monitoring.type=http",
                f"-Dflume.monitoring.port={self.port}", "-Dflume.monitoring.host=127.0.0.1"]
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        wait_until(lambda: bool(self.metrics()), timeout=30, what=f"agent {self.name} monitoring")

    def metrics(self) -> dict[str, dict[str, str]]:
        """Flume's ``/metrics`` document; raises while the agent is not answering."""
        if self._proc is None or self._proc.poll() is not None:
            msg = f"agent {self.name} is not running; log tail:\n{self.log_tail()}"
            raise RuntimeError(msg)
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            document: dict[str, dict[str, str]] = json.load(response)
        return document

    def counter(self, component: str, name: str) -> int:
        """One counter, e.g. ``counter("SINK.k1", "EventWriteFail")``."""
        return int(self.metrics()[component][name])

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM and wait; SIGKILL if it does not end within ``timeout``."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def output_lines(directory: Path) -> list[str]:
    """Every line written by a ``file_roll`` sink into ``directory`` (all its files)."""
    found: list[str] = []
    for name in sorted(os.listdir(directory)):
        found.extend((directory / name).read_text().splitlines())
    return found
