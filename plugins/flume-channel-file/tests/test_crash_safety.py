"""Power loss, torn tails, corruption, quarantine and the directory lock."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from flume_channel_file._damage import DamageKind
from flume_channel_file._dirlock import DirectoryInUseError
from flume_channel_file._errors import OutOfSpaceError
from flume_channel_file._log import Log
from flume_channel_file._log_config import LogConfig

from flume_sdk import Event

MakeLog = Callable[..., Log[Event]]
Events = Callable[..., list[Event]]


def _drain(log: Log[Event]) -> list[bytes]:
    out, ticket = log.take(1_000_000)
    if ticket is not None:
        log.commit_take(ticket)
    return [e.body for e in out]


def _segment_paths(config: LogConfig) -> list[Path]:
    return sorted(config.data_dirs[0].glob("log-*.seg"))


def _power_loss(log: Log[Event], durable_end: int, garbage: bytes) -> Path:
    """Crash, then replace everything after ``durable_end`` with what a dying disk left."""
    segment, _offset = log.synced_position
    path = next(
        p for p in log.config.data_dirs[0].glob("log-*.seg") if int(p.name[4:16]) == segment
    )
    log.abandon()
    with open(path, "r+b") as fh:
        fh.seek(durable_end)
        fh.write(garbage)
    return path


@pytest.mark.parametrize("leftover", ["zeros", "garbage", "half-record"])
def test_power_loss_keeps_synced_puts_and_drops_the_unsynced_tail(
    make_log: MakeLog, events: Events, leftover: str
) -> None:
    log = make_log()
    log.put(events(10))
    durable_end = log.synced_position[1]
    log.put(events(10, start=10))  # its sync "never returned": the power went first
    record_end = log.synced_position[1]
    seg = next(iter(_segment_paths(log.config)[-1:]))
    unsynced = seg.read_bytes()[durable_end:record_end]
    tail = {
        "zeros": b"\0" * len(unsynced),
        "garbage": os.urandom(len(unsynced)),
        "half-record": unsynced[: len(unsynced) // 2] + b"\0" * (len(unsynced) // 2 + 1),
    }[leftover]
    _power_loss(log, durable_end, tail)
    reopened = make_log()
    assert _drain(reopened) == [e.body for e in events(10)]


def test_torn_tail_is_truncated_and_counted(make_log: MakeLog, events: Events) -> None:
    log = make_log()
    log.put(events(5))
    durable_end = log.synced_position[1]
    log.put(events(5, start=5))
    _power_loss(log, durable_end + 7, os.urandom(40))
    reopened = make_log()
    assert reopened.torn_tails == 1
    assert [d.kind for d in reopened.damage] == [DamageKind.TORN_TAIL]
    assert _drain(reopened) == [e.body for e in events(5)]


def test_after_a_torn_tail_the_channel_restarts_cleanly_again(
    make_log: MakeLog, events: Events
) -> None:
    log = make_log()
    log.put(events(5))
    durable_end = log.synced_position[1]
    log.put(events(5, start=5))
    _power_loss(log, durable_end + 3, os.urandom(30))
    second = make_log()
    second.put(events(2, start=100))
    second.abandon()
    third = make_log()
    assert third.damage == []
    assert _drain(third) == [e.body for e in [*events(5), *events(2, start=100)]]


def _corrupt_first_sealed_segment(make_log: MakeLog, events: Events) -> tuple[LogConfig, Path]:
    log = make_log(max_file_size=8192)
    for i in range(12):
        log.put(events(10, start=i * 10, size=100))
    config = log.config
    log.abandon()
    for slot in config.checkpoint_dir.glob("checkpoint.*"):
        slot.unlink()
    first = _segment_paths(config)[0]
    data = bytearray(first.read_bytes())
    data[300] ^= 0xFF  # inside the first put record
    first.write_bytes(bytes(data))
    return config, first


def test_corrupted_segment_is_quarantined_not_deleted(make_log: MakeLog, events: Events) -> None:
    config, first = _corrupt_first_sealed_segment(make_log, events)
    reopened = make_log(max_file_size=8192)
    damage = [d for d in reopened.damage if d.kind == DamageKind.CORRUPT_SEGMENT]
    assert len(damage) == 1
    assert damage[0].quarantined_to is not None and damage[0].quarantined_to.exists()
    assert not first.exists()
    assert damage[0].quarantined_to.parent == config.data_dirs[0] / "quarantine"


def test_corrupted_segment_reports_the_lost_event_range(make_log: MakeLog, events: Events) -> None:
    _corrupt_first_sealed_segment(make_log, events)
    reopened = make_log(max_file_size=8192)
    damage = next(d for d in reopened.damage if d.kind == DamageKind.CORRUPT_SEGMENT)
    assert damage.lost_seqs == [(1, 10)]
    assert "1..10" in damage.describe()


def test_rest_of_the_channel_keeps_working_after_corruption(
    make_log: MakeLog, events: Events
) -> None:
    _corrupt_first_sealed_segment(make_log, events)
    reopened = make_log(max_file_size=8192)
    reopened.put(events(3, start=500, size=100))
    expected = [e.body for e in [*events(110, start=10, size=100), *events(3, start=500, size=100)]]
    assert _drain(reopened) == expected


def test_record_corrupted_after_checkpoint_is_reported_when_taken(
    make_log: MakeLog, events: Events
) -> None:
    log = make_log(max_file_size=8192)
    for i in range(12):
        log.put(events(10, start=i * 10, size=100))
    config = log.config
    log.close()
    first = _segment_paths(config)[0]
    data = bytearray(first.read_bytes())
    data[300] ^= 0xFF
    first.write_bytes(bytes(data))
    reopened = make_log(max_file_size=8192)
    assert _drain(reopened) == [e.body for e in events(110, start=10, size=100)]
    damage = [d for d in reopened.damage if d.kind == DamageKind.CORRUPT_RECORD]
    assert damage and damage[0].lost_seqs == [(1, 10)]
    assert damage[0].quarantined_to is not None and damage[0].quarantined_to.exists()


def test_corrupted_checkpoint_falls_back_to_the_other_slot(
    make_log: MakeLog, events: Events
) -> None:
    log = make_log()
    log.put(events(4))
    log.checkpoint()
    log.put(events(4, start=4))
    log.checkpoint()
    config = log.config
    log.abandon()
    newest = max(config.checkpoint_dir.glob("checkpoint.?"), key=lambda p: p.stat().st_mtime_ns)
    newest.write_bytes(b"\0" * 10 + newest.read_bytes()[10:])
    reopened = make_log()
    kinds = [d.kind for d in reopened.damage]
    assert kinds == [DamageKind.CORRUPT_CHECKPOINT]
    assert list((config.checkpoint_dir / "quarantine").iterdir())
    assert _drain(reopened) == [e.body for e in events(8)]


def test_backup_checkpoint_dir_receives_every_checkpoint(
    make_log: MakeLog, events: Events, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    log = make_log(backup_checkpoint_dir=backup)
    log.put(events(2))
    log.checkpoint()
    assert sorted(p.name for p in backup.glob("checkpoint.?")) == ["checkpoint.0", "checkpoint.1"]


def test_second_open_of_the_same_directories_is_refused(make_log: MakeLog) -> None:
    log = make_log()
    with pytest.raises(DirectoryInUseError, match="already in use"):
        Log(log.config, Event).open()


def test_directories_can_be_reopened_after_close(make_log: MakeLog, events: Events) -> None:
    log = make_log()
    log.put(events(1))
    log.close()
    assert _drain(make_log()) == [e.body for e in events(1)]


def test_power_loss_after_refused_put_leaves_no_partial_record(
    make_log: MakeLog, events: Events
) -> None:
    free = {"bytes": 1 << 30}
    log = make_log(minimum_required_space=1 << 20, free_space=lambda _p: free["bytes"])
    log.put(events(3))
    free["bytes"] = 0
    with pytest.raises(OutOfSpaceError, match="minimumRequiredSpace"):
        log.put(events(3, start=3))
    log.abandon()
    reopened = make_log()
    assert reopened.damage == []
    assert _drain(reopened) == [e.body for e in events(3)]
