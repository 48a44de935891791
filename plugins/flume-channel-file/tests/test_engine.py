"""The storage engine's queue semantics, restart behaviour and housekeeping."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from flume_channel_file._errors import CapacityError, OutOfSpaceError
from flume_channel_file._log import Log

from flume_sdk import Event

MakeLog = Callable[..., Log[Event]]
Events = Callable[..., list[Event]]


def _bodies(evs: list) -> list[bytes]:
    return [e.body for e in evs]


def _drain(log: Log, n: int = 1_000_000) -> list:
    out, ticket = log.take(n)
    if ticket is not None:
        log.commit_take(ticket)
    return out


def test_take_returns_committed_puts_in_order(make_log: MakeLog, events: Events) -> None:
    log = make_log()
    log.put(events(5))
    log.put(events(5, start=5))
    assert _bodies(_drain(log)) == _bodies(events(10))


def test_events_keep_their_headers_and_bodies(make_log: MakeLog, events: Events) -> None:
    log = make_log()
    sent = [*events(3), Event(b"", {}), Event(b"\0\xff", {"k\u00e9": "v\n"})]
    log.put(sent)
    log.close()
    got = _drain(make_log())
    assert [(e.body, e.headers) for e in got] == [(e.body, e.headers) for e in sent]


def test_take_rollback_returns_events_to_the_head_in_order(
    make_log: MakeLog, events: Events
) -> None:
    log = make_log()
    log.put(events(10))
    _first, ticket = log.take(4)
    assert ticket is not None
    log.rollback_take(ticket)
    assert _bodies(_drain(log)) == _bodies(events(10))


def test_committed_puts_survive_a_clean_restart(make_log: MakeLog, events: Events) -> None:
    log = make_log()
    log.put(events(7))
    log.close()
    assert _bodies(_drain(make_log())) == _bodies(events(7))


def test_committed_puts_survive_a_crash_without_checkpoint(
    make_log: MakeLog, events: Events
) -> None:
    log = make_log()
    log.put(events(7))
    log.abandon()
    assert _bodies(_drain(make_log())) == _bodies(events(7))


def test_uncommitted_take_returns_after_a_crash(make_log: MakeLog, events: Events) -> None:
    log = make_log()
    log.put(events(6))
    log.take(4)
    log.abandon()
    assert _bodies(_drain(make_log())) == _bodies(events(6))


def test_committed_take_never_returns_after_a_crash(make_log: MakeLog, events: Events) -> None:
    log = make_log()
    log.put(events(6))
    _drain_n = log.take(4)[1]
    assert _drain_n is not None
    log.commit_take(_drain_n)
    log.abandon()
    assert _bodies(_drain(make_log())) == _bodies(events(2, start=4))


def test_inflight_take_at_checkpoint_time_returns_after_a_crash(
    make_log: MakeLog, events: Events
) -> None:
    log = make_log()
    log.put(events(6))
    log.take(3)
    log.checkpoint()
    log.abandon()
    assert _bodies(_drain(make_log())) == _bodies(events(6))


def test_restart_after_checkpoint_replays_only_the_newer_records(
    make_log: MakeLog, events: Events
) -> None:
    log = make_log()
    for i in range(20):
        log.put(events(10, start=i * 10))
    log.checkpoint()
    log.put(events(10, start=200))
    log.abandon()
    reopened = make_log()
    assert reopened.size == 210
    assert _bodies(_drain(reopened)) == _bodies(events(210))


def test_full_replay_without_any_checkpoint_rebuilds_the_queue(
    make_log: MakeLog, log_config, events: Events
) -> None:
    log = make_log()
    log.put(events(30))
    _out, ticket = log.take(10)
    assert ticket is not None
    log.commit_take(ticket)
    log.abandon()
    for slot in log_config.checkpoint_dir.glob("checkpoint.*"):
        slot.unlink()
    reopened = make_log()
    assert _bodies(_drain(reopened)) == _bodies(events(20, start=10))


def test_segments_roll_at_max_file_size_and_are_deleted_once_taken(
    make_log: MakeLog, log_config, events: Events
) -> None:
    log = make_log(max_file_size=8192)
    for i in range(40):
        log.put(events(10, start=i * 10, size=100))
    assert log.segment_count > 5
    assert len(_drain(log)) == 400
    log.checkpoint()
    log.checkpoint()
    assert log.segment_count <= 2
    assert len(list(log_config.data_dirs[0].glob("log-*.seg"))) == log.segment_count


def test_segments_spread_over_several_data_dirs(
    make_log: MakeLog, tmp_path: Path, events: Events
) -> None:
    dirs = (tmp_path / "d1", tmp_path / "d2")
    log = make_log(data_dirs=dirs, max_file_size=8192)
    for i in range(10):
        log.put(events(10, start=i * 10, size=100))
    log.close()
    assert all(list(d.glob("log-*.seg")) for d in dirs)
    assert _bodies(_drain(make_log(data_dirs=dirs, max_file_size=8192))) == _bodies(
        events(100, size=100)
    )


def test_put_beyond_capacity_is_refused(make_log: MakeLog, events: Events) -> None:
    log = make_log(capacity=10)
    log.put(events(8))
    with pytest.raises(CapacityError, match="capacity 10"):
        log.put(events(3))


def test_puts_are_refused_under_minimum_space_and_resume_when_space_returns(
    make_log: MakeLog, events: Events
) -> None:
    free = {"bytes": 10 << 20}
    log = make_log(minimum_required_space=5 << 20, free_space=lambda _p: free["bytes"])
    log.put(events(2))
    free["bytes"] = 1 << 20
    with pytest.raises(OutOfSpaceError, match="minimumRequiredSpace"):
        log.put(events(2, start=2))
    free["bytes"] = 10 << 20
    log.put(events(2, start=4))
    assert _bodies(_drain(log)) == _bodies([*events(2), *events(2, start=4)])


def test_concurrent_putters_and_takers_lose_and_duplicate_nothing(
    make_log: MakeLog, events: Events
) -> None:
    log = make_log()
    taken: list[bytes] = []
    done = threading.Event()

    def putter(base: int) -> None:
        for i in range(50):
            log.put(events(20, start=base + i * 20))

    def taker() -> None:
        while not done.is_set() or log.size:
            out, ticket = log.take(37)
            if ticket is not None:
                log.commit_take(ticket)
                taken.extend(e.body for e in out)

    putters = [threading.Thread(target=putter, args=(k * 10_000,)) for k in range(3)]
    takers = [threading.Thread(target=taker) for _ in range(2)]
    for t in putters + takers:
        t.start()
    for t in putters:
        t.join(timeout=60)
    done.set()
    for t in takers:
        t.join(timeout=60)
    expected = [e.body for k in range(3) for e in events(1000, start=k * 10_000)]
    assert sorted(taken) == sorted(expected)
