"""Rebuild the queue from the newest checkpoint plus the log written after it.

Replay never deletes anything.  A damaged segment is moved to ``quarantine/`` (its valid
records are still used from there); a torn tail of the newest segment is cut off and
counted; gaps in the put sequence numbers name exactly which committed events were lost.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from flume_channel_file._checkpoint import CheckpointData
from flume_channel_file._damage import Damage, DamageKind
from flume_channel_file._format import HEADER_SIZE, RecordType, decode_put_trailer, decode_take
from flume_channel_file._queue import Run, subtract_ranges
from flume_channel_file._segments import SegmentScan, scan_segment
from flume_sdk import fsync_directory

__all__ = ["ReplayResult", "quarantine_file", "replay"]


@attrs.define
class ReplayResult:
    """The queue and bookkeeping rebuilt from disk."""

    slices: list[tuple[Run, int, int]] = attrs.Factory(list)
    next_seq: int = 1
    damage: list[Damage] = attrs.Factory(list)
    torn_tails: int = 0
    records: int = 0
    segments_scanned: int = 0
    newest_end: int | None = None
    newest_sealed: bool = False
    quarantined: set[int] = attrs.Factory(set)


def quarantine_file(path: Path, suffix: str = "") -> Path:
    """Move ``path`` into ``quarantine/`` beside it (never deletes); return the new path."""
    if path.parent.name == "quarantine":
        return path
    target_dir = path.parent / "quarantine"
    target_dir.mkdir(exist_ok=True)
    target = target_dir / (path.name + suffix)
    n = 0
    while target.exists():
        n += 1
        target = target_dir / f"{path.name}{suffix}.{n}"
    os.replace(path, target)
    fsync_directory(path.parent)
    return target


def replay(
    paths: dict[int, Path], checkpoint: CheckpointData | None, quarantine: bool = True
) -> ReplayResult:
    """Rebuild the queue; ``paths`` is updated in place when segments are quarantined."""
    state = _Replay(paths, quarantine)
    return state.run(checkpoint)


class _Replay:
    def __init__(self, paths: dict[int, Path], quarantine: bool) -> None:
        self.paths = paths
        self.quarantine = quarantine
        self.result = ReplayResult()
        self.runs: dict[tuple[int, int], Run] = {}
        self.taken: list[tuple[int, int]] = []
        self.expected: int | None = None
        self.last_damage: Damage | None = None
        self.gaps: list[tuple[int, int]] = []

    def run(self, checkpoint: CheckpointData | None) -> ReplayResult:
        result = self.result
        newest = max(self.paths, default=0)
        if checkpoint is not None:
            self._load_checkpoint(checkpoint)
            start_seg, start_off = checkpoint.log_segment, checkpoint.log_offset
            self.expected = checkpoint.next_seq
            result.next_seq = checkpoint.next_seq
        else:
            start_seg, start_off = min(self.paths, default=0), HEADER_SIZE
        for seg in sorted(s for s in self.paths if s >= start_seg):
            offset = start_off if seg == start_seg else HEADER_SIZE
            self._scan(seg, offset, seg == newest)
        result.slices = subtract_ranges(result.slices, self.taken)
        result.slices = self._drop_missing(result.slices)
        return result

    def _load_checkpoint(self, checkpoint: CheckpointData) -> None:
        for seg, offset, first_seq, length, count, start, end in checkpoint.pieces:
            run = self._run_for(seg, offset, length, first_seq, count)
            self.result.slices.append((run, start, end))

    def _run_for(self, seg: int, offset: int, length: int, first_seq: int, count: int) -> Run:
        key = (seg, offset)
        run = self.runs.get(key)
        if run is None:
            run = self.runs[key] = Run(seg, offset, length, first_seq, count)
        return run

    def _scan(self, seg: int, offset: int, newest: bool) -> None:
        scan, records = scan_segment(self.paths[seg], seg, offset)
        self.result.segments_scanned += 1
        for record in records:
            self.result.records += 1
            if self.expected is None:
                self.expected = scan.first_seq
            if record.type == RecordType.PUT:
                self._on_put(seg, record.offset, record.payload)
            elif record.type == RecordType.TAKE:
                self.taken.extend(decode_take(record.payload))
        self._classify(scan, newest)
        for first, count in self.gaps:
            self._lost(first, count, seg)
        self.gaps.clear()

    def _on_put(self, seg: int, offset: int, payload: bytes) -> None:
        first_seq, count = decode_put_trailer(payload)
        if self.expected is not None and first_seq > self.expected:
            self.gaps.append((self.expected, first_seq - self.expected))
        self.expected = first_seq + count
        self.result.next_seq = max(self.result.next_seq, first_seq + count)
        run = self._run_for(seg, offset, len(payload), first_seq, count)
        self.result.slices.append((run, 0, count))

    def _lost(self, first: int, count: int, seg: int) -> None:
        damage = self.last_damage
        if damage is None:
            where = self.paths.get(seg, Path(f"segment {seg}"))
            damage = Damage(DamageKind.MISSING_SEGMENT, where)
            self.result.damage.append(damage)
        damage.lost_seqs.append((first, count))

    def _classify(self, scan: SegmentScan, newest: bool) -> None:
        seg = scan.segment_id
        if not scan.header_ok:
            self._bad_header(scan, newest)
            return
        if newest:
            self.result.newest_end = scan.end
            self.result.newest_sealed = scan.sealed
        if newest and scan.tail_damage is not None and not scan.damaged:
            self._torn_tail(seg, scan.tail_damage)
            return
        spans = list(scan.damaged)
        if scan.tail_damage is not None:
            spans.append(scan.tail_damage)
        elif not scan.sealed and not newest:
            spans.append((scan.end, scan.file_size))
        if spans:
            self._corrupt(seg, spans)

    def _bad_header(self, scan: SegmentScan, newest: bool) -> None:
        path = self.paths[scan.segment_id]
        kind = DamageKind.TORN_TAIL if newest else DamageKind.CORRUPT_SEGMENT
        moved = quarantine_file(path, ".bad-header") if self.quarantine else None
        del self.paths[scan.segment_id]
        self.result.quarantined.add(scan.segment_id)
        if newest:
            self.result.torn_tails += 1
            self.result.newest_end = None
        damage = Damage(kind, path, [(0, scan.file_size)], quarantined_to=moved)
        self.result.damage.append(damage)
        self.last_damage = damage

    def _torn_tail(self, seg: int, span: tuple[int, int]) -> None:
        path = self.paths[seg]
        self.result.torn_tails += 1
        self.result.damage.append(Damage(DamageKind.TORN_TAIL, path, [span]))
        if self.quarantine:
            # Cut at the first bad byte so the writer can seal the segment right there.
            os.truncate(path, span[0])
        self.result.newest_end = span[0]

    def _corrupt(self, seg: int, spans: list[tuple[int, int]]) -> None:
        path = self.paths[seg]
        moved = None
        if self.quarantine:
            moved = quarantine_file(path)
            self.paths[seg] = moved
            self.result.quarantined.add(seg)
        damage = Damage(DamageKind.CORRUPT_SEGMENT, path, spans, quarantined_to=moved)
        self.result.damage.append(damage)
        self.last_damage = damage

    def _drop_missing(self, slices: list[tuple[Run, int, int]]) -> list[tuple[Run, int, int]]:
        kept: list[tuple[Run, int, int]] = []
        missing: dict[int, Damage] = {}
        for run, s, e in slices:
            if run.segment in self.paths:
                kept.append((run, s, e))
                continue
            damage = missing.get(run.segment)
            if damage is None:
                damage = Damage(DamageKind.MISSING_SEGMENT, Path(f"segment {run.segment}"))
                missing[run.segment] = damage
                self.result.damage.append(damage)
            damage.lost_seqs.append((run.first_seq + s, e - s))
        return kept
