"""spooldir: lossless completion, resume from the tracker, quarantine instead of FATAL."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import fastavro
import pytest
from flume_testkit import memory_channel, take_all
from flume_testkit.servers import wait_until

from flume_sdk import ChannelProcessor, ConfigurationError, Status
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.selectors import ReplicatingSelector
from flume_sdk.components.spooldir_source import SpoolDirectorySource

Make = Callable[..., SpoolDirectorySource]


@pytest.fixture
def channel() -> Iterator[MemoryChannel]:
    ch = memory_channel(100_000)
    yield ch
    ch.stop()


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    path = tmp_path / "spool"
    path.mkdir()
    return path


@pytest.fixture
def make(spool: Path, channel: MemoryChannel) -> Iterator[Make]:
    built: list[SpoolDirectorySource] = []

    def build(**props: str) -> SpoolDirectorySource:
        source = SpoolDirectorySource.from_config("r1", {"spoolDir": str(spool), **props})
        source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
        source.start()
        built.append(source)
        return source

    yield build
    for source in built:
        source.stop()


def run(source: SpoolDirectorySource, limit: int = 1000) -> None:
    """Call process() until it backs off with nothing left (bounded)."""
    for _ in range(limit):
        if source.process() is Status.BACKOFF and source.current_file is None:
            return
    raise AssertionError(f"source still busy after {limit} process() calls")


def bodies(channel: MemoryChannel) -> list[bytes]:
    return [e.body for e in take_all(channel)]


def test_lines_become_events_and_file_is_renamed_after_commit(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    (spool / "a.log").write_bytes(b"one\ntwo\nthree")
    run(make(batchSize="2"))
    assert bodies(channel) == [b"one", b"two", b"three"]
    assert (spool / "a.log.COMPLETED").exists() and not (spool / "a.log").exists()


def test_file_is_not_completed_while_the_channel_refuses(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    small = MemoryChannel.from_config("c2", {"capacity": "2", "transactionCapacity": "2",
                                             "keep-alive": "0"})
    small.start()
    (spool / "a.log").write_bytes(b"1\n2\n3\n")
    source = make(batchSize="2")
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([small])))
    statuses = [source.process() for _ in range(5)]
    assert Status.BACKOFF in statuses
    assert (spool / "a.log").exists() and not (spool / "a.log.COMPLETED").exists()
    assert source.counter.get("ChannelWriteFail") >= 1
    small.stop()


def test_refused_batch_is_retried_unchanged_once_the_channel_has_room(
    make: Make, spool: Path
) -> None:
    small = MemoryChannel.from_config("c2", {"capacity": "2", "transactionCapacity": "2",
                                             "keep-alive": "0"})
    small.start()
    (spool / "a.log").write_bytes(b"1\n2\n3\n4\n")
    source = make(batchSize="2")
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([small])))
    source.process()
    assert source.process() is Status.BACKOFF
    got = [e.body for e in take_all(small)]
    run(source)
    got += [e.body for e in take_all(small)]
    assert got == [b"1", b"2", b"3", b"4"]
    small.stop()


def test_a_batch_the_channel_refused_part_way_is_retried_without_its_committed_part(
    make: Make, spool: Path
) -> None:
    small = MemoryChannel.from_config("c2", {"capacity": "3", "transactionCapacity": "2",
                                             "keep-alive": "0"})
    small.start()
    (spool / "a.log").write_bytes(b"1\n2\n3\n4\n")
    source = make(batchSize="4")  # two slices of 2: the second does not fit
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([small])))
    assert source.process() is Status.BACKOFF
    got = [e.body for e in take_all(small)]
    run(source)
    got += [e.body for e in take_all(small)]
    assert got == [b"1", b"2", b"3", b"4"]
    small.stop()


def test_restart_resumes_from_the_last_committed_batch(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    (spool / "a.log").write_bytes(b"".join(b"%d\n" % i for i in range(10)))
    first = make(batchSize="3")
    first.process()
    first.process()
    first.stop()
    run(make(batchSize="3"))
    assert bodies(channel) == [b"%d" % i for i in range(10)]


def test_delete_policy_immediate_removes_the_file(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    (spool / "a.log").write_bytes(b"x\n")
    run(make(deletePolicy="immediate"))
    assert bodies(channel) == [b"x"]
    assert not [p for p in spool.iterdir() if not p.name.startswith(".")]


def test_tracker_dir_policy_leaves_the_file_and_never_rereads_it(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    (spool / "a.log").write_bytes(b"x\n")
    source = make(trackingPolicy="tracker_dir")
    run(source)
    run(source)
    assert bodies(channel) == [b"x"]
    assert (spool / "a.log").exists()


def test_file_and_basename_headers(make: Make, spool: Path, channel: MemoryChannel) -> None:
    (spool / "a.log").write_bytes(b"x\n")
    run(make(fileHeader="true", fileHeaderKey="path", basenameHeader="true"))
    (event,) = take_all(channel)
    assert event.headers == {"path": str(spool / "a.log"), "basename": "a.log"}


def test_hidden_ignored_and_unincluded_files_are_left_alone(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    for name in (".hidden", "skip.tmp", "other.txt", "take.log"):
        (spool / name).write_bytes(name.encode() + b"\n")
    run(make(includePattern=r".*\.(log|tmp)", ignorePattern=r".*\.tmp"))
    assert bodies(channel) == [b"take.log"]
    assert {".hidden", "skip.tmp", "other.txt"} <= {p.name for p in spool.iterdir()}


def test_consume_order_oldest_and_youngest(make: Make, spool: Path,
                                           channel: MemoryChannel) -> None:
    for i, name in enumerate(("b", "a", "c")):
        (spool / name).write_bytes(name.encode() + b"\n")
        os.utime(spool / name, ns=(10**18 + i * 10**9, 10**18 + i * 10**9))
    run(make(consumeOrder="youngest"))
    assert bodies(channel) == [b"c", b"a", b"b"]


def test_recursive_directory_search_reads_subdirectories(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    (spool / "sub").mkdir()
    (spool / "sub" / "deep.log").write_bytes(b"deep\n")
    run(make(recursiveDirectorySearch="true"))
    assert bodies(channel) == [b"deep"]
    assert (spool / "sub" / "deep.log.COMPLETED").exists()


def test_long_line_is_split_at_max_line_length(make: Make, spool: Path,
                                              channel: MemoryChannel) -> None:
    (spool / "a.log").write_bytes(b"abcdefg\nhi\n")
    run(make(**{"deserializer.maxLineLength": "3"}))
    assert bodies(channel) == [b"abc", b"def", b"g", b"hi"]


def test_input_charset_is_reencoded_to_output_charset(make: Make, spool: Path,
                                                      channel: MemoryChannel) -> None:
    (spool / "a.log").write_bytes("café\n".encode("latin-1"))
    run(make(inputCharset="ISO-8859-1"))
    assert bodies(channel) == ["café".encode()]


def test_decode_error_policy_replace_substitutes(make: Make, spool: Path,
                                                 channel: MemoryChannel) -> None:
    (spool / "a.log").write_bytes(b"ok\nbad\xff\n")
    run(make(decodeErrorPolicy="REPLACE"))
    assert bodies(channel) == [b"ok", "bad\ufffd".encode()]


def test_decode_error_policy_ignore_drops_bad_bytes(make: Make, spool: Path,
                                                    channel: MemoryChannel) -> None:
    (spool / "a.log").write_bytes(b"bad\xff\n")
    run(make(decodeErrorPolicy="IGNORE"))
    assert bodies(channel) == [b"bad"]


def test_decode_error_policy_fail_quarantines_and_continues(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    (spool / "a.log").write_bytes(b"bad\xff\n")
    (spool / "b.log").write_bytes(b"good\n")
    source = make(batchSize="1")
    run(source)
    assert bodies(channel) == [b"good"]
    reason = (spool / ".failed" / "a.log.reason").read_text()
    assert "offset 3" in reason and "decodeErrorPolicy" in reason
    assert source.counter.get("SpoolFilesQuarantined") == 1


def test_blob_deserializer_makes_one_event_per_file(make: Make, spool: Path,
                                                    channel: MemoryChannel) -> None:
    (spool / "a.bin").write_bytes(b"\x00\x01\nraw")
    run(make(deserializer="org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder"))
    assert bodies(channel) == [b"\x00\x01\nraw"]


def test_avro_deserializer_makes_one_event_per_record(make: Make, spool: Path,
                                                      channel: MemoryChannel) -> None:
    schema = fastavro.parse_schema({"type": "record", "name": "R",
                                    "fields": [{"name": "n", "type": "int"}]})
    with open(spool / "a.avro", "wb") as out:
        fastavro.writer(out, schema, [{"n": i} for i in range(5)], sync_interval=16)
    run(make(deserializer="AVRO", batchSize="2"))
    events = take_all(channel)
    assert [fastavro.schemaless_reader(io.BytesIO(e.body), schema)["n"] for e in events] \
        == list(range(5))
    assert "flume.avro.schema.hash" in events[0].headers


def test_avro_resumes_inside_a_block_after_restart(make: Make, spool: Path,
                                                   channel: MemoryChannel) -> None:
    schema = fastavro.parse_schema({"type": "record", "name": "R",
                                    "fields": [{"name": "n", "type": "int"}]})
    with open(spool / "a.avro", "wb") as out:
        fastavro.writer(out, schema, [{"n": i} for i in range(7)])
    first = make(deserializer="AVRO", batchSize="3")
    first.process()
    first.stop()
    run(make(deserializer="AVRO", batchSize="3"))
    events = take_all(channel)
    assert [fastavro.schemaless_reader(io.BytesIO(e.body), schema)["n"] for e in events] \
        == list(range(7))


def test_corrupt_avro_file_is_quarantined(make: Make, spool: Path) -> None:
    (spool / "a.avro").write_bytes(b"not avro at all\n")
    source = make(deserializer="AVRO")
    run(source)
    assert (spool / ".failed" / "a.avro").exists()


# -- where Flume stops the source ------------------------------------------------------------


def test_zero_byte_file_is_quarantined_with_a_reason(make: Make, spool: Path,
                                                     channel: MemoryChannel) -> None:
    (spool / "empty").write_bytes(b"")
    (spool / "next").write_bytes(b"n\n")
    source = make()
    run(source)
    assert bodies(channel) == [b"n"]
    assert "zero-byte" in (spool / ".failed" / "empty.reason").read_text()


def test_reused_name_is_quarantined_and_the_completed_file_kept(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    (spool / "a.log.COMPLETED").write_bytes(b"old\n")
    (spool / "a.log").write_bytes(b"new\n")
    source = make()
    run(source)
    assert bodies(channel) == []
    assert (spool / "a.log.COMPLETED").read_bytes() == b"old\n"
    assert "re-used" in (spool / ".failed" / "a.log.reason").read_text()
    assert source.counter.get("SpoolFilesQuarantined") == 1


def test_file_modified_after_pickup_is_quarantined_and_others_continue(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    (spool / "a.log").write_bytes(b"1\n2\n3\n")
    source = make(batchSize="1")
    source.process()
    with open(spool / "a.log", "ab") as out:
        out.write(b"appended\n")
    (spool / "b.log").write_bytes(b"b\n")
    run(source)
    assert bodies(channel) == [b"1", b"b"]
    reason = (spool / ".failed" / "a.log.reason").read_text()
    assert "modified after pickup" in reason and "up to byte 2" in reason


def test_file_deleted_mid_read_is_counted_and_others_continue(
    make: Make, spool: Path, channel: MemoryChannel
) -> None:
    (spool / "a.log").write_bytes(b"1\n2\n")
    source = make(batchSize="1")
    source.process()
    (spool / "a.log").unlink()
    (spool / "b.log").write_bytes(b"b\n")
    run(source)
    assert bodies(channel) == [b"1", b"b"]
    assert source.counter.get("SpoolFilesQuarantined") == 1


def test_unreadable_entry_is_quarantined(make: Make, spool: Path, channel: MemoryChannel) -> None:
    (spool / "dangling").symlink_to(spool / "nowhere")
    (spool / "b.log").write_bytes(b"b\n")
    run(make())
    assert bodies(channel) == [b"b"]
    assert "unreadable" in (spool / ".failed" / "dangling.reason").read_text()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file whatever its mode")
def test_file_without_read_permission_is_quarantined(make: Make, spool: Path) -> None:
    (spool / "secret").write_bytes(b"s\n")
    (spool / "secret").chmod(0)
    run(make())
    assert "unreadable" in (spool / ".failed" / "secret.reason").read_text()


# -- configuration -----------------------------------------------------------------------------


def test_invalid_include_pattern_is_a_config_error_naming_the_key(spool: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"a1\.sources\.r1\.includePattern"):
        SpoolDirectorySource.from_config("r1", {"spoolDir": str(spool), "includePattern": "(["},
                                         component="a1.sources.r1")


def test_unknown_deserializer_key_is_a_config_error(spool: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"deserializer\.maxLineLenght: unknown key"):
        SpoolDirectorySource.from_config("r1", {"spoolDir": str(spool),
                                                "deserializer.maxLineLenght": "5"})


def test_unknown_key_is_a_config_error_with_a_suggestion(spool: Path) -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'batchSize'"):
        SpoolDirectorySource.from_config("r1", {"spoolDir": str(spool), "batchsize": "5"})


def test_missing_spool_dir_fails_start_with_the_path(tmp_path: Path) -> None:
    source = SpoolDirectorySource.from_config("r1", {"spoolDir": str(tmp_path / "nope")})
    with pytest.raises(ConfigurationError, match="is not a directory"):
        source.start()


# -- a real agent killed with SIGKILL ---------------------------------------------------------

AGENT_CONF = """
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = flume_sdk.components.spooldir_source:SpoolDirectorySource
a1.sources.r1.spoolDir = {root}/spool
a1.sources.r1.batchSize = {batch}
a1.sources.r1.pollDelay = 50
a1.sources.r1.channels = c1
a1.channels.c1.type = file
a1.channels.c1.checkpointDir = {root}/checkpoint
a1.channels.c1.dataDirs = {root}/data
a1.channels.c1.transactionCapacity = 1000
a1.sinks.k1.type = flume_sdk.components.file_roll_sink:FileRollSink
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = {root}/out
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k1.sink.batchSize = {batch}
"""


def _start_agent(root: Path) -> subprocess.Popen[bytes]:
    with open(root / "agent.log", "ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "flume_sdk.cli", "agent", "-n", "a1", "-f",
             str(root / "a.conf"), "--no-reload-conf"],
            stdout=subprocess.DEVNULL, stderr=log_file)


def _complete_lines(out: Path) -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted(out.glob("*")) if out.exists() else []:
        *complete, _partial = path.read_bytes().split(b"\n")
        lines.extend(complete)
    return lines


def test_sigkill_mid_file_then_restart_loses_nothing_and_duplicates_at_most_a_batch(
    tmp_path: Path,
) -> None:
    pytest.importorskip("flume_channel_file", reason="needs the flume-channel-file plugin")

    batch, files, per_file = 100, 3, 20_000
    (tmp_path / "spool").mkdir()
    (tmp_path / "a.conf").write_text(AGENT_CONF.format(root=tmp_path, batch=batch))
    expected = set()
    for f in range(files):
        lines = [b"f%d-line-%06d" % (f, i) for i in range(per_file)]
        expected.update(lines)
        (tmp_path / "spool" / f"in{f}.log").write_bytes(b"\n".join(lines) + b"\n")
    agent = _start_agent(tmp_path)
    try:
        wait_until(lambda: len(_complete_lines(tmp_path / "out")) > per_file // 2,
                  timeout=60, what="the first agent delivered lines")
        agent.send_signal(signal.SIGKILL)
        agent.wait(10)
        assert len(_complete_lines(tmp_path / "out")) < files * per_file, "killed too late"
        agent = _start_agent(tmp_path)
        wait_until(lambda: set(_complete_lines(tmp_path / "out")) >= expected,
                  timeout=90, what="the restarted agent delivered every line")
        wait_until(lambda: len(list((tmp_path / "spool").glob("*.COMPLETED"))) == files,
                  timeout=30, what="every spool file completed")
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)
    delivered = _complete_lines(tmp_path / "out")
    assert set(delivered) == expected
    duplicates = len(delivered) - len(expected)
    # One source batch (position not yet saved) plus one sink batch (written, not yet committed).
    assert duplicates <= 2 * batch, f"{duplicates} duplicated lines"


class _SwappingSpoolSource(SpoolDirectorySource):
    """The real source, with an attacker racing it: between the listing (lstat) and the open,
    each listed name becomes a symlink to a file outside the spool directory; right after
    the open, the name is a hard link to the listed file again, so any later check by name
    sees the file that was listed."""

    secret: Path
    originals: dict[Path, Path]

    def _ordered(self, found: list[tuple[Path, os.stat_result]]
                 ) -> list[tuple[Path, os.stat_result]]:
        for path, _ in found:
            path.unlink()
            path.symlink_to(self.secret)
        return found

    def _open_listed(self, path: Path, st: os.stat_result) -> BinaryIO:  # type: ignore[override]
        try:
            return super()._open_listed(path, st)
        finally:
            self._swap_back(path)

    def _resume(self, path: Path, st: os.stat_result, stream: BinaryIO) -> Any:
        self._swap_back(path)  # before the fix, the open happened in _open itself
        return super()._resume(path, st, stream)

    def _swap_back(self, path: Path) -> None:
        if path.is_symlink():
            path.unlink()
            os.link(self.originals[path], path)


def test_a_name_swapped_for_a_symlink_between_listing_and_open_is_never_read(
    spool: Path, channel: MemoryChannel, tmp_path: Path
) -> None:
    secret = tmp_path / "outside-the-spool"
    secret.write_bytes(b"a secret\n")
    listed, keep = spool / "a.log", tmp_path / "a-log-kept"
    listed.write_bytes(b"harmless\n")
    os.link(listed, keep)
    source = _SwappingSpoolSource.from_config("r1", {"spoolDir": str(spool)})
    source.secret, source.originals = secret, {listed: keep}
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    source.start()
    try:
        source.process()
    finally:
        source.stop()
    assert b"a secret" not in bodies(channel)
