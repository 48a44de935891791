"""The hdfs sink on file:// passes SinkContract (avro_event files read back as events)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import fastavro
import pytest
from flume_sink_hdfs import HdfsEventSink
from flume_testkit.contracts import SinkContract

from flume_sdk import Event, PluginRegistry, Sink

__all__: list[str] = []


def read_events(directory: Path) -> list[Event]:
    """Every event in the avro_event files under ``directory``, files in name order."""
    files = sorted(directory.rglob("FlumeData.*"), key=lambda p: p.name.removesuffix(".tmp"))
    events = []
    for path in files:
        with open(path, "rb") as stream:
            events += [Event(rec["body"], dict(rec["headers"])) for rec in fastavro.reader(stream)]
    return events


class TestHdfsSinkContract(SinkContract):
    batch_size_key = "hdfs.batchSize"

    @pytest.fixture
    def directory(self, tmp_path: Path) -> Path:
        return tmp_path / "out"

    @pytest.fixture
    def make_sink(self, tmp_path: Path, directory: Path,
                  serializer_registry: PluginRegistry) -> Iterator[Callable[..., Sink]]:
        def make(**overrides: str) -> Sink:
            props = {"hdfs.path": directory.as_uri(), "hdfs.fileType": "DataStream",
                     "serializer": "avro_event", "hdfs.rollCount": "0", "hdfs.rollSize": "0",
                     "hdfs.rollInterval": "0", "hdfs.stateDir": str(tmp_path / "state"),
                     **overrides}
            return HdfsEventSink.from_config("k1", props, registry=serializer_registry)
        yield make

    @pytest.fixture
    def delivered(self, directory: Path) -> Callable[[Sink], list[Event]]:
        return lambda sink: read_events(directory) if directory.is_dir() else []

    @pytest.fixture
    def break_destination(self, directory: Path) -> Callable[[Sink], None]:
        def block(sink: Sink) -> None:
            # A regular file where the directory should be stops even root.
            if directory.is_dir():
                directory.rename(directory.with_name("out.moved"))
            directory.write_bytes(b"")
        return block

    @pytest.fixture
    def heal_destination(self, directory: Path) -> Callable[[Sink], None]:
        def unblock(sink: Sink) -> None:
            directory.unlink()
            moved = directory.with_name("out.moved")
            if moved.is_dir():
                shutil.move(str(moved), str(directory))
        return unblock
