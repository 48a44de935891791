"""A real Java peer speaking Flume's Avro RPC protocol, for interop tests.

``FlumeAvroPeer.java`` (next to this package, in ``java/``) embeds Flume's
``AvroSourceProtocol`` and runs on Avro 1.8.2's ``NettyServer`` and
``NettyTransceiver`` (Netty 3), the same stack generation as Flume 1.9. The jars
come from the cached pyspark 2.4.8 sdist; the source is compiled once.

- :meth:`AvroJavaPeer.start_server` acts like Flume's AvroSource, to check an
  AvroSink: it records every event it receives and answers ``OK``, ``FAILED`` or
  after a delay.
- :meth:`AvroJavaPeer.run_client` acts like Flume's AvroSink, to check an
  AvroSource: it sends ``count`` events in ``append``/``appendBatch`` calls.

Both support Flume's ``compression-type = deflate`` (zlib first in the Netty
pipeline). The ``avro_java_peer`` fixture (session scope) builds the peer once;
load it with ``-p flume_testkit.servers.avro_peer``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from flume_testkit.servers._jars import cache_dir, pyspark_jars
from flume_testkit.servers._process import ServerProcess
from flume_testkit.servers.java import JavaBuildError, compile_java, java_tool

__all__ = [
    "AVRO_PEER_JARS",
    "FLUME_PROTOCOL_MD5",
    "AvroJavaPeer",
    "JavaAvroServer",
    "JavaClientResult",
    "ReceivedEvent",
    "avro_java_peer",
]

AVRO_PEER_JARS = (
    "avro-1.8.2.jar",
    "avro-ipc-1.8.2.jar",
    "netty-3.9.9.Final.jar",
    "jackson-core-asl-1.9.13.jar",
    "jackson-mapper-asl-1.9.13.jar",
    "slf4j-api-1.7.16.jar",
    "paranamer-2.8.jar",
)
"""Jars of the pyspark 2.4.8 sdist that the peer compiles and runs against."""

FLUME_PROTOCOL_MD5 = "86aadae2c45474c0fe93ffd0f2350a65"
"""MD5 of Flume's AvroSourceProtocol JSON as Java Avro serialises it."""

_MAIN = "FlumeAvroPeer"
_MODES = ("ok", "failed")


@attrs.frozen
class ReceivedEvent:
    """One event the Java server received: the RPC message name, headers and body."""

    op: str
    headers: dict[str, str]
    body: bytes


@attrs.frozen
class JavaClientResult:
    """Outcome of one :meth:`AvroJavaPeer.run_client` run.

    ``statuses`` holds one Flume ``Status`` symbol per call (``OK``/``FAILED``/
    ``UNKNOWN``); ``error`` is the Java exception text if a call threw;
    ``summary`` is the client's last JSON line (``calls``, ``delivered``,
    ``elapsed_ms``, ``exit``). ``exit_code`` is 0 when every call returned OK,
    1 when one returned another status, 2 on an exception.
    """

    exit_code: int
    statuses: list[str]
    error: str | None
    summary: dict[str, Any]
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class JavaAvroServer:
    """A running ``FlumeAvroPeer server`` process; stop it with :meth:`stop`."""

    def __init__(self, process: ServerProcess, port: int, stdout_path: Path) -> None:
        self._process = process
        self.port = port
        self._stdout_path = stdout_path

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def events(self) -> list[ReceivedEvent]:
        """Every event received so far, in arrival order."""
        try:
            lines = self._stdout_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        return [_parse_event(line) for line in lines if line.startswith('{"op"')]

    def is_running(self) -> bool:
        return self._process.is_running()

    def stop(self) -> None:
        """SIGTERM the server by its pid and wait; idempotent."""
        self._process.stop()

    def kill(self) -> None:
        """SIGKILL the server (a crash)."""
        self._process.kill()

    def __enter__(self) -> JavaAvroServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parse_event(line: str) -> ReceivedEvent:
    data = json.loads(line)
    return ReceivedEvent(op=data["op"], headers=dict(data["headers"]),
                         body=base64.b64decode(data["body_b64"]))


class AvroJavaPeer:
    """The built Java peer: a classpath and ways to run it as server or client.

    Use :meth:`build` rather than the constructor.
    """

    def __init__(self, classpath: list[Path], java: str, work_dir: Path) -> None:
        self.classpath = classpath
        self._java = java
        self._work_dir = work_dir
        self._servers = 0

    @classmethod
    def build(cls, work_dir: Path | None = None) -> AvroJavaPeer:
        """Fetch the jars and compile the peer (both cached); return the peer.

        Raises:
            JavaBuildError: ``java``/``javac`` is missing or the source does not compile.
        """
        java = java_tool("java")
        if java is None:
            msg = "java not found: install a JRE/JDK (apt-get install -y openjdk-17-jdk-headless)"
            raise JavaBuildError(msg)
        jars = list(pyspark_jars(AVRO_PEER_JARS).values())
        classes = compile_java(_MAIN, jars)
        work = work_dir or cache_dir() / "avro-peer-runs" / str(os.getpid())
        work.mkdir(parents=True, exist_ok=True)
        return cls([classes, *jars], java, work)

    def _argv(self, *args: str) -> list[str]:
        cp = os.pathsep.join(str(p) for p in self.classpath)
        return [self._java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", cp, _MAIN, *args]

    def protocol_md5(self) -> str:
        """The protocol MD5 as Java Avro computes it (should be :data:`FLUME_PROTOCOL_MD5`)."""
        done = subprocess.run(self._argv("md5"), capture_output=True, text=True,
                              check=True, timeout=60)
        return done.stdout.strip()

    def start_server(
        self, port: int | None = None, mode: str = "ok", deflate: bool = False,
        *, delay_ms: int = 0, timeout: float = 30.0,
    ) -> JavaAvroServer:
        """Start a Flume-AvroSource-like server on 127.0.0.1 and wait until it listens.

        Args:
            port: TCP port; None lets the server pick a free one (read back as ``.port``).
            mode: ``"ok"`` answers every call OK, ``"failed"`` answers FAILED.
            deflate: expect zlib-compressed traffic (Flume ``compression-type = deflate``).
            delay_ms: wait this long before answering each call (for timeout tests).
            timeout: seconds to wait for ``READY``.
        """
        if mode not in _MODES:
            msg = f"mode must be one of {_MODES} (got {mode!r}); use delay_ms= for a slow server"
            raise ValueError(msg)
        args = ["server", str(port or 0), mode]
        args += [f"delayMs={delay_ms}"] if delay_ms else []
        args += ["deflate"] if deflate else []
        self._servers += 1
        log = self._work_dir / f"server-{self._servers}.log"
        log.unlink(missing_ok=True)
        process = ServerProcess("Java Avro server", self._argv(*args), log)
        process.start()
        process.wait_ready(lambda: _ready_port(log) is not None, timeout=timeout)
        ready = _ready_port(log)
        assert ready is not None
        return JavaAvroServer(process, ready, log)

    def run_client(
        self, host: str, port: int, count: int, batch: int, deflate: bool = False,
        *, body_size: int = 0, timeout: float = 60.0,
    ) -> JavaClientResult:
        """Send ``count`` events like Flume's AvroSink and return what happened.

        Bodies are ``event-<seq>`` padded with ``x`` to ``body_size`` bytes; each
        event has the header ``seq``. ``batch == 1`` uses ``append``, otherwise
        ``appendBatch``. ``timeout`` bounds both each call and the whole run.
        """
        args = ["client", host, str(port), str(count), str(batch)]
        args += ["deflate"] if deflate else []
        args += [f"bodySize={body_size}", f"timeoutMs={int(timeout * 1000)}"]
        done = subprocess.run(self._argv(*args), capture_output=True, text=True,
                              check=False, timeout=timeout + 30)
        return _client_result(done.returncode, done.stdout)


def _ready_port(log: Path) -> int | None:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("READY "):
            return int(line.split()[1])
    return None


def _client_result(exit_code: int, stdout: str) -> JavaClientResult:
    statuses: list[str] = []
    error: str | None = None
    summary: dict[str, Any] = {}
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        data = json.loads(line)
        if data.get("summary"):
            summary = data
        elif "status" in data:
            statuses.append(data["status"])
        elif "error" in data:
            error = data["error"]
    return JavaClientResult(exit_code, statuses, error, summary, stdout)


@pytest.fixture(scope="session")
def avro_java_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AvroJavaPeer]:
    """The Java Avro peer, built once per session; skips when Java is unavailable."""
    if java_tool("java") is None or java_tool("javac") is None:
        pytest.skip("Java Avro peer needs java and javac "
                    "(apt-get install -y openjdk-17-jdk-headless)")
    yield AvroJavaPeer.build(tmp_path_factory.mktemp("avro-java-peer"))

