"""pytest11 entry point of flume-testkit: fixtures only, none of them autouse.

Installing flume-testkit changes nothing for a project that does not ask for
these fixtures: no hooks, no autouse fixtures, no options. The real-server
fixture modules (Kafka broker, HDFS, Java Avro peer, syslog peers, gmond) are
registered too; each starts its server only when a test requests it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from flume_testkit.clock import FakeClock
from flume_testkit.drivers import LogRecorder
from flume_testkit.events import EventFactory
from flume_testkit.fakes import RecordingChannel, RecordingSink, ScriptedSource
from flume_testkit.tls import OpensslMissingError, self_signed_certificate

__all__ = [
    "event_factory",
    "fake_clock",
    "log_recorder",
    "recording_channel",
    "recording_sink",
    "scripted_source",
    "tls_certificate",
]

_SERVER_MODULES = (
    "flume_testkit.servers.kafka",
    "flume_testkit.servers.hdfs",
    "flume_testkit.servers.avro_peer",
    "flume_testkit.servers.syslog_peers",
    "flume_testkit.servers.ganglia",
    "flume_testkit.servers.postgres",
    "flume_testkit.servers.http_peer",
    "flume_testkit.servers.ircd",
    "flume_testkit.servers.activemq",
)
# Only modules present in this installation, so a trimmed or partial install still loads.
pytest_plugins = [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is not None]


@pytest.fixture
def fake_clock() -> FakeClock:
    """A fresh :class:`FakeClock`."""
    return FakeClock()


@pytest.fixture
def event_factory() -> EventFactory:
    """Events with unique ``testkit.id`` headers, and the edge cases."""
    return EventFactory()


@pytest.fixture
def recording_channel() -> Iterator[RecordingChannel]:
    """A started :class:`RecordingChannel` named ``c1``, stopped after the test."""
    channel = RecordingChannel("c1")
    channel.start()
    yield channel
    channel.stop()


@pytest.fixture
def recording_sink(recording_channel: RecordingChannel) -> Iterator[RecordingSink]:
    """A started :class:`RecordingSink` reading ``recording_channel``."""
    sink = RecordingSink("k1")
    sink.set_channel(recording_channel)
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def scripted_source() -> ScriptedSource:
    """An unstarted :class:`ScriptedSource`; wire it with a ``SourceDriver``."""
    return ScriptedSource("r1")


@pytest.fixture
def log_recorder() -> Iterator[LogRecorder]:
    """Every log record emitted during the test (a plain handler on the root logger)."""
    with LogRecorder() as recorder:
        yield recorder


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files ``(cert, key)``."""
    try:
        return self_signed_certificate(tmp_path_factory.mktemp("tls"))
    except OpensslMissingError as exc:
        pytest.skip(str(exc))
