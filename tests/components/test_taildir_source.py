"""TAILDIR: committed positions written atomically; correct through every kind of rotation."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flume_testkit import memory_channel, take_all
from flume_testkit.clock import FakeClock

from flume_sdk import ChannelProcessor, ConfigurationError, Status
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.selectors import ReplicatingSelector
from flume_sdk.components.taildir_source import TaildirSource

Make = Callable[..., TaildirSource]


@pytest.fixture
def channel() -> Iterator[MemoryChannel]:
    ch = memory_channel(100_000)
    yield ch
    ch.stop()


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make(tmp_path: Path, logs: Path, channel: MemoryChannel,
         clock: FakeClock) -> Iterator[Make]:
    built: list[TaildirSource] = []

    def build(**props: str) -> TaildirSource:
        config = {"filegroups": "g1", "filegroups.g1": str(logs / r"app\.log"),
                  "positionFile": str(tmp_path / "pos.json"), "idleTimeout": "1000",
                  "writePosInterval": "0", **props}
        source = TaildirSource.from_config("r1", config, clock=clock)
        source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
        source.start()
        built.append(source)
        return source

    yield build
    for source in built:
        source.stop()


def bodies(channel: MemoryChannel) -> list[bytes]:
    return [e.body for e in take_all(channel)]


def append(path: Path, *lines: str, end: str = "\n") -> None:
    with open(path, "a") as out:
        out.write("".join(line + end for line in lines))


def run(source: TaildirSource, times: int = 5) -> None:
    for _ in range(times):
        source.process()


def positions(tmp_path: Path) -> list[dict[str, object]]:
    return json.loads((tmp_path / "pos.json").read_text())  # type: ignore[no-any-return]


def test_complete_lines_become_events_and_a_partial_line_waits(
    make: Make, logs: Path, channel: MemoryChannel
) -> None:
    append(logs / "app.log", "one", "two")
    append(logs / "app.log", "thr", end="")
    source = make()
    run(source)
    assert bodies(channel) == [b"one", b"two"]
    append(logs / "app.log", "ee")
    run(source)
    assert bodies(channel) == [b"three"]


def test_files_not_matching_the_pattern_are_ignored(make: Make, logs: Path,
                                                    channel: MemoryChannel) -> None:
    append(logs / "other.log", "no")
    append(logs / "app.log", "yes")
    run(make())
    assert bodies(channel) == [b"yes"]


def test_position_file_holds_the_committed_offset_only(
    make: Make, logs: Path, tmp_path: Path
) -> None:
    small = MemoryChannel.from_config("c2", {"capacity": "2", "transactionCapacity": "2",
                                             "keep-alive": "0"})
    small.start()
    append(logs / "app.log", "a", "b", "c", "d")
    source = make(batchSize="2")
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([small])))
    assert source.process() is Status.BACKOFF
    (entry,) = positions(tmp_path)
    assert entry["pos"] == 4 and entry["file"] == str(logs / "app.log")
    assert not list(tmp_path.glob("*.tmp"))
    small.stop()


def test_refused_batch_is_reread_once_the_channel_has_room(make: Make, logs: Path) -> None:
    small = MemoryChannel.from_config("c2", {"capacity": "2", "transactionCapacity": "2",
                                             "keep-alive": "0"})
    small.start()
    append(logs / "app.log", "a", "b", "c", "d")
    source = make(batchSize="2")
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([small])))
    source.process()
    got = [e.body for e in take_all(small)]
    source.process()
    got += [e.body for e in take_all(small)]
    assert got == [b"a", b"b", b"c", b"d"]
    small.stop()


def test_a_batch_the_channel_refused_part_way_is_reread_without_its_committed_part(
    make: Make, logs: Path, tmp_path: Path
) -> None:
    small = MemoryChannel.from_config("c2", {"capacity": "3", "transactionCapacity": "2",
                                             "keep-alive": "0"})
    small.start()
    append(logs / "app.log", "a", "b", "cc", "d")
    source = make(batchSize="4")  # two slices of 2: the second does not fit
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([small])))
    source.process()
    assert positions(tmp_path)[0]["pos"] == 4  # "a\nb\n" committed
    got = [e.body for e in take_all(small)]
    source.process()
    got += [e.body for e in take_all(small)]
    assert got == [b"a", b"b", b"cc", b"d"]
    assert positions(tmp_path)[0]["pos"] == 9
    small.stop()


def test_positions_are_written_every_write_pos_interval(
    make: Make, logs: Path, tmp_path: Path, clock: FakeClock
) -> None:
    append(logs / "app.log", "a")
    source = make(writePosInterval="3000")
    (entry,) = positions(tmp_path)
    source.process()
    assert positions(tmp_path)[0]["pos"] == entry["pos"] == 0
    clock.advance(3)
    source.process()
    assert positions(tmp_path)[0]["pos"] == 2


def test_restart_resumes_from_the_position_file_without_duplicates(
    make: Make, logs: Path, channel: MemoryChannel
) -> None:
    append(logs / "app.log", "a", "b")
    first = make()
    run(first)
    first.stop()
    append(logs / "app.log", "c")
    run(make())
    assert bodies(channel) == [b"a", b"b", b"c"]


def test_rename_and_create_rotation_loses_and_rereads_nothing(
    make: Make, logs: Path, channel: MemoryChannel, clock: FakeClock
) -> None:
    append(logs / "app.log", "old-1")
    source = make()
    run(source)
    append(logs / "app.log", "old-2")
    (logs / "app.log").rename(logs / "app.log.1")
    append(logs / "app.log.1", "old-3-after-rename")
    append(logs / "app.log", "new-1")
    run(source)
    clock.advance(2)
    run(source)
    append(logs / "app.log", "new-2")
    run(source)
    assert bodies(channel) == [b"old-1", b"old-2", b"old-3-after-rename", b"new-1", b"new-2"]
    assert [Path(str(p)).name for p in source.committed_positions()] == ["app.log"]


def test_rotation_while_the_agent_is_down_finishes_the_old_file(
    make: Make, logs: Path, channel: MemoryChannel
) -> None:
    append(logs / "app.log", "old-1")
    first = make()
    run(first)
    first.stop()
    append(logs / "app.log", "old-2")
    (logs / "app.log").rename(logs / "app.log.1")
    append(logs / "app.log", "new-1")
    run(make())
    assert bodies(channel) == [b"old-1", b"old-2", b"new-1"]


def test_copytruncate_is_detected_counted_and_the_copy_not_read(
    make: Make, logs: Path, channel: MemoryChannel
) -> None:
    append(logs / "app.log", "before-1", "before-2")
    source = make()
    run(source)
    shutil.copyfile(logs / "app.log", logs / "app.log.1")
    with open(logs / "app.log", "r+") as f:
        f.truncate(0)
    append(logs / "app.log", "after")
    run(source)
    assert bodies(channel) == [b"before-1", b"before-2", b"after"]
    assert source.counter.get("TaildirTruncations") == 1


def test_truncated_and_regrown_past_the_position_is_detected_by_fingerprint(
    make: Make, logs: Path, channel: MemoryChannel
) -> None:
    append(logs / "app.log", "a")
    source = make()
    run(source)
    with open(logs / "app.log", "w") as f:
        f.write("completely new content\n")
    run(source)
    assert bodies(channel) == [b"a", b"completely new content"]


def test_inode_reuse_is_not_trusted_and_the_file_is_read_from_the_start(
    make: Make, logs: Path, channel: MemoryChannel, tmp_path: Path
) -> None:
    append(logs / "app.log", "first line of a new file", "second")
    st = os.stat(logs / "app.log")
    other = hashlib.blake2b(b"a different old file", digest_size=8).hexdigest()
    (tmp_path / "pos.json").write_text(json.dumps([
        {"inode": st.st_ino, "dev": st.st_dev, "pos": 25, "file": str(logs / "app.log"),
         "fp": other, "fplen": 20}]))
    source = make()
    run(source)
    assert bodies(channel) == [b"first line of a new file", b"second"]
    assert source.counter.get("TaildirInodeReuse") == 1


def test_flume_position_file_without_fingerprints_is_honoured(
    make: Make, logs: Path, channel: MemoryChannel, tmp_path: Path
) -> None:
    append(logs / "app.log", "done", "todo")
    ino = os.stat(logs / "app.log").st_ino
    (tmp_path / "pos.json").write_text(json.dumps(
        [{"inode": ino, "pos": 5, "file": str(logs / "app.log")}]))
    run(make())
    assert bodies(channel) == [b"todo"]


def test_skip_to_end_starts_unknown_files_at_their_end(make: Make, logs: Path,
                                                        channel: MemoryChannel) -> None:
    append(logs / "app.log", "old")
    source = make(skipToEnd="true")
    append(logs / "app.log", "new")
    run(source)
    assert bodies(channel) == [b"new"]


def test_group_headers_file_header_and_byte_offset(make: Make, logs: Path,
                                                   channel: MemoryChannel) -> None:
    append(logs / "app.log", "ab", "cd")
    run(make(**{"headers.g1.topic": "t1", "byteOffsetHeader": "true", "fileHeader": "true"}))
    events = take_all(channel)
    assert [e.headers for e in events] == [
        {"topic": "t1", "file": str(logs / "app.log"), "byteoffset": "0"},
        {"topic": "t1", "file": str(logs / "app.log"), "byteoffset": "3"},
    ]


def test_position_file_is_rewritten_atomically_as_json(make: Make, logs: Path,
                                                       tmp_path: Path) -> None:
    append(logs / "app.log", "x")
    source = make()
    run(source)
    source.stop()
    (entry,) = positions(tmp_path)
    assert set(entry) >= {"inode", "pos", "file"} and entry["pos"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "pos.json"]


def test_corrupt_position_file_fails_start_with_a_fix(make: Make, tmp_path: Path) -> None:
    (tmp_path / "pos.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match="fix or remove it"):
        make()


@pytest.mark.parametrize(("props", "message"), [
    ({"filegroups": "g1 g2"}, "filegroups.g2: group 'g2' is listed but has no path"),
    ({"filegroups.g1": "relative/app.log"}, "must be an absolute path"),
    ({"filegroups.g1": "/var/log/([.log"}, "not a valid regex"),
    ({"headers.g9.k": "v"}, "headers.g9.k: must be headers.<group>.<header>"),
    ({"batchsize": "5"}, "did you mean 'batchSize'"),
])
def test_bad_configuration_names_the_key(props: dict[str, str], message: str) -> None:
    config = {"filegroups": "g1", "filegroups.g1": "/var/log/app.log", **props}
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace("[", r"\[")
                       .replace(".", r"\.")):
        TaildirSource.from_config("r1", config)


def _open_paths() -> set[str]:
    fds = Path("/proc/self/fd")
    out = set()
    for fd in fds.iterdir():
        try:
            out.add(os.readlink(fd))
        except OSError:
            continue
    return out


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to list open files")
def test_rotated_file_is_closed_once_finished_and_idle(
    make: Make, logs: Path, clock: FakeClock
) -> None:
    append(logs / "app.log", "old")
    source = make()
    run(source)
    (logs / "app.log").rename(logs / "app.log.1")
    append(logs / "app.log", "new")
    run(source)
    assert str(logs / "app.log.1") in _open_paths()
    clock.advance(2)
    run(source)
    assert str(logs / "app.log.1") not in _open_paths()
    assert list(source.committed_positions()) == [str(logs / "app.log")]


def test_idle_closed_file_is_reopened_when_it_grows(
    make: Make, logs: Path, channel: MemoryChannel, clock: FakeClock
) -> None:
    append(logs / "app.log", "a")
    source = make()
    run(source)
    clock.advance(2)
    run(source)
    append(logs / "app.log", "b")
    run(source)
    assert bodies(channel) == [b"a", b"b"]
