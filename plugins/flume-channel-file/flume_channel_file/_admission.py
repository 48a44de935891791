"""Admission of a put: enough free disk space, and room in the channel's capacity.

Both refusals carry the numbers and the way out, and neither writes anything, so a
refused put leaves the log exactly as it was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from flume_channel_file._errors import CapacityError, OutOfSpaceError

__all__ = ["check_space", "wait_for_capacity"]


def check_space(
    dirs: Sequence[Path], free_space: Callable[[Path], int], minimum: int, size: int
) -> None:
    """Refuse a ``size``-byte record when any of ``dirs`` would fall under ``minimum`` free.

    Raises:
        OutOfSpaceError: naming the directory, what is free and what is needed.
    """
    for directory in dirs:
        free = free_space(directory)
        if free - size < minimum:
            msg = (
                f"put refused: {directory} has {free} bytes free, expected at least "
                f"minimumRequiredSpace={minimum} plus {size} for this batch; free disk "
                "space (puts resume by themselves) or lower minimumRequiredSpace"
            )
            raise OutOfSpaceError(msg)


def wait_for_capacity(
    n: int, capacity: int, keep_alive: float, usage: Callable[[], tuple[int, int]],
    room: threading.Condition,
) -> None:
    """Wait up to ``keep_alive`` seconds until ``n`` more events fit (``room`` is held).

    Args:
        n: events about to be put.
        capacity: most events the channel holds (queued plus being taken).
        keep_alive: seconds to wait for takes to make room.
        usage: ``(queued, being taken)`` right now.
        room: notified whenever a take commits; the caller holds it.

    Raises:
        CapacityError: still no room after ``keep_alive`` seconds.
    """
    deadline: float | None = None
    while sum(usage()) + n > capacity and n <= capacity:
        now = time.monotonic()
        deadline = deadline if deadline is not None else now + keep_alive
        if now >= deadline or not room.wait(deadline - now):
            break
    queued, inflight = usage()
    if queued + inflight + n > capacity:
        msg = (
            f"file channel is full: {queued} queued + {inflight} being taken + {n} new "
            f"events > capacity {capacity}; let sinks drain it, or raise capacity"
        )
        raise CapacityError(msg)
