"""The storage engine: a durable FIFO of events over a write-ahead log.

A put transaction is written as ONE record at commit (so an uncommitted put never reaches
disk and a rollback writes nothing); a take commit writes one record naming the sequence
ranges it removed.  Writers append under a lock, then wait for a shared ``fdatasync``
(:mod:`._group_commit`).  A checkpoint snapshots the queue, then deletes the segments
:mod:`._retention` lets go.  Opening is :mod:`._recovery`; admission of puts (space,
capacity) is :mod:`._admission`; reading uncached events back is :mod:`._reader`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from flume_channel_file._admission import check_space, wait_for_capacity
from flume_channel_file._checkpoint import CheckpointData, Piece, write_checkpoint
from flume_channel_file._damage import Damage, DamageKind
from flume_channel_file._dirlock import DirectoryLock
from flume_channel_file._errors import (
    OutOfSpaceError,
    StorageError,
    UnhealthyLogError,
)
from flume_channel_file._format import (
    HEADER_SIZE,
    RECORD_HEADER,
    EventLike,
    encode_events,
    encode_put,
    encode_take,
    merge_ranges,
)
from flume_channel_file._group_commit import GroupCommit
from flume_channel_file._log_config import LogConfig, ReplayReport
from flume_channel_file._queue import Run, SliceQueue, TakeTicket
from flume_channel_file._reader import SegmentReader
from flume_channel_file._recovery import lock_dirs, recover
from flume_channel_file._replay import quarantine_file
from flume_channel_file._retention import Retention
from flume_channel_file._segments import (
    SegmentWriter,
    segment_name,
)
from flume_sdk import fsync_directory

__all__ = ["Log"]

E = TypeVar("E")
_PUT_OVERHEAD = RECORD_HEADER.size + 12


class Log(Generic[E]):
    """A durable FIFO of events; see the module docstring for the protocol."""

    def __init__(self, config: LogConfig, factory: Callable[[bytes, dict[str, str]], E]) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._arrived = threading.Condition(self._lock)
        self._ckpt_mutex = threading.Lock()
        self._queue = SliceQueue()
        self._tickets: set[TakeTicket] = set()
        self._live: dict[int, int] = {}
        self._paths: dict[int, Path] = {}
        self._quarantined: set[int] = set()
        self._locks: list[DirectoryLock] = []
        self._retention = Retention()
        self._reader = SegmentReader(self._paths.get, factory)
        self._writer: SegmentWriter | None = None
        self._inflight = 0
        self._next_seq = 1
        self._commits = GroupCommit(self._fdatasync_active)
        self._must_roll = False
        self._cached = 0
        self._generation = 0
        self._unhealthy: str | None = None
        self.damage: list[Damage] = []
        self.torn_tails = 0
        self.checkpoint_errors = 0

    # ----------------------------------------------------------------- lifecycle
    def open(self) -> ReplayReport:
        """Lock the directories, replay, and start a fresh segment for writing."""
        started = time.monotonic()
        self._locks = lock_dirs(self.config)
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
            self._reader.close()
            self._release_dirs()

    def abandon(self) -> None:
        """Drop descriptors and locks without writing anything (a simulated crash)."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None and writer.fd >= 0:
            os.close(writer.fd)
            writer.fd = -1
        self._reader.close()
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
        try:
            self._check_space(size)
        except OutOfSpaceError:
            if not self.reclaim():
                raise
            self._check_space(size)
        with self._lock:
            wait_for_capacity(n, self.config.capacity, self.config.keep_alive,
                              lambda: (self._queue.size, self._inflight), self._space)
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

    def _check_space(self, size: int) -> None:
        check_space([self.config.checkpoint_dir, *self.config.data_dirs],
                    self.config.free_space, self.config.minimum_required_space, size)

    def reclaim(self) -> bool:
        """When nothing is queued or in flight, roll the active segment and delete the old ones.

        Returns whether a segment was rolled (space may have been given back).
        """
        if not self._roll_if_drained():
            return False
        self.checkpoint()
        self.checkpoint()  # retention keeps what the previous checkpoint needed
        return True

    def _roll_if_drained(self) -> bool:
        with self._lock:
            writer = self._writer
            if writer is None or self._queue.size or self._inflight or \
                    writer.offset <= HEADER_SIZE or self._unhealthy is not None:
                return False
            with self._commits.exclusive():
                try:  # the new segment first: if the disk is too full, nothing changes
                    self._start_segment(writer.segment_id + 1)
                except OSError:
                    return False
                try:
                    writer.seal()
                except OSError:  # it holds no live event and goes at the next checkpoints
                    with contextlib.suppress(OSError):
                        writer.close()
            self._must_roll = False
            return True

    # --------------------------------------------------------------- checkpoint
    def checkpoint(self) -> CheckpointData:
        """Write a checkpoint, then delete segments nobody needs any more.

        A drained channel rolls its active segment first, so segments below ``maxFileSize``
        are given back too (within two checkpoints).
        """
        self._roll_if_drained()
        with self._ckpt_mutex:
            with self._lock:
                data, lsn = self._snapshot()
            self._commits.wait_durable(lsn)
            try:
                write_checkpoint(data, self.config.checkpoint_dirs)
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
    def _release_dirs(self) -> None:
        for lock in self._locks:
            lock.release()
        self._locks.clear()

    def _open_locked(self, started: float) -> ReplayReport:
        found = recover(self.config)
        self._paths.clear()
        self._paths.update(found.paths)
        self._queue.replace(found.result.slices)
        self._next_seq = found.next_seq
        self._quarantined = found.quarantined
        self._live = found.live
        self._start_segment(max(self._paths, default=0) + 1)
        self.damage = found.damage
        self.torn_tails = found.result.torn_tails
        if found.checkpoint is not None:
            self._generation = found.checkpoint.generation
            self._retention.remember(found.older or found.checkpoint)
        self.checkpoint()
        return ReplayReport(
            from_checkpoint=found.checkpoint is not None, events=self._queue.size,
            records=found.result.records, segments_scanned=found.result.segments_scanned,
            torn_tails=found.result.torn_tails, damage=self.damage,
            seconds=time.monotonic() - started,
        )

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
            events = run.events if run.events is not None else self._reader.load(run)
            if events is None:
                self._lose(ticket, run, s, e)
                continue
            kept.append((run, s, e))
            out.extend(events[s:e])
        ticket.slices = kept
        return out

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
        with self._lock:
            for seg in self._retention.unneeded(data, list(self._paths), self._live):
                self._forget(seg)

    def _forget(self, seg: int) -> None:
        self._reader.forget(seg)
        path = self._paths.pop(seg)
        self._live.pop(seg, None)
        if seg in self._quarantined:
            return  # quarantined files are evidence: never deleted
        path.unlink(missing_ok=True)
        fsync_directory(path.parent)

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
