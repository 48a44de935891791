"""A crash switch for kill -9 tests, off unless ``FLUME_HDFS_SINK_CRASH_AT`` is set.

``FLUME_HDFS_SINK_CRASH_AT=<point>[:<n>]`` makes the process SIGKILL itself the
``n``-th time (default the first) the sink reaches ``<point>``:

- ``before-append``: nothing of the batch is written or journaled;
- ``mid-append``: the batch is journaled and half of its first write is durable
  (a torn append);
- ``unjournaled-append``: every byte of the batch is durable but its journal
  record was not written (the record is written while the writes are in
  flight, so either may finish first);
- ``after-append``: every byte of the batch and its record are durable, the
  channel not committed;
- ``after-commit``: the channel committed, the journal does not know yet.
"""

from __future__ import annotations

import os
import signal

__all__ = ["CRASH_POINTS", "ENV", "CrashSwitch"]

ENV = "FLUME_HDFS_SINK_CRASH_AT"
CRASH_POINTS = ("before-append", "mid-append", "unjournaled-append", "after-append",
                "after-commit")


class CrashSwitch:
    """Reads :data:`ENV` once; :meth:`reached` kills the process at the armed point."""

    def __init__(self, spec: str | None = None) -> None:
        spec = os.environ.get(ENV, "") if spec is None else spec
        point, _, nth = spec.partition(":")
        if point and point not in CRASH_POINTS:
            msg = f"{ENV}={spec!r}: the point must be one of {', '.join(CRASH_POINTS)}"
            raise ValueError(msg)
        self.point = point or None
        self._left = int(nth or 1)

    def armed(self, point: str) -> bool:
        """True when reaching ``point`` now would crash (counts this visit)."""
        if point != self.point:
            return False
        self._left -= 1
        return self._left <= 0

    def reached(self, point: str) -> None:
        if self.armed(point):
            self.crash()

    @staticmethod
    def crash() -> None:
        os.kill(os.getpid(), signal.SIGKILL)
