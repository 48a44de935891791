"""The storage engine: a write-ahead log with group commit, checkpoints and replay.

A put transaction is written as ONE record at commit (so an uncommitted put never reaches
disk and a rollback writes nothing); a take commit writes one record naming the sequence
ranges it removed.  Writers append under a lock, then wait for a shared ``fdatasync``: the
first waiter syncs for everybody who wrote before it (group commit).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs

from flume_channel_file._checkpoint import CheckpointData, Piece, load_checkpoint, write_checkpoint
from flume_channel_file._damage import Damage, DamageKind, format_ranges
from flume_channel_file._dirlock import DirectoryLock
from flume_channel_file._errors import (
    CapacityError,
    OutOfSpaceError,
    StorageError,
    UnhealthyLogError,
)
from flume_channel_file._format import (
    RECORD_HEADER,
    EventLike,
    decode_events,
    encode_events,
    encode_put,
    encode_take,
    merge_ranges,
)
from flume_channel_file._group_commit import GroupCommit
from flume_channel_file._queue import Run, SliceQueue, TakeTicket
from flume_channel_file._replay import ReplayResult, quarantine_file, replay
from flume_channel_file._segments import (
    SegmentWriter,
    fsync_dir,
    list_segments,
    read_record,
    segment_name,
)

__all__ = ["Log", "LogConfig", "ReplayReport", "disk_free"]

E = TypeVar("E")
_PUT_OVERHEAD = RECORD_HEADER.size + 12


def disk_free(path: Path) -> int:
    """Bytes available to this user on the filesystem holding ``path``."""
    return shutil.disk_usage(path).free


@attrs.frozen(kw_only=True)
class LogConfig:
    """Everything the engine needs; the channel fills it from Flume's keys."""

    checkpoint_dir: Path
    data_dirs: tuple[Path, ...]
    backup_checkpoint_dir: Path | None = None
    capacity: int = 1_000_000
    max_file_size: int = 2_146_435_071
    minimum_required_space: int = 524_288_000
    fsync_per_transaction: bool = True
    keep_alive: float = 3.0
    preallocate_chunk: int = 64 << 20
    hot_cache_bytes: int = 32 << 20
    free_space: Callable[[Path], int] = disk_free


@attrs.define
class ReplayReport:
    """What :meth:`Log.open` found."""

    from_checkpoint: bool
    events: int
    records: int
    segments_scanned: int
    torn_tails: int
    damage: list[Damage]
    seconds: float


class Log(Generic[E]):
    """A durable FIFO of events; see the module docstring for the protocol."""

    def __init__(self, config: LogConfig, factory: Callable[[bytes, dict[str, str]], E]) -> None:
        self.config = config
        self._factory = factory
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._arrived = threading.Condition(self._lock)
        self._ckpt_mutex = threading.Lock()
        self._queue = SliceQueue()
        self._tickets: set[TakeTicket] = set()
        self._live: dict[int, int] = {}
        self._paths: dict[int, Path] = {}
        self._readers: dict[int, int] = {}
        self._quarantined: set[int] = set()
        self._locks: list[DirectoryLock] = []
        self._writer: SegmentWriter | None = None
        self._inflight = 0
        self._next_seq = 1
        self._commits = GroupCommit(self._fdatasync_active)
        self._must_roll = False
        self._cached = 0
        self._last_loaded: tuple[Run | None, list[Any]] = (None, [])
        self._generation = 0
        self._prev_ckpt: tuple[int, set[int]] | None = None
        self._unhealthy: str | None = None
        self.damage: list[Damage] = []
        self.torn_tails = 0
        self.checkpoint_errors = 0

    # ----------------------------------------------------------------- lifecycle
    def open(self) -> ReplayReport:
        """Lock the directories, replay, and start a fresh segment for writing."""
        started = time.monotonic()
        self._lock_dirs()
        try:
            return self._open_locked(started)
        except BaseException:
            self._release_dirs()
            raise

    def close(self, checkpoint: bool = True) -> None:
        """Checkpoint (optionally), seal the active segment and release the locks."""
        if self._writer is None:
            self._release_dirs()
            return
        try:
            if checkpoint and self._unhealthy is None:
                self.checkpoint()
        finally:
            with self._lock:
                writer, self._writer = self._writer, None
                if writer is not None and self._unhealthy is None:
                    writer.seal()
                elif writer is not None:
                    writer.close()
            for fd in self._readers.values():
                os.close(fd)
            self._readers.clear()
            self._release_dirs()

    def abandon(self) -> None:
        """Drop descriptors and locks without writing anything (a simulated crash)."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None and writer.fd >= 0:
            os.close(writer.fd)
            writer.fd = -1
        for fd in self._readers.values():
            os.close(fd)
        self._readers.clear()
        self._release_dirs()

    # -------------------------------------------------------------------- state
    @property
    def size(self) -> int:
        """Committed events waiting to be taken (excludes in-flight takes)."""
        return self._queue.size

    @property
    def inflight(self) -> int:
        """Events taken by transactions that have not committed yet."""
        return self._inflight

    @property
    def synced_position(self) -> tuple[int, int]:
        """``(segment id, bytes written)`` of the active segment (test helper)."""
        writer = self._writer
        return (writer.segment_id, writer.offset) if writer else (0, 0)

    @property
    def checkpoint_generation(self) -> int:
        """Generation of the last checkpoint written (0 before the first)."""
        return self._generation

    @property
    def group_commit(self) -> GroupCommit:
        """The shared-sync bookkeeping (``syncs`` and ``commits`` show how well it batches)."""
        return self._commits

    @property
    def healthy(self) -> bool:
        """False after a write or sync failure that needs a reopen."""
        return self._unhealthy is None

    @property
    def segment_count(self) -> int:
        """Number of segment files the channel still keeps."""
        return len(self._paths)

    # ---------------------------------------------------------------------- put
    def put(self, events: Sequence[EventLike]) -> None:
        """Durably append ``events`` as one committed batch."""
        n = len(events)
        if n == 0:
            return
        self._check_healthy()
        encoded = encode_events(events)
        crc = zlib.crc32(encoded)
        size = len(encoded) + _PUT_OVERHEAD
        self._check_space(size)
        with self._lock:
            self._wait_for_capacity(n)
            writer = self._writer_with_room(size)
            first = self._next_seq
            offset, lsn = self._append(writer, encode_put(encoded, crc, first, n))
            self._next_seq = first + n
            run = Run(writer.segment_id, offset, size - RECORD_HEADER.size, first, n)
            self._cache(run, events, len(encoded))
            self._queue.append(run, 0, n)
            self._live[run.segment] = self._live.get(run.segment, 0) + n
            self._arrived.notify()
        if self.config.fsync_per_transaction:
            self._commits.wait_durable(lsn)

    # --------------------------------------------------------------------- take
    def take(self, n: int, wait: float = 0.0) -> tuple[list[E], TakeTicket | None]:
        """Remove up to ``n`` events from the head; commit or roll back the ticket.

        Args:
            n: most events to take.
            wait: seconds to wait for a first event when the queue is empty.
        """
        with self._lock:
            if not self._queue.size and wait > 0:
                self._wait_for_events(wait)
            slices = self._queue.pop_front(n)
            count = sum(e - s for _r, s, e in slices)
            if not count:
                return [], None
            ticket = TakeTicket(slices, count)
            self._tickets.add(ticket)
            self._inflight += count
        return self._materialise(ticket), ticket

    def commit_take(self, ticket: TakeTicket) -> None:
        """Durably record that the ticket's events left the channel."""
        record = encode_take(merge_ranges(ticket.seq_ranges()))
        self._check_healthy()
        with self._lock:
            writer = self._writer_with_room(len(record))
            _offset, lsn = self._append(writer, [record])
            self._retire(ticket)
        if self.config.fsync_per_transaction:
            self._commits.wait_durable(lsn)

    def rollback_take(self, ticket: TakeTicket) -> None:
        """Return the ticket's events to the head of the queue, in order."""
        with self._lock:
            if ticket not in self._tickets:
                return
            self._tickets.discard(ticket)
            self._inflight -= ticket.count
            self._queue.push_front(ticket.slices)
            self._arrived.notify()

    # --------------------------------------------------------------- checkpoint
    def checkpoint(self) -> CheckpointData:
        """Write a checkpoint, then delete segments nobody needs any more."""
        with self._ckpt_mutex:
            with self._lock:
                data, lsn = self._snapshot()
            self._commits.wait_durable(lsn)
            dirs = [self.config.checkpoint_dir]
            if self.config.backup_checkpoint_dir is not None:
                dirs.append(self.config.backup_checkpoint_dir)
            try:
                write_checkpoint(data, dirs)
            except OSError:
                self.checkpoint_errors += 1
                raise
            self._generation = data.generation
            self._delete_unneeded(data)
            return data

    def sync(self) -> None:
        """Make everything written so far durable (used when fsyncPerTransaction=false)."""
        self._commits.sync_all()

    # ================================================================= internals
    def _lock_dirs(self) -> None:
        dirs = [self.config.checkpoint_dir, *self.config.data_dirs]
        if self.config.backup_checkpoint_dir is not None:
            dirs.append(self.config.backup_checkpoint_dir)
        for directory in dict.fromkeys(dirs):
            directory.mkdir(parents=True, exist_ok=True)
            lock = DirectoryLock(directory)
            lock.acquire()
            self._locks.append(lock)

    def _release_dirs(self) -> None:
        for lock in self._locks:
            lock.release()
        self._locks.clear()

    def _open_locked(self, started: float) -> ReplayReport:
        ckpt_dirs = [self.config.checkpoint_dir]
        if self.config.backup_checkpoint_dir is not None:
            ckpt_dirs.append(self.config.backup_checkpoint_dir)
        loaded = load_checkpoint(ckpt_dirs)
        bad_ckpts = [Damage(DamageKind.CORRUPT_CHECKPOINT, p, quarantined_to=p)
                     for p in loaded.quarantined]
        self._paths = self._list_all_segments()
        result = replay(self._paths, loaded.data)
        self._adopt(result, loaded.data)
        self._seal_newest(result)
        self._start_segment(max(self._paths, default=0) + 1)
        self.damage = bad_ckpts + result.damage
        self.torn_tails = result.torn_tails
        if loaded.data is not None:
            self._generation = loaded.data.generation
            older = loaded.older or loaded.data
            self._prev_ckpt = (older.log_segment, {p[0] for p in older.pieces})
        self.checkpoint()
        return ReplayReport(
            from_checkpoint=loaded.data is not None, events=self._queue.size,
            records=result.records, segments_scanned=result.segments_scanned,
            torn_tails=result.torn_tails, damage=self.damage,
            seconds=time.monotonic() - started,
        )

    def _list_all_segments(self) -> dict[int, Path]:
        found: dict[int, Path] = {}
        for data_dir in self.config.data_dirs:
            for where in (data_dir / "quarantine", data_dir):
                if where.is_dir():
                    found.update(list_segments(where))
        return found

    def _adopt(self, result: ReplayResult, ckpt: CheckpointData | None) -> None:
        self._queue.replace(result.slices)
        self._next_seq = max(result.next_seq, ckpt.next_seq if ckpt else 1)
        self._quarantined = set(result.quarantined)
        for path in self._paths.values():
            if path.parent.name == "quarantine":
                self._quarantined.add(int(path.name[4:16]))
        self._live = {seg: 0 for seg in self._paths}
        for run, s, e in result.slices:
            self._live[run.segment] = self._live.get(run.segment, 0) + (e - s)

    def _seal_newest(self, result: ReplayResult) -> None:
        newest = max(self._paths, default=None)
        if newest is None or result.newest_end is None or result.newest_sealed:
            return
        if newest in self._quarantined:
            return
        writer = SegmentWriter.reopen(self._paths[newest], newest, result.newest_end)
        writer.seal()

    def _start_segment(self, segment_id: int) -> None:
        data_dir = self.config.data_dirs[segment_id % len(self.config.data_dirs)]
        path = data_dir / segment_name(segment_id)
        chunk = min(self.config.preallocate_chunk, self.config.max_file_size)
        self._writer = SegmentWriter(path, segment_id, self.config.max_file_size, chunk,
                                     self._next_seq)
        self._paths[segment_id] = path
        self._live.setdefault(segment_id, 0)

    def _check_healthy(self) -> None:
        if self._unhealthy is not None:
            msg = f"file channel log is unhealthy ({self._unhealthy}); restart the channel"
            raise UnhealthyLogError(msg)
        if self._writer is None:
            raise StorageError("file channel log is not open; call open() first")

    def _check_space(self, size: int) -> None:
        minimum = self.config.minimum_required_space
        dirs = [self.config.checkpoint_dir, *self.config.data_dirs]
        for directory in dirs:
            free = self.config.free_space(directory)
            if free - size < minimum:
                msg = (
                    f"put refused: {directory} has {free} bytes free, expected at least "
                    f"minimumRequiredSpace={minimum} plus {size} for this batch; free disk "
                    "space (puts resume by themselves) or lower minimumRequiredSpace"
                )
                raise OutOfSpaceError(msg)

    def _wait_for_capacity(self, n: int) -> None:
        capacity = self.config.capacity
        deadline: float | None = None
        while self._queue.size + self._inflight + n > capacity:
            if n > capacity:
                break
            now = time.monotonic()
            deadline = deadline if deadline is not None else now + self.config.keep_alive
            if now >= deadline or not self._space.wait(deadline - now):
                break
        if self._queue.size + self._inflight + n > capacity:
            msg = (
                f"file channel is full: {self._queue.size} queued + {self._inflight} being "
                f"taken + {n} new events > capacity {capacity}; let sinks drain it, or raise "
                "capacity"
            )
            raise CapacityError(msg)

    def _wait_for_events(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        while not self._queue.size:
            left = deadline - time.monotonic()
            if left <= 0 or self._writer is None:
                return
            self._arrived.wait(left)

    def _writer_with_room(self, size: int) -> SegmentWriter:
        writer = self._writer
        if writer is None:
            raise StorageError("file channel log is closed")
        if self._must_roll or not writer.has_room(size):
            self._roll(writer)
            writer = self._writer
            assert writer is not None
        return writer

    def _roll(self, old: SegmentWriter) -> None:
        with self._commits.exclusive():
            old.seal()
            self._start_segment(old.segment_id + 1)
            self._must_roll = False

    def _append(self, writer: SegmentWriter, buffers: list[bytes]) -> tuple[int, int]:
        """Write one record; return its offset and the LSN its end reached."""
        try:
            offset = writer.append(buffers)
        except OSError as exc:
            # A partial record may sit at the end: seal over it at the next append.
            self._must_roll = True
            if exc.errno in (28, 122):
                msg = f"disk full while writing the file channel log: {exc}"
                raise OutOfSpaceError(msg) from exc
            raise StorageError(f"could not write the file channel log: {exc}") from exc
        return offset, self._commits.appended_bytes(sum(len(b) for b in buffers))

    def _cache(self, run: Run, events: Sequence[EventLike], nbytes: int) -> None:
        if self._cached + nbytes <= self.config.hot_cache_bytes:
            run.events = list(events)
            run.cached_bytes = nbytes
            self._cached += nbytes

    def _retire(self, ticket: TakeTicket) -> None:
        self._tickets.discard(ticket)
        self._inflight -= ticket.count
        for run, _s, e in ticket.slices:
            self._live[run.segment] -= e - _s
            if e == run.count and run.events is not None:
                self._cached -= run.cached_bytes
                run.events = None
                run.cached_bytes = 0
        self._space.notify_all()

    def _materialise(self, ticket: TakeTicket) -> list[E]:
        out: list[E] = []
        kept: list[tuple[Run, int, int]] = []
        for run, s, e in ticket.slices:
            events = run.events if run.events is not None else self._load(run)
            if events is None:
                self._lose(ticket, run, s, e)
                continue
            kept.append((run, s, e))
            out.extend(events[s:e])
        ticket.slices = kept
        return out

    def _load(self, run: Run) -> list[Any] | None:
        last_run, last_events = self._last_loaded
        if last_run is run:
            return last_events
        fd = self._reader(run.segment)
        payload = read_record(fd, run.offset, run.length) if fd >= 0 else None
        if payload is None:
            return None
        events = decode_events(payload, run.count, self._factory)
        self._last_loaded = (run, events)
        return events

    def _reader(self, segment: int) -> int:
        with self._lock:
            fd = self._readers.get(segment)
            if fd is None:
                path = self._paths.get(segment)
                if path is None:
                    return -1
                fd = self._readers[segment] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            return fd

    def _lose(self, ticket: TakeTicket, run: Run, s: int, e: int) -> None:
        with self._lock:
            ticket.count -= e - s
            self._inflight -= e - s
            self._live[run.segment] -= e - s
            path = self._paths.get(run.segment, Path(f"segment {run.segment}"))
            moved = None
            if run.segment not in self._quarantined and path.exists():
                moved = self._quarantine_live(run.segment, path)
        damage = Damage(DamageKind.CORRUPT_RECORD, path,
                        [(run.offset, run.offset + RECORD_HEADER.size + run.length)],
                        [(run.first_seq + s, e - s)], moved)
        self.damage.append(damage)

    def _quarantine_live(self, segment: int, path: Path) -> Path | None:
        if self._writer is not None and self._writer.segment_id == segment:
            self._must_roll = True
            return None
        moved = quarantine_file(path)
        self._paths[segment] = moved
        self._quarantined.add(segment)
        return moved

    def _snapshot(self) -> tuple[CheckpointData, int]:
        pieces: list[Piece] = []
        for ticket in self._tickets:
            pieces.extend(_piece(run, s, e) for run, s, e in ticket.slices)
        pieces.extend(_piece(run, s, e) for run, s, e in self._queue)
        writer = self._writer
        assert writer is not None
        data = CheckpointData(self._generation + 1, self._next_seq, writer.segment_id,
                              writer.offset, pieces)
        return data, self._commits.appended

    def _delete_unneeded(self, data: CheckpointData) -> None:
        refs = {p[0] for p in data.pieces}
        prev_start, prev_refs = self._prev_ckpt or (data.log_segment, refs)
        start = min(prev_start, data.log_segment)
        self._prev_ckpt = (data.log_segment, refs)
        with self._lock:
            doomed = [s for s in self._paths if s < start and s not in refs
                      and s not in prev_refs and self._live.get(s, 0) == 0]
            for seg in doomed:
                self._forget(seg)

    def _forget(self, seg: int) -> None:
        fd = self._readers.pop(seg, None)
        if fd is not None:
            os.close(fd)
        path = self._paths.pop(seg)
        self._live.pop(seg, None)
        if seg in self._quarantined:
            return  # quarantined files are evidence: never deleted
        path.unlink(missing_ok=True)
        fsync_dir(path.parent)

    def _fdatasync_active(self) -> None:
        writer = self._writer
        if writer is None or writer.fd < 0:
            return
        try:
            os.fdatasync(writer.fd)
        except OSError as exc:
            self._unhealthy = f"fdatasync failed: {exc}"
            raise UnhealthyLogError(f"could not sync the file channel log: {exc}") from exc


def _piece(run: Run, s: int, e: int) -> Piece:
    return (run.segment, run.offset, run.first_seq, run.length, run.count, s, e)


def describe_lost(damage: list[Damage]) -> str:
    """Summarise lost ranges over several damage reports."""
    ranges = [r for d in damage for r in d.lost_seqs]
    return format_ranges(ranges)
