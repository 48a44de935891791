"""The journal: what it replays, and that compaction keeps it bounded without losing state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flume_sink_hdfs import HdfsEventSink, _journal
from flume_sink_hdfs._journal import BatchRecord, Expectation, Journal, JournalState, OpenFileEntry

from flume_sdk import Event, Status
from flume_sdk.components.memory_channel import MemoryChannel

__all__: list[str] = []


def _entry(i: int) -> OpenFileEntry:
    return OpenFileEntry(f"/d/FlumeData.{i}.tmp", f"/d/FlumeData.{i}")


def _reopen(directory: Path) -> JournalState:
    journal = Journal(directory, "w")
    try:
        return journal.open()
    finally:
        journal.close()


def test_replay_gives_open_files_pending_batch_and_expectation(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "w")
    journal.open()
    journal.opened(_entry(1))
    journal.opened(_entry(2))
    journal.finished(_entry(1).in_use)
    journal.settled(Expectation(3, "ff"))
    journal.batch(BatchRecord(5, "ab", ((_entry(2).in_use, 10, 20),)))
    journal.close()

    state = _reopen(tmp_path)

    assert list(state.open.values()) == [_entry(2)]
    assert state.pending == BatchRecord(5, "ab", ((_entry(2).in_use, 10, 20),))
    assert state.expect == Expectation(3, "ff")


def test_commit_clears_pending_and_expectation_and_a_torn_line_is_ignored(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path, "w")
    journal.open()
    journal.settled(Expectation(3, "ff"))
    journal.batch(BatchRecord(5, "ab", ()))
    journal.committed()
    journal.close()
    with open(tmp_path / "w.journal", "ab") as out:
        out.write(b'batch\t{"count": 5, "finger')  # a crash in the middle of a record

    state = _reopen(tmp_path)

    assert (state.pending, state.expect) == (None, None)


def test_compaction_keeps_the_journal_bounded_and_the_state_whole(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "w", compact_bytes=4096)
    journal.open()
    biggest = 0
    for i in range(3000):
        journal.opened(_entry(i))
        journal.batch(BatchRecord(10, f"{i:032x}", ((_entry(i).in_use, 0, 100),)))
        journal.committed()
        if i != 7:
            journal.finished(_entry(i).in_use)
        biggest = max(biggest, (tmp_path / "w.journal").stat().st_size)
    journal.settled(Expectation(10, "ee"))
    journal.batch(BatchRecord(4, "cd", ((_entry(7).in_use, 100, 40),)))
    journal.compact()
    journal.close()

    assert journal.compactions > 50
    assert biggest <= 4096 + 512
    assert not (tmp_path / "w.journal.tmp").exists()
    state = _reopen(tmp_path)
    assert list(state.open.values()) == [_entry(7)]
    assert state.expect == Expectation(10, "ee")
    assert state.pending == BatchRecord(4, "cd", ((_entry(7).in_use, 100, 40),))
    assert state.ends == {_entry(7).in_use: 140}


def test_ends_follow_batches_and_cut_backs_and_a_dropped_batch_keeps_the_expectation(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path, "w")
    journal.open()
    journal.opened(_entry(1))
    journal.opened(_entry(2))
    journal.batch(BatchRecord(5, "ab", ((_entry(1).in_use, 0, 30), (_entry(2).in_use, 0, 20))))
    journal.committed()
    journal.settled(Expectation(3, "ff"))
    journal.batch(BatchRecord(5, "cd", ((_entry(1).in_use, 30, 30),)))
    journal.ended({_entry(1).in_use: 30}, batch_dropped=True)  # the batch failed, cut back
    journal.close()

    state = _reopen(tmp_path)

    assert state.ends == {_entry(1).in_use: 30, _entry(2).in_use: 20}
    assert (state.pending, state.expect) == (None, Expectation(3, "ff"))


def test_a_journal_without_end_records_gives_no_end(tmp_path: Path) -> None:
    (tmp_path / "w.journal").write_text(f"open\t{_entry(1).in_use}\t{_entry(1).final}\n")

    state = _reopen(tmp_path)

    assert list(state.open.values()) == [_entry(1)]
    assert state.ends == {}


def _crash(sink: HdfsEventSink) -> None:
    """Drop a started sink without finishing its files, as a kill -9 would leave them."""
    assert sink._files is not None
    sink._files.journal.close()
    sink._files.fs.close()
    sink._files = None


def test_start_cuts_an_orphan_back_to_its_journaled_end(
    tmp_path: Path, make_local_sink: Callable[..., HdfsEventSink],
    make_channel: Callable[[list[Event]], MemoryChannel],
) -> None:
    crashed = make_local_sink(**{"hdfs.batchSize": "2"}, start=False)
    crashed.set_channel(make_channel([Event(b"e%d" % i) for i in range(4)]))
    crashed.start()
    while crashed.process() is Status.READY:
        pass
    _crash(crashed)
    [orphan] = (tmp_path / "out").iterdir()
    with orphan.open("ab") as out:
        out.write(b"e4\ne5\n")  # a batch whose writes were over before its record was

    make_local_sink().stop()

    [finished] = (tmp_path / "out").iterdir()
    assert finished.name == orphan.name.removesuffix(".tmp")
    assert finished.read_bytes() == b"e0\ne1\ne2\ne3\n"


def test_sink_journal_stays_bounded_over_many_rolled_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    make_local_sink: Callable[..., HdfsEventSink],
    make_channel: Callable[[list[Event]], MemoryChannel],
) -> None:
    monkeypatch.setattr(_journal, "_COMPACT_BYTES", 2048)
    sink = make_local_sink(**{"hdfs.rollCount": "1", "hdfs.batchSize": "5"})
    sink.set_channel(make_channel([Event(b"e%d" % i) for i in range(400)]))
    sizes = []
    while sink.process() is Status.READY:
        sizes.append((tmp_path / "state" / "a1.sinks.k1.journal").stat().st_size)

    assert len(sizes) == 80
    assert max(sizes) <= 2048 + 1024
    assert len(list((tmp_path / "out").iterdir())) == 400
    sink.stop()
    assert (tmp_path / "state" / "a1.sinks.k1.journal").read_text() == ""


def test_fingerprint_tells_apart_bodies_headers_and_order() -> None:
    from flume_sink_hdfs.sink import fingerprint

    base = [Event(b"a", {"k": "1"}), Event(b"b")]
    assert fingerprint(base) == fingerprint([Event(b"a", {"k": "1"}), Event(b"b")])
    others = [[Event(b"b"), Event(b"a", {"k": "1"})], [Event(b"a", {"k": "2"}), Event(b"b")],
              [Event(b"a"), Event(b"b")], [Event(b"ab", {"k": "1"})],
              [Event(b"a", {"k": "1"}), Event(b"b"), Event(b"")]]
    assert len({fingerprint(base), *(fingerprint(o) for o in others)}) == 1 + len(others)


def test_a_fingerprint_journaled_by_the_earlier_version_still_matches_its_redelivery() -> None:
    from flume_sink_hdfs._fingerprint import _fingerprint_v1, fingerprint, matches

    batch = [Event(b"a", {"k": "1", "j": "\u00e9"}), Event(b"b")]
    assert matches(batch, fingerprint(batch))
    assert matches(batch, _fingerprint_v1(batch))  # a journal written before the upgrade
    assert not matches(batch[:1], _fingerprint_v1(batch))
    assert not matches([Event(b"a", {"k": "1"}), Event(b"b")], fingerprint(batch))
