"""Reading put records back from their segments for takes of events no longer cached.

One read-only descriptor per segment, opened on first use; the last decoded record is
kept, since consecutive takes usually come from the same put.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flume_channel_file._format import decode_events
from flume_channel_file._queue import Run
from flume_channel_file._segments import read_record

__all__ = ["SegmentReader"]


class SegmentReader:
    """Decodes the events of a :class:`Run` from disk.

    Args:
        path_of: where segment ``id`` is now (``None`` once it is gone).
        factory: builds an event from ``(body, headers)``.
    """

    def __init__(
        self, path_of: Callable[[int], Path | None], factory: Callable[[bytes, dict[str, str]], Any]
    ) -> None:
        self._path_of = path_of
        self._factory = factory
        self._lock = threading.Lock()
        self._fds: dict[int, int] = {}
        self._last: tuple[Run | None, list[Any]] = (None, [])

    def load(self, run: Run) -> list[Any] | None:
        """The run's events, or ``None`` when its record is missing or fails its checksum."""
        last_run, last_events = self._last
        if last_run is run:
            return last_events
        fd = self._fd(run.segment)
        payload = read_record(fd, run.offset, run.length) if fd >= 0 else None
        if payload is None:
            return None
        events = decode_events(payload, run.count, self._factory)
        self._last = (run, events)
        return events

    def forget(self, segment: int) -> None:
        """Close the segment's descriptor (it is being deleted or moved)."""
        with self._lock:
            fd = self._fds.pop(segment, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        """Close every descriptor."""
        with self._lock:
            fds, self._fds = self._fds, {}
        for fd in fds.values():
            os.close(fd)

    def _fd(self, segment: int) -> int:
        with self._lock:
            fd = self._fds.get(segment)
            if fd is None:
                path = self._path_of(segment)
                if path is None:
                    return -1
                fd = self._fds[segment] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            return fd
