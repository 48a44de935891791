"""``seq``: emits counter bodies 0, 1, 2, ...; a refused batch is retried with the same bodies."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    Clock,
    Event,
    PollableSource,
    PollableSourceSettings,
    Status,
    at_least,
    setting,
)

__all__ = ["SequenceSource"]


@attrs.frozen(kw_only=True)
class SequenceSourceSettings(PollableSourceSettings):
    batch_size: int = setting(default=1, validator=at_least(1), help="events per transaction")
    total_events: int = setting(default=(1 << 63) - 1, validator=at_least(0),
                                help="stop after this many events")


class SequenceSource(PollableSource):
    """A load generator and smoke-test source."""

    Settings: ClassVar[type] = SequenceSourceSettings
    settings: SequenceSourceSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self.next_value = 0

    def process(self) -> Status:
        total = self.settings.total_events
        start = self.next_value
        if start >= total:
            return Status.BACKOFF
        stop = min(start + self.settings.batch_size, total)
        delivered = self.deliver([Event(str(i).encode()) for i in range(start, stop)])
        self.next_value = start + delivered.accepted
        return Status.READY if delivered else Status.BACKOFF
