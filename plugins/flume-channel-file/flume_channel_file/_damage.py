"""Reports of what replay or a read found wrong on disk."""

from __future__ import annotations

from pathlib import Path

import attrs

__all__ = ["Damage", "DamageKind", "format_ranges"]


class DamageKind:
    """The kinds of damage the engine reports."""

    TORN_TAIL = "torn-tail"
    CORRUPT_SEGMENT = "corrupt-segment"
    CORRUPT_CHECKPOINT = "corrupt-checkpoint"
    MISSING_SEGMENT = "missing-segment"
    CORRUPT_RECORD = "corrupt-record"


def format_ranges(ranges: list[tuple[int, int]]) -> str:
    """Render ``(first, count)`` sequence ranges as ``a..b`` (inclusive) text."""
    if not ranges:
        return "none"
    return ", ".join(f"{first}..{first + count - 1}" for first, count in ranges)


@attrs.define
class Damage:
    """One problem found on disk and what was done about it."""

    kind: str
    path: Path
    byte_ranges: list[tuple[int, int]] = attrs.Factory(list)
    lost_seqs: list[tuple[int, int]] = attrs.Factory(list)
    quarantined_to: Path | None = None

    @property
    def lost_events(self) -> int:
        """How many committed events this damage made unreadable."""
        return sum(count for _first, count in self.lost_seqs)

    def describe(self) -> str:
        """One line for logs and the ``check`` command."""
        spans = ", ".join(f"[{a}, {b})" for a, b in self.byte_ranges) or "-"
        where = f"; moved to {self.quarantined_to}" if self.quarantined_to else ""
        return (
            f"{self.kind}: {self.path} bytes {spans}; lost event sequence numbers "
            f"{format_ranges(self.lost_seqs)}{where}"
        )
