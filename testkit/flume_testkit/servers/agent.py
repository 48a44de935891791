"""A real ``flume-ng agent`` child process with HTTP monitoring, for tools that watch agents.

``flume-ng top``, ``graph --live``, the Prometheus and Ganglia reporters are
tested against agents started exactly as users start them: the ``flume-ng``
command line, a properties file, ``-D`` monitoring properties. The process is
stopped by its own pid.
"""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flume_testkit.servers._process import ServerProcess, free_port, wait_until

__all__ = ["FlumeAgentProcess", "counted_config", "running_agent", "source_to_null",
           "trickle_config"]


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


def source_to_null(agent: str, source_type: str, port: int, *, capacity: int = 10_000,
                   transaction_capacity: int = 100, address_key: str = "bind",
                   **source_keys: str) -> str:
    """An agent whose source ``r1`` listens on 127.0.0.1:``port``, into a memory channel ``c1``
    of ``capacity`` and ``transaction_capacity``, drained by a ``null`` sink.

    Args:
        address_key: the source's key for the listening address (syslog's is ``host``).
        source_keys: more of the source's keys (``batchSize="50"``).
    """
    source = {"type": source_type, address_key: "127.0.0.1", "port": str(port),
              "channels": "c1", **source_keys}
    return "\n".join([
        f"{agent}.sources = r1", f"{agent}.channels = c1", f"{agent}.sinks = k1",
        *(f"{agent}.sources.r1.{key} = {value}" for key, value in source.items()),
        f"{agent}.channels.c1.type = memory", f"{agent}.channels.c1.capacity = {capacity}",
        f"{agent}.channels.c1.transactionCapacity = {transaction_capacity}",
        f"{agent}.sinks.k1.type = null", f"{agent}.sinks.k1.channel = c1",
        f"{agent}.sinks.k1.batchSize = {min(100, transaction_capacity)}", ""])


@contextlib.contextmanager
def running_agent(conf: str, work: Path, name: str = "a1") -> Iterator[FlumeAgentProcess]:
    """Write ``conf``, start the agent, wait until every component started; stop it after."""
    path = work / f"{name}.conf"
    path.write_text(conf)
    agent = FlumeAgentProcess(name, path, work)
    try:
        agent.start_and_wait()
        agent.wait_started()
        yield agent
    finally:
        agent.stop()


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

    def counter(self, component: str, name: str) -> int:
        """One counter, e.g. ``counter("SOURCE.r1", "EventAcceptedCount")``."""
        return int(self.metrics()[component][name])

    def wait_started(self, timeout: float = 30.0) -> None:
        """Wait until every component reports a ``StartTime`` (sources have bound their ports)."""
        def started() -> bool:
            components = self.metrics().values()
            return bool(components) and all(c.get("StartTime", "0") != "0" for c in components)

        self.wait_ready(started, timeout=timeout)

    def assert_accepted(self, count: int, *, batches: int | None = None,
                        source: str = "SOURCE.r1", timeout: float = 30.0) -> None:
        """Wait until ``source`` accepted ``count`` events; then assert exactly ``count``, no
        ``ChannelWriteFail`` and, when given, ``batches`` = ``AppendBatchAcceptedCount``."""
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: self.counter(source, "EventAcceptedCount") >= count,
                       timeout=timeout)
        got = self.metrics()[source]
        names = ["EventAcceptedCount", "ChannelWriteFail"]
        expected = [str(count), "0"]
        if batches is not None:
            names.append("AppendBatchAcceptedCount")
            expected.append(str(batches))
        assert [got.get(name) for name in names] == expected, f"{source}: {got}"
