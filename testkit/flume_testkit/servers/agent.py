"""A real ``flume-ng agent`` child process with HTTP monitoring, for tools that watch agents.

``flume-ng top``, ``graph --live``, the Prometheus and Ganglia reporters are
tested against agents started exactly as users start them: the ``flume-ng``
command line, a properties file, ``-D`` monitoring properties. The process is
stopped by its own pid.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flume_testkit.servers._process import ServerProcess, free_port

__all__ = ["FlumeAgentProcess", "counted_config", "trickle_config"]


def counted_config(agent: str, *, total: int = 250) -> str:
    """An agent that moves exactly ``total`` events (``seq`` -> memory -> ``null``) and then
    idles, so every counter settles at a known value."""
    return "\n".join([
        f"{agent}.sources = r1", f"{agent}.channels = c1", f"{agent}.sinks = k1",
        f"{agent}.sources.r1.type = seq", f"{agent}.sources.r1.totalEvents = {total}",
        f"{agent}.sources.r1.batchSize = 50", f"{agent}.sources.r1.channels = c1",
        f"{agent}.channels.c1.type = memory", f"{agent}.channels.c1.capacity = 1000",
        f"{agent}.channels.c1.transactionCapacity = 100",
        f"{agent}.sinks.k1.type = null", f"{agent}.sinks.k1.channel = c1", ""])


def trickle_config(agent: str, *, sleep: float = 0.02, capacity: int = 1000) -> str:
    """An agent that keeps events flowing: an ``exec`` source echoing a line every ``sleep``
    seconds, a memory channel of ``capacity`` and a ``null`` sink (for rates that are not zero)."""
    return "\n".join([
        f"{agent}.sources = r1", f"{agent}.channels = c1", f"{agent}.sinks = k1",
        f"{agent}.sources.r1.type = exec", f"{agent}.sources.r1.shell = /bin/sh -c",
        f"{agent}.sources.r1.command = while :; do echo event; sleep {sleep}; done",
        f"{agent}.sources.r1.batchSize = 5", f"{agent}.sources.r1.batchTimeout = 100",
        f"{agent}.sources.r1.channels = c1",
        f"{agent}.channels.c1.type = memory", f"{agent}.channels.c1.capacity = {capacity}",
        f"{agent}.sinks.k1.type = null", f"{agent}.sinks.k1.channel = c1", ""])


class FlumeAgentProcess(ServerProcess):
    """``flume-ng agent -n NAME -f CONF`` with ``-Dflume.monitoring.*`` on a free port.

    Args:
        name: the agent name (``-n``).
        conf: the properties file.
        work: where the log goes.
        monitoring: ``http`` or ``prometheus`` (an HTTP server on :attr:`port`), or ``ganglia``
            (no HTTP server: use :meth:`start`, not :meth:`start_and_wait`).
        defines: more ``-D`` properties (``KEY=VALUE``).
        args: more command-line arguments (``--log-format json``, ``--drain-timeout 0``).
    """

    def __init__(self, name: str, conf: Path, work: Path, *, monitoring: str = "http",
                 defines: Sequence[str] = (), args: Sequence[str] = ()) -> None:
        self.agent_name = name
        self.port = free_port()
        argv = [sys.executable, "-m", "flume_sdk.cli", "agent", "-n", name, "-f", str(conf),
                "--no-reload-conf", f"-Dflume.monitoring.type={monitoring}",
                f"-Dflume.monitoring.port={self.port}", "-Dflume.monitoring.host=127.0.0.1",
                *(f"-D{d}" for d in defines), *args]
        super().__init__(f"flume-ng agent {name}", argv, work / f"{name}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_and_wait(self, timeout: float = 30.0) -> None:
        """Start and wait until the monitoring server answers."""
        self.start()
        self.wait_ready(lambda: bool(self.metrics()), timeout=timeout)

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            body: bytes = response.read()
        return body

    def metrics(self) -> dict[str, dict[str, str]]:
        """Flume's JSON document (``/metrics/json`` is served in every monitoring mode)."""
        document: dict[str, dict[str, str]] = json.loads(self.get("/metrics/json"))
        return document

    def health(self) -> tuple[int, dict[str, Any]]:
        """``/health``: the HTTP status (200 or 503) and the document."""
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=5) as response:
                return int(response.status), json.load(response)
        except urllib.error.HTTPError as err:
            return int(err.code), json.load(err)

    def log_text(self) -> str:
        """Everything the agent wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
