"""``null``: takes and discards events (a benchmark and plumbing aid)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import attrs

from flume_sdk import BatchSink, Event, at_least, setting

__all__ = ["NullSink"]


@attrs.frozen(kw_only=True)
class NullSinkSettings:
    batch_size: int = setting(default=100, validator=at_least(1), help="events per transaction")


class NullSink(BatchSink):
    """Discards every event it takes, committing each batch."""

    Settings: ClassVar[type] = NullSinkSettings

    def deliver(self, events: Sequence[Event]) -> None:
        """Nothing to write: the batch is consumed."""
