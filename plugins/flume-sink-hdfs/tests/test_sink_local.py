"""The hdfs sink on file://: bucketing, rolling, naming, formats, failures and config errors."""

from __future__ import annotations

import bz2
import gzip
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flume_sink_hdfs import HdfsEventSink
from flume_testkit import ChannelFailure, RecordingChannel, wait_until
from flume_testkit.clock import FakeClock

from flume_sdk import (
    ChannelException,
    ConfigurationError,
    Event,
    EventDeliveryException,
    PluginKind,
    SinkRunner,
    Status,
    load_plugin,
)
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.sink_processors import DefaultSinkProcessor

__all__: list[str] = []

MakeChannel = Callable[[list[Event]], MemoryChannel]


def _events(count: int, **headers: str) -> list[Event]:
    return [Event(b"event-%03d" % i, dict(headers)) for i in range(count)]


def _run(sink: HdfsEventSink, channel: MemoryChannel, limit: int = 100) -> None:
    sink.set_channel(channel)
    for _ in range(limit):
        if sink.process() is Status.BACKOFF:
            return


def _drain(channel: MemoryChannel) -> list[Event]:
    with channel.transaction() as tx:
        return tx.take_batch(10_000)


def _files(root: Path) -> list[Path]:
    return sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.name)


def _text(paths: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths)


def test_roll_count_splits_events_into_files_of_that_many(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(**{"hdfs.rollCount": "10", "hdfs.batchSize": "7"})
    _run(sink, make_channel(_events(35)))
    sink.stop()

    files = _files(tmp_path / "out")
    assert [len(p.read_bytes().splitlines()) for p in files] == [10, 10, 10, 5]
    assert _text(files) == b"".join(b"event-%03d\n" % i for i in range(35))


def test_roll_size_closes_a_file_once_its_bodies_reach_the_size(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(**{"hdfs.rollSize": "50"})  # bodies are 9 bytes: 6 per file
    _run(sink, make_channel(_events(20)))
    sink.stop()

    assert [len(p.read_bytes().splitlines()) for p in _files(tmp_path / "out")] == [6, 6, 6, 2]


def test_open_file_has_in_use_name_and_is_renamed_at_stop(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(clock=FakeClock(start=1_700_000_000.0),
                           **{"hdfs.inUsePrefix": "_", "hdfs.filePrefix": "app"})
    _run(sink, make_channel(_events(3)))
    assert [p.name for p in _files(tmp_path / "out")] == ["_app.1700000000001.tmp"]

    sink.stop()

    assert [p.name for p in _files(tmp_path / "out")] == ["app.1700000000001"]


def test_empty_in_use_suffix_writes_under_the_final_name(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(clock=FakeClock(start=1_700_000_000.0),
                           **{"hdfs.emptyInUseSuffix": "true", "hdfs.fileSuffix": ".log"})
    _run(sink, make_channel(_events(3)))

    assert [p.name for p in _files(tmp_path / "out")] == ["FlumeData.1700000000001.log"]


def test_roll_interval_rolls_on_the_clock_at_the_next_process(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    clock = FakeClock()
    sink = make_local_sink(clock=clock, **{"hdfs.rollInterval": "30"})
    channel = make_channel(_events(2))
    _run(sink, channel)
    clock.advance(29)
    sink.process()
    assert len(sink.open_files) == 1

    clock.advance(1)
    sink.process()

    assert sink.open_files == []
    assert not any(p.name.endswith(".tmp") for p in _files(tmp_path / "out"))


def test_idle_timeout_closes_a_file_without_writes(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    clock = FakeClock()
    sink = make_local_sink(clock=clock, **{"hdfs.idleTimeout": "5"})
    _run(sink, make_channel(_events(2)))
    clock.advance(5)

    sink.process()

    assert sink.open_files == []
    assert not any(p.name.endswith(".tmp") for p in _files(tmp_path / "out"))


@pytest.mark.parametrize(("key", "seconds"), [("hdfs.rollInterval", 30), ("hdfs.idleTimeout", 12)])
def test_sink_runner_rolls_on_time_while_the_channel_stays_empty(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
    key: str, seconds: int,
) -> None:
    clock = FakeClock()
    sink = make_local_sink(clock=clock, start=False, **{key: str(seconds)})
    sink.set_channel(make_channel(_events(2)))
    closed_at: list[float] = []
    finish = sink._finish

    def recording_finish(*args: Any, **kwargs: Any) -> bool:
        closed_at.append(clock.monotonic())
        return finish(*args, **kwargs)

    sink._finish = recording_finish  # type: ignore[method-assign]
    runner = SinkRunner("k1", DefaultSinkProcessor([sink], clock=clock), clock)
    opened_at = clock.monotonic()
    runner.start()
    try:
        wait_until(lambda: bool(closed_at), timeout=30, what="the file rolled by the timer")
    finally:
        runner.stop()

    # Empty polls back off at most 5 s (the runner's max backoff), so the roll is that late.
    assert opened_at + seconds <= closed_at[0] <= opened_at + seconds + 5
    assert [p.name.endswith(".tmp") for p in _files(tmp_path / "out")] == [False]
    assert _text(_files(tmp_path / "out")) == b"event-000\nevent-001\n"


def test_header_and_time_escapes_pick_the_bucket_directory(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(**{"hdfs.path": f"file://{tmp_path}/out/%{{app}}/%Y-%m-%d/%H",
                              "hdfs.timeZone": "UTC"})
    events = [Event(b"a", {"app": "web", "timestamp": "1700000000000"}),
              Event(b"b", {"app": "db", "timestamp": "1700003600000"}),
              Event(b"c", {"app": "web", "timestamp": "1700000000001"})]
    _run(sink, make_channel(events))
    sink.stop()

    dirs = {str(p.parent.relative_to(tmp_path / "out")): p.read_bytes()
            for p in _files(tmp_path / "out")}
    assert dirs == {"web/2023-11-14/22": b"a\nc\n", "db/2023-11-14/23": b"b\n"}


def test_missing_timestamp_fails_the_batch_and_keeps_the_events(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel,
) -> None:
    sink = make_local_sink(**{"hdfs.filePrefix": "%Y"})
    channel = make_channel(_events(3))
    sink.set_channel(channel)

    with pytest.raises(EventDeliveryException, match="timestamp"):
        sink.process()

    assert len(_drain(channel)) == 3


def test_failed_bucket_cuts_back_the_other_buckets_of_the_batch(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(**{"hdfs.path": f"file://{tmp_path}/out/%{{app}}"})
    channel = make_channel([Event(b"a1", {"app": "a"})])
    _run(sink, channel)  # bucket a has a file now
    (tmp_path / "out" / "b").write_bytes(b"")  # bucket b cannot be created
    channel_events = [Event(b"a2", {"app": "a"}), Event(b"b1", {"app": "b"})]
    with channel.transaction() as tx:
        tx.put_batch(channel_events)

    with pytest.raises(EventDeliveryException):
        sink.process()
    assert _text(_files(tmp_path / "out" / "a")) == b"a1\n"

    (tmp_path / "out" / "b").unlink()
    _run(sink, channel)
    sink.stop()
    assert _text(_files(tmp_path / "out" / "a")) == b"a1\na2\n"
    assert _text(_files(tmp_path / "out" / "b")) == b"b1\n"


def test_max_open_files_closes_the_least_recently_used_bucket(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel,
) -> None:
    sink = make_local_sink(**{"hdfs.maxOpenFiles": "1", "hdfs.filePrefix": "%{app}"})
    _run(sink, make_channel([Event(b"x", {"app": "one"}), Event(b"y", {"app": "two"})]))

    assert [Path(p).name.split(".")[0] for p in sink.open_files] == ["two"]


def test_compressed_stream_gzip_holds_every_batch_and_ends_in_gz(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(**{"hdfs.fileType": "CompressedStream", "hdfs.codeC": "gzip",
                              "hdfs.batchSize": "4"})
    _run(sink, make_channel(_events(10)))
    sink.stop()

    [path] = _files(tmp_path / "out")
    assert path.name.endswith(".gz")
    assert gzip.decompress(path.read_bytes()) == b"".join(b"event-%03d\n" % i for i in range(10))


def test_compressed_stream_bzip2_is_readable(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(**{"hdfs.fileType": "CompressedStream", "hdfs.codeC": "bzip2"})
    _run(sink, make_channel(_events(5)))
    sink.stop()

    [path] = _files(tmp_path / "out")
    assert path.name.endswith(".bz2")
    assert bz2.decompress(path.read_bytes()).count(b"\n") == 5


def test_header_and_text_serializer_writes_headers(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(serializer="header_and_text")
    _run(sink, make_channel([Event(b"body", {"k": "v"})]))
    sink.stop()

    assert _text(_files(tmp_path / "out")) == b"{k=v} body\n"


def test_local_timestamp_buckets_by_the_agent_clock(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel, tmp_path: Path,
) -> None:
    sink = make_local_sink(clock=FakeClock(start=1_700_000_000.0),
                           **{"hdfs.path": f"file://{tmp_path}/out/%Y%m%d",
                              "hdfs.useLocalTimeStamp": "true", "hdfs.timeZone": "UTC"})
    _run(sink, make_channel(_events(2)))

    assert [p.parent.name for p in _files(tmp_path / "out")] == ["20231114"]


def test_stop_without_writes_leaves_no_files(
    make_local_sink: Callable[..., HdfsEventSink], tmp_path: Path,
) -> None:
    make_local_sink().stop()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("props", "key"), [
    ({"hdfs.fileType": "CompressedStream"}, "hdfs.codeC"),
    ({"hdfs.codeC": "lzo"}, "hdfs.codeC"),
    ({"hdfs.path": "s3://bucket/x"}, "hdfs.path"),
    ({"hdfs.path": "file:///x/%[hostname]"}, "hdfs.path"),
    ({"hdfs.round": "true", "hdfs.roundValue": "25", "hdfs.roundUnit": "hour"}, "hdfs.roundValue"),
    ({"hdfs.timeZone": "Nowhere/City"}, "hdfs.timeZone"),
    ({"hdfs.kerberosPrincipal": "flume@REALM"}, "hdfs.kerberosPrincipal"),
    ({"hdfs.fileType": "Parquet"}, "hdfs.fileType"),
])
def test_bad_configuration_names_the_key(props: dict[str, str], key: str) -> None:
    base = {"hdfs.path": "file:///tmp/x", **props}
    with pytest.raises(ConfigurationError) as caught:
        HdfsEventSink.from_config("k1", base, component="a1.sinks.k1")
    assert key in str(caught.value)


@pytest.mark.parametrize("codec", ["snappy", "org.apache.hadoop.io.compress.SnappyCodec"])
def test_snappy_is_refused_because_hadoop_here_cannot_read_it(codec: str) -> None:
    with pytest.raises(ConfigurationError, match=r"hdfs\.codeC.*native libhadoop"):
        HdfsEventSink.from_config("k1", {"hdfs.path": "file:///tmp/x", "hdfs.codeC": codec,
                                         "hdfs.fileType": "CompressedStream"})


def test_missing_path_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"hdfs\.path"):
        HdfsEventSink.from_config("k1", {})


@pytest.mark.parametrize("alias", ["hdfs", "org.apache.flume.sink.hdfs.HDFSEventSink"])
def test_sink_is_registered_under_flume_names(alias: str) -> None:
    assert load_plugin(PluginKind.SINK, alias) is HdfsEventSink


def test_call_timeout_ends_a_hung_call_without_hanging_the_sink(
    make_local_sink: Callable[..., HdfsEventSink], make_channel: MakeChannel,
) -> None:
    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        port = server.getsockname()[1]
        sink = make_local_sink(**{"hdfs.path": f"webhdfs://127.0.0.1:{port}/x",
                                  "hdfs.callTimeout": "300", "hdfs.user": "flume"})
        channel = make_channel(_events(2))
        sink.set_channel(channel)
        started = time.monotonic()

        with pytest.raises(EventDeliveryException, match=r"callTimeout|timed out"):
            sink.process()

        assert time.monotonic() - started < 5
        sink.stop()
    assert len(_drain(channel)) == 2


def test_second_sink_with_the_same_writer_id_is_refused_while_first_runs(
    make_local_sink: Callable[..., HdfsEventSink],
) -> None:
    make_local_sink()
    second = make_local_sink(start=False)
    with pytest.raises(RuntimeError, match="writerId"):
        second.start()


def test_state_dir_journal_is_created(
    make_local_sink: Callable[..., HdfsEventSink], tmp_path: Path,
) -> None:
    make_local_sink()
    assert os.path.exists(tmp_path / "state" / "a1.sinks.k1.journal")


def test_a_batch_whose_channel_commit_fails_is_cut_back_out_and_written_once_on_retry(
    make_local_sink: Callable[..., HdfsEventSink], tmp_path: Path,
) -> None:
    channel = RecordingChannel("c1")
    channel.start()
    with channel.transaction() as tx:
        tx.put_batch(_events(5))
    sink = make_local_sink(**{"hdfs.batchSize": "5"})
    sink.set_channel(channel)
    channel.script_failure(ChannelFailure.FAIL_ON_COMMIT, times=1)
    with pytest.raises(ChannelException):
        sink.process()
    assert _text(_files(tmp_path / "out")) == b""
    assert sink.process() is Status.READY
    sink.stop()
    assert _text(_files(tmp_path / "out")) == b"".join(b"event-%03d\n" % i for i in range(5))
