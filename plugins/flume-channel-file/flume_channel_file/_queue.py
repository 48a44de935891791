"""In-memory queue of the file channel: runs of events that point into the log.

Every put record becomes one :class:`Run`; the queue is a deque of ``[run, start, end]``
slices, so a million queued events cost one small object per put batch, not per event.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from typing import Any

__all__ = ["Run", "Slice", "SliceQueue", "TakeTicket", "subtract_ranges"]


class Run:
    """The events of one put record: where it is on disk and, while hot, the events."""

    __slots__ = ("cached_bytes", "count", "events", "first_seq", "length", "offset", "segment")

    def __init__(
        self, segment: int, offset: int, length: int, first_seq: int, count: int
    ) -> None:
        self.segment = segment
        self.offset = offset
        self.length = length
        self.first_seq = first_seq
        self.count = count
        self.events: list[Any] | None = None
        self.cached_bytes = 0


Slice = list[Any]
"""``[run, start, end]``: events ``start..end-1`` of ``run`` (mutable at the queue head)."""


class TakeTicket:
    """The slices one take transaction removed from the queue."""

    __slots__ = ("count", "slices")

    def __init__(self, slices: list[tuple[Run, int, int]], count: int) -> None:
        self.slices = slices
        self.count = count

    def seq_ranges(self) -> list[tuple[int, int]]:
        """``(first_seq, count)`` of every slice, in take order."""
        return [(run.first_seq + s, e - s) for run, s, e in self.slices]


class SliceQueue:
    """FIFO of slices with a running event count."""

    def __init__(self) -> None:
        self._slices: deque[Slice] = deque()
        self.size = 0

    def __iter__(self) -> Any:
        return iter(self._slices)

    def append(self, run: Run, start: int, end: int) -> None:
        """Add a slice at the tail."""
        self._slices.append([run, start, end])
        self.size += end - start

    def push_front(self, slices: list[tuple[Run, int, int]]) -> None:
        """Put ``slices`` back at the head, keeping their order (take rollback)."""
        for run, start, end in reversed(slices):
            self._slices.appendleft([run, start, end])
            self.size += end - start

    def pop_front(self, n: int) -> list[tuple[Run, int, int]]:
        """Remove up to ``n`` events from the head."""
        taken: list[tuple[Run, int, int]] = []
        slices = self._slices
        while n and slices:
            head = slices[0]
            run, start, end = head
            k = min(n, end - start)
            taken.append((run, start, start + k))
            if start + k == end:
                slices.popleft()
            else:
                head[1] = start + k
            n -= k
            self.size -= k
        return taken

    def replace(self, slices: list[tuple[Run, int, int]]) -> None:
        """Replace the whole content (used by replay)."""
        self._slices = deque([run, s, e] for run, s, e in slices)
        self.size = sum(e - s for _run, s, e in slices)


def subtract_ranges(
    slices: list[tuple[Run, int, int]], taken: list[tuple[int, int]]
) -> list[tuple[Run, int, int]]:
    """Remove the ``(first_seq, count)`` ranges in ``taken`` from ``slices``."""
    if not taken:
        return slices
    intervals = _merge_intervals(taken)
    starts = [a for a, _b in intervals]
    out: list[tuple[Run, int, int]] = []
    for run, s, e in slices:
        base = run.first_seq
        for a, b in _subtract_one(base + s, base + e, intervals, starts):
            out.append((run, a - base, b - base))
    return out


def _merge_intervals(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans = sorted((first, first + count) for first, count in ranges)
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _subtract_one(
    a: int, b: int, intervals: list[tuple[int, int]], starts: list[int]
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    i = max(bisect_right(starts, a) - 1, 0)
    cur = a
    while cur < b and i < len(intervals):
        lo, hi = intervals[i]
        i += 1
        if hi <= cur:
            continue
        if lo >= b:
            break
        if lo > cur:
            out.append((cur, lo))
        cur = max(cur, hi)
    if cur < b:
        out.append((cur, b))
    return out
