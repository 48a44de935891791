"""file_roll sink: batches flushed before commit, rolling, naming, serializers, write failures."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fastavro
import pytest
from flume_testkit.fakes import ChannelFailure, RecordingChannel

from flume_sdk import (
    Channel,
    ChannelException,
    ConfigurationError,
    Event,
    EventDeliveryException,
    Location,
    PluginInfo,
    PluginKind,
    PluginRegistry,
    Status,
)
from flume_sdk.components.file_roll_sink import FileRollSink
from flume_sdk.components.memory_channel import MemoryChannel

_SERIALIZERS = "flume_sdk.components.serializers"
REGISTRY = PluginRegistry([
    PluginInfo(PluginKind.SERIALIZER, name, f"{_SERIALIZERS}:{cls}", "flume-sdk", "test")
    for name, cls in [("text", "TextSerializer"), ("header_and_text", "HeaderAndTextSerializer"),
                      ("avro_event", "AvroEventSerializer")]
])


class StepClock:
    """A clock that moves only when told (the testkit's FakeClock is not merged yet)."""

    def __init__(self, wall: float = 1_700_000_000.0) -> None:
        self.now = 0.0
        self.wall = wall

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall + self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)

    def wait(self, event: threading.Event, timeout: float) -> bool:
        self.sleep(timeout)
        return event.is_set()

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _channel(events: int = 0, start: int = 0) -> MemoryChannel:
    channel = MemoryChannel.from_config("c1", {"capacity": "10000", "transactionCapacity": "1000",
                                               "keep-alive": "0"})
    channel.start()
    _fill(channel, events, start)
    return channel


def _fill(channel: MemoryChannel, count: int, start: int = 0) -> None:
    if count:
        with channel.transaction() as tx:
            tx.put_batch([Event(b"event-%d" % i, {"n": str(i)})
                          for i in range(start, start + count)])


_STARTED: list[FileRollSink] = []


@pytest.fixture(autouse=True)
def _stop_started_sinks() -> Iterator[None]:
    yield
    while _STARTED:
        _STARTED.pop().stop()


def _sink(directory: Path, channel: Channel, clock: StepClock | None = None,
          **props: str) -> FileRollSink:
    properties = {"sink.directory": str(directory), **props}
    sink = FileRollSink.from_config("k1", properties, clock=clock or StepClock(),
                                    component="a1.sinks.k1", registry=REGISTRY)
    sink.set_channel(channel)
    sink.start()
    _STARTED.append(sink)
    return sink


def _lines(directory: Path) -> list[bytes]:
    return [line for path in sorted(directory.iterdir()) for line in path.read_bytes().splitlines()]


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- writing and committing --------------------------------------------------------------------


def test_process_writes_the_batch_and_commits_it(tmp_path: Path) -> None:
    channel = _channel(3)
    sink = _sink(tmp_path, channel)
    assert sink.process() is Status.READY
    assert channel.size == 0
    assert _lines(tmp_path) == [b"event-0", b"event-1", b"event-2"]


def test_bytes_are_on_disk_for_other_readers_once_process_returns(tmp_path: Path) -> None:
    channel = _channel(2)
    sink = _sink(tmp_path, channel)
    sink.process()
    assert sink.current_path is not None
    assert sink.current_path.read_bytes() == b"event-0\nevent-1\n"


def test_empty_channel_backs_off_without_creating_a_file(tmp_path: Path) -> None:
    sink = _sink(tmp_path, _channel())
    assert sink.process() is Status.BACKOFF
    assert _files(tmp_path) == []


def test_sink_batch_size_limits_events_per_transaction(tmp_path: Path) -> None:
    channel = _channel(5)
    sink = _sink(tmp_path, channel, **{"sink.batchSize": "2"})
    sink.process()
    assert channel.size == 3


def test_batch_size_without_prefix_is_accepted_as_an_alias(tmp_path: Path) -> None:
    channel = _channel(5)
    sink = _sink(tmp_path, channel, batchSize="4")
    sink.process()
    assert channel.size == 1


def test_stop_closes_the_file_and_is_idempotent(tmp_path: Path) -> None:
    channel = _channel(1)
    sink = _sink(tmp_path, channel)
    sink.process()
    sink.stop()
    sink.stop()
    assert sink.current_path is None
    assert sink.counter.get("ConnectionClosedCount") == 1


def test_missing_directory_is_created_at_start(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    _sink(target, _channel())
    assert target.is_dir()


# -- rolling -------------------------------------------------------------------------------------


def test_roll_interval_starts_a_new_file_for_the_next_batch(tmp_path: Path) -> None:
    clock, channel = StepClock(), _channel(2)
    sink = _sink(tmp_path, channel, clock, **{"sink.rollInterval": "30", "sink.batchSize": "1"})
    sink.process()
    clock.advance(30)
    sink.process()
    assert [p.read_bytes() for p in sorted(tmp_path.iterdir())] == [b"event-0\n", b"event-1\n"]


def test_batches_within_the_roll_interval_share_a_file(tmp_path: Path) -> None:
    clock, channel = StepClock(), _channel(2)
    sink = _sink(tmp_path, channel, clock, **{"sink.rollInterval": "30", "sink.batchSize": "1"})
    sink.process()
    clock.advance(29)
    sink.process()
    assert len(_files(tmp_path)) == 1


def test_roll_interval_zero_never_rolls(tmp_path: Path) -> None:
    clock, channel = StepClock(), _channel(3)
    sink = _sink(tmp_path, channel, clock, **{"sink.rollInterval": "0", "sink.batchSize": "1"})
    for _ in range(3):
        sink.process()
        clock.advance(10_000)
    assert len(_files(tmp_path)) == 1


def test_idle_roll_closes_the_file_without_leaving_an_empty_one(tmp_path: Path) -> None:
    clock, channel = StepClock(), _channel(1)
    sink = _sink(tmp_path, channel, clock, **{"sink.rollInterval": "5"})
    sink.process()
    clock.advance(5)
    assert sink.process() is Status.BACKOFF
    assert sink.current_path is None
    assert len(_files(tmp_path)) == 1


def test_rolling_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    clock, channel = StepClock(), _channel(100)
    sink = _sink(tmp_path, channel, clock, **{"sink.rollInterval": "1", "sink.batchSize": "7"})
    while sink.process() is Status.READY:
        clock.advance(0.5)
    sink.stop()
    assert _lines(tmp_path) == [b"event-%d" % i for i in range(100)]
    assert len(_files(tmp_path)) > 5


# -- naming --------------------------------------------------------------------------------------


def test_default_names_are_prefix_start_millis_dash_counter_dot_extension(tmp_path: Path) -> None:
    clock, channel = StepClock(wall=1_700_000_000.5), _channel(2)
    sink = _sink(tmp_path, channel, clock, **{
        "sink.rollInterval": "1", "sink.batchSize": "1",
        "sink.pathManager.prefix": "app-", "sink.pathManager.extension": "log"})
    sink.process()
    clock.advance(1)
    sink.process()
    assert _files(tmp_path) == ["app-1700000000500-1.log", "app-1700000000500-2.log"]


def test_rolltime_names_carry_the_local_roll_second(tmp_path: Path) -> None:
    clock, channel = StepClock(), _channel(1)
    sink = _sink(tmp_path, channel, clock, **{"sink.pathManager": "ROLLTIME"})
    sink.process()
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(clock.time()))
    assert _files(tmp_path) == [f"{stamp}-1"]


def test_existing_files_are_skipped_never_overwritten(tmp_path: Path) -> None:
    clock, channel = StepClock(wall=1_700_000_000.0), _channel(1)
    (tmp_path / "1700000000000-1").write_bytes(b"keep me\n")
    _sink(tmp_path, channel, clock).process()
    assert (tmp_path / "1700000000000-1").read_bytes() == b"keep me\n"
    assert (tmp_path / "1700000000000-2").read_bytes() == b"event-0\n"


def test_unknown_path_manager_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"sink\.pathManager: must be one of"):
        _sink(tmp_path, _channel(), **{"sink.pathManager": "HOURLY"})


# -- serializers ---------------------------------------------------------------------------------


def test_serializer_keys_are_passed_to_the_serializer(tmp_path: Path) -> None:
    channel = _channel(2)
    sink = _sink(tmp_path, channel, **{"sink.serializer.appendNewline": "false"})
    sink.process()
    assert _lines(tmp_path) == [b"event-0event-1"]


def test_header_and_text_serializer_is_selected_by_alias_in_any_case(tmp_path: Path) -> None:
    channel = _channel(1)
    _sink(tmp_path, channel, **{"sink.serializer": "HEADER_AND_TEXT"}).process()
    assert _lines(tmp_path) == [b"{n=0} event-0"]


def test_avro_event_files_are_valid_containers_across_batches(tmp_path: Path) -> None:
    channel = _channel(10)
    sink = _sink(tmp_path, channel, **{"sink.serializer": "avro_event", "sink.batchSize": "3"})
    while sink.process() is Status.READY:
        pass
    sink.stop()
    [path] = tmp_path.iterdir()
    with path.open("rb") as handle:
        bodies = [r["body"] for r in fastavro.reader(handle)]  # type: ignore[index]
    assert bodies == [b"event-%d" % i for i in range(10)]


def test_unknown_serializer_type_is_a_configuration_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"a1\.sinks\.k1\.sink\.serializer: no serializer"):
        _sink(tmp_path, _channel(), **{"sink.serializer": "txt"})


def test_unknown_serializer_key_is_a_configuration_error_naming_the_full_key(
        tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError,
                       match=r"a1\.sinks\.k1\.sink\.serializer\.appendNewlin: unknown key"):
        _sink(tmp_path, _channel(), **{"sink.serializer.appendNewlin": "false"})


def test_a_bad_serializer_key_from_a_file_names_its_line(tmp_path: Path) -> None:
    where = Location("flume.conf", 7)
    with pytest.raises(ConfigurationError, match=r"flume\.conf:7: a1\.sinks\.k1\.sink\.serializer"):
        FileRollSink.from_config(
            "k1", {"sink.directory": str(tmp_path), "sink.serializer.appendNewlin": "false"},
            component="a1.sinks.k1", locations={"sink.serializer.appendNewlin": where},
            registry=REGISTRY)


def test_missing_directory_key_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"sink\.directory: is required"):
        FileRollSink.from_config("k1", {}, registry=REGISTRY)


def test_unknown_sink_key_is_a_configuration_error_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"did you mean 'sink\.rollInterval'"):
        _sink(tmp_path, _channel(), **{"sink.rollinterval": "5"})


# -- failures ------------------------------------------------------------------------------------


def test_unwritable_directory_raises_naming_sink_and_path_and_keeps_events(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    channel = _channel(3)
    sink = _sink(blocker / "out", channel)
    with pytest.raises(EventDeliveryException, match=r"file_roll sink 'k1'.*a-file/out"):
        sink.process()
    assert channel.size == 3


@contextmanager
def _file_size_limit(nbytes: int) -> Iterator[None]:
    """Make writes past ``nbytes`` fail with EFBIG, as a full disk fails them with ENOSPC."""
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_failed_write_leaves_no_part_of_the_failed_batch_in_the_file(tmp_path: Path) -> None:
    channel = _channel(2)
    sink = _sink(tmp_path, channel, **{"sink.batchSize": "2", "sink.rollInterval": "0"})
    sink.process()
    with channel.transaction() as tx:
        tx.put_batch([Event(b"short"), Event(b"x" * 4000)])
    with _file_size_limit(100), pytest.raises(EventDeliveryException, match="could not write"):
        sink.process()
    assert _lines(tmp_path) == [b"event-0", b"event-1"]
    assert channel.size == 2


def test_events_retried_after_a_write_failure_land_exactly_once(tmp_path: Path) -> None:
    channel = _channel(30)
    sink = _sink(tmp_path, channel, **{"sink.batchSize": "10", "sink.rollInterval": "0"})
    sink.process()
    written = sink.current_path.stat().st_size  # type: ignore[union-attr]
    with _file_size_limit(written + 25), pytest.raises(EventDeliveryException):
        sink.process()
    assert channel.size == 20
    while sink.process() is Status.READY:
        pass
    sink.stop()
    assert _lines(tmp_path) == [b"event-%d" % i for i in range(30)]
    assert sink.counter.get("ConnectionFailedCount") == 1


def test_batch_whose_take_commit_failed_is_cut_back_and_lands_exactly_once(tmp_path: Path) -> None:
    channel = RecordingChannel("c1")
    channel.preload([Event(b"event-%d" % i) for i in range(30)])
    channel.start()
    sink = _sink(tmp_path, channel, **{"sink.batchSize": "10", "sink.rollInterval": "0"})
    assert sink.process() is Status.READY
    channel.script_failure(ChannelFailure.FAIL_ON_COMMIT, times=3)
    for _ in range(3):  # the disk under the channel is full: each take commit fails
        with pytest.raises(ChannelException, match="scripted failure on commit"):
            sink.process()
    while sink.process() is Status.READY:
        pass
    sink.stop()
    assert _lines(tmp_path) == [b"event-%d" % i for i in range(30)]


def test_avro_file_stays_a_valid_container_after_a_failed_batch(tmp_path: Path) -> None:
    channel = _channel(20)
    sink = _sink(tmp_path, channel, **{"sink.serializer": "avro_event", "sink.batchSize": "10"})
    sink.process()
    path = sink.current_path
    assert path is not None
    with _file_size_limit(path.stat().st_size + 30), pytest.raises(EventDeliveryException):
        sink.process()
    with path.open("rb") as handle:
        bodies = [r["body"] for r in fastavro.reader(handle)]  # type: ignore[index]
    assert bodies == [b"event-%d" % i for i in range(10)]
    assert channel.size == 10


def test_file_that_fails_before_any_commit_is_removed(tmp_path: Path) -> None:
    channel = _channel(5)
    sink = _sink(tmp_path, channel)
    with _file_size_limit(0), pytest.raises(EventDeliveryException):
        sink.process()
    assert _files(tmp_path) == []
    assert channel.size == 5


_CRASH_SCRIPT = """
import sys
from flume_sdk import Event, PluginInfo, PluginKind, PluginRegistry
from flume_sdk.components.file_roll_sink import FileRollSink
from flume_sdk.components.memory_channel import MemoryChannel
registry = PluginRegistry([PluginInfo(PluginKind.SERIALIZER, "text",
    "flume_sdk.components.serializers:TextSerializer", "flume-sdk", "test")])
channel = MemoryChannel.from_config("c1", {"capacity": "1000", "transactionCapacity": "100"})
channel.start()
sink = FileRollSink.from_config("k1", {"sink.directory": sys.argv[1], "sink.batchSize": "50",
                                       "sink.rollInterval": "0"}, registry=registry)
sink.set_channel(channel)
sink.start()
n = 0
while True:
    with channel.transaction() as tx:
        tx.put_batch([Event(b"line-%d" % i) for i in range(n, n + 50)])
    n += 50
    sink.process()
    print(n, flush=True)
"""


def test_kill_9_keeps_every_committed_event_whole_and_in_order(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _CRASH_SCRIPT, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    committed = 0
    deadline = time.monotonic() + 30
    while committed < 5000 and time.monotonic() < deadline:
        committed = int(proc.stdout.readline() or 0) or committed
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    lines = _lines(tmp_path)
    assert committed >= 5000
    assert lines[:committed] == [b"line-%d" % i for i in range(committed)]
    assert lines == [b"line-%d" % i for i in range(len(lines))]


@pytest.mark.parametrize(
    "type_name", ["file_roll", "FILE_ROLL", "org.apache.flume.sink.RollingFileSink"])
def test_alias_and_flume_class_name_load_the_sink(type_name: str) -> None:
    registry = PluginRegistry()
    names = {i.type_name for i in registry.available(PluginKind.SINK)}
    if "file_roll" not in names:
        pytest.skip("the kernel's file_roll entry points are not installed yet")
    assert registry.load(PluginKind.SINK, type_name) is FileRollSink
