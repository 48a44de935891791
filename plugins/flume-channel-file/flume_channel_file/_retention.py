"""Which segments a checkpoint lets go.

A segment may be deleted once no queued or in-flight event lives in it, and neither the
newest checkpoint nor the one before it needs it (each names the segment its log
position is in and the segments its queue points into).  Keeping what the previous
checkpoint needs matters because a damaged newest slot makes a restart fall back to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flume_channel_file._checkpoint import CheckpointData

__all__ = ["Retention"]


class Retention:
    """Remembers the previous checkpoint's needs and picks the segments to delete."""

    def __init__(self) -> None:
        self._previous: tuple[int, set[int]] | None = None

    def remember(self, checkpoint: CheckpointData) -> None:
        """Seed with the checkpoint before the one a restart loaded."""
        self._previous = (checkpoint.log_segment, {p[0] for p in checkpoint.pieces})

    def unneeded(
        self, checkpoint: CheckpointData, segments: Iterable[int], live: Mapping[int, int]
    ) -> list[int]:
        """Segments free to delete now that ``checkpoint`` is written; remembers it.

        Args:
            checkpoint: the checkpoint just made durable.
            segments: every segment id the log still keeps.
            live: events still queued or in flight, per segment.
        """
        refs = {p[0] for p in checkpoint.pieces}
        prev_start, prev_refs = self._previous or (checkpoint.log_segment, refs)
        start = min(prev_start, checkpoint.log_segment)
        self._previous = (checkpoint.log_segment, refs)
        return [s for s in segments if s < start and s not in refs and s not in prev_refs
                and live.get(s, 0) == 0]
