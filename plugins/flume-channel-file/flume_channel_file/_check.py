"""Offline verification of a file channel's directories (``flume-ng channel check``).

Read-only: nothing is truncated, moved or deleted.  Every segment is scanned in full
(not only the part after the checkpoint), every checkpoint slot is verified, and the
queue a restart would rebuild is computed, with lost event ranges named; ``--events``
lists the queued events themselves.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import attrs

from flume_channel_file._checkpoint import CheckpointData
from flume_channel_file._damage import Damage, DamageKind
from flume_channel_file._dirlock import LOCK_NAME, DirectoryInUseError, DirectoryLock
from flume_channel_file._format import decode_events
from flume_channel_file._queue import Run
from flume_channel_file._replay import replay
from flume_channel_file._segments import list_segments, read_record, scan_segment

__all__ = ["CheckReport", "SegmentSummary", "check_channel", "main"]

_SLOTS = ("checkpoint.0", "checkpoint.1")


@attrs.define
class SegmentSummary:
    """One segment as the checker saw it."""

    segment_id: int
    path: Path
    size: int
    records: int
    sealed: bool
    problems: list[str] = attrs.Factory(list)


@attrs.define
class CheckReport:
    """Everything :func:`check_channel` found."""

    checkpoints: list[tuple[Path, int | None]] = attrs.Factory(list)
    segments: list[SegmentSummary] = attrs.Factory(list)
    queued_events: int = 0
    damage: list[Damage] = attrs.Factory(list)
    in_use_by: list[str] = attrs.Factory(list)
    events: list[tuple[dict[str, str], bytes]] | None = None

    @property
    def ok(self) -> bool:
        """No damage and no segment problem."""
        return not self.damage and not any(s.problems for s in self.segments)

    def render(self) -> str:
        """Human-readable report."""
        lines = [f"directory in use: {who}" for who in self.in_use_by]
        for path, gen in self.checkpoints:
            state = f"generation {gen}" if gen is not None else "DAMAGED"
            lines.append(f"checkpoint {path}: {state}")
        for seg in self.segments:
            status = "; ".join(seg.problems) or ("sealed" if seg.sealed else "open (newest)")
            lines.append(f"segment {seg.path}: {seg.size} bytes, {seg.records} records, {status}")
        lines.extend(d.describe() for d in self.damage)
        lines.append(f"events a restart would queue: {self.queued_events}")
        lines.append("result: OK" if self.ok else "result: PROBLEMS FOUND")
        return "\n".join(lines)


def check_channel(dirs: Sequence[Path | str], *, list_events: bool = False) -> CheckReport:
    """Verify the checkpoint and data directories in ``dirs`` without changing them.

    Args:
        dirs: the channel's checkpointDir and dataDirs (backupCheckpointDir too, if any).
        list_events: also decode the queued events, head first, into ``report.events``
            as ``(headers, body)`` pairs.
    """
    paths = [Path(d) for d in dirs]
    report = CheckReport()
    report.in_use_by = _who_holds(paths)
    best = _check_checkpoints(paths, report)
    segments: dict[int, Path] = {}
    for directory in paths:
        for where in (directory / "quarantine", directory):
            if where.is_dir():
                segments.update(list_segments(where))
    newest = max(segments, default=None)
    for seg_id in sorted(segments):
        report.segments.append(_check_segment(seg_id, segments[seg_id], seg_id == newest))
    result = replay(dict(segments), best, quarantine=False)
    report.damage.extend(result.damage)
    report.queued_events = sum(e - s for _r, s, e in result.slices)
    if list_events:
        report.events = _queued_events(segments, result.slices)
    return report


def _queued_events(
    segments: dict[int, Path], slices: list[tuple[Run, int, int]]
) -> list[tuple[dict[str, str], bytes]]:
    out: list[tuple[dict[str, str], bytes]] = []
    fds: dict[int, int] = {}
    try:
        for run, s, e in slices:
            fd = fds.get(run.segment)
            if fd is None:
                fd = fds[run.segment] = os.open(segments[run.segment], os.O_RDONLY)
            payload = read_record(fd, run.offset, run.length)
            if payload is None:  # replay vouched for it; a change under our feet
                msg = f"segment {segments[run.segment]} changed while it was being checked"
                raise OSError(msg)
            events = decode_events(payload, run.count, lambda b, h: (h, b))
            out.extend(events[s:e])
    finally:
        for fd in fds.values():
            os.close(fd)
    return out


def _event_line(headers: dict[str, str], body: bytes) -> str:
    head = "{" + ", ".join(f"{k}={v}" for k, v in headers.items()) + "}"
    return f"{head} {body.decode('utf-8', 'backslashreplace')}"


def _who_holds(paths: list[Path]) -> list[str]:
    held: list[str] = []
    for directory in paths:
        if not (directory / LOCK_NAME).exists():
            continue
        lock = DirectoryLock(directory)
        try:
            lock.acquire()
        except DirectoryInUseError as exc:
            held.append(f"{directory} (pid {exc.holder}); the report may be stale")
        else:
            lock.release()
    return held


def _check_checkpoints(paths: list[Path], report: CheckReport) -> CheckpointData | None:
    best: CheckpointData | None = None
    for directory in paths:
        for slot in _SLOTS:
            path = directory / slot
            if not path.exists():
                continue
            data = CheckpointData.decode(path.read_bytes())
            report.checkpoints.append((path, data.generation if data else None))
            if data is None:
                report.damage.append(Damage(DamageKind.CORRUPT_CHECKPOINT, path))
            elif best is None or data.generation > best.generation:
                best = data
    return best


def _check_segment(seg_id: int, path: Path, newest: bool) -> SegmentSummary:
    scan, records = scan_segment(path, seg_id)
    count = sum(1 for _ in records)
    summary = SegmentSummary(seg_id, path, scan.file_size, count, scan.sealed)
    if not scan.header_ok:
        summary.problems.append("bad segment header")
    for start, end in scan.damaged:
        summary.problems.append(f"damaged bytes [{start}, {end})")
    if scan.tail_damage is not None:
        kind = "torn tail" if newest else "damaged tail"
        summary.problems.append(f"{kind} at bytes [{scan.tail_damage[0]}, {scan.tail_damage[1]})")
    if scan.header_ok and not scan.sealed and not newest:
        summary.problems.append("not sealed (records missing at the end)")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """``check --dir DIR [--dir DIR ...]``: print the report; exit 0 if clean, 1 if not."""
    parser = argparse.ArgumentParser(
        prog="flume-ng channel", description="file channel offline tools",
        epilog="example:\n  flume-ng channel check --dir /var/lib/flume/checkpoint "
        "--dir /var/lib/flume/data", formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="verify checkpoint and data directories (read-only)")
    check.add_argument("--dir", action="append", required=True, type=Path,
                       help="a checkpointDir or dataDir (repeat, or comma-separate)")
    check.add_argument("--events", action="store_true",
                       help="also print every queued event, head first, as '{headers} body'")
    args = parser.parse_args(argv)
    dirs = [Path(p) for d in args.dir for p in str(d).split(",") if p]
    missing = [d for d in dirs if not d.is_dir()]
    if missing:
        parser.error(f"not a directory: {', '.join(map(str, missing))}")
    report = check_channel(dirs, list_events=args.events)
    print(report.render())
    for headers, body in report.events or ():
        print(_event_line(headers, body))
    return 0 if report.ok else 1
