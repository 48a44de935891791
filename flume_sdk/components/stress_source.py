"""``org.apache.flume.source.StressSource`` (alias ``stress``): Flume's load generator.

Every event carries the same ``size``-byte body of random letters and digits.
``maxTotalEvents`` bounds the events
*offered* (failed batches count, as in Flume), ``maxSuccessfulEvents`` the events
committed; ``maxEventsPerSecond`` paces the batches on the component's clock.
"""

from __future__ import annotations

import random
import string
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

__all__ = ["StressSource", "StressSourceSettings"]

_UNLIMITED = -1
_LONGEST_PACING_SLEEP = 0.1


@attrs.frozen(kw_only=True)
class StressSourceSettings(PollableSourceSettings):
    size: int = setting(default=500, validator=at_least(0), help="body bytes of every event")
    max_total_events: int = setting(default=_UNLIMITED, validator=at_least(-1),
                                    help="events offered, including failed ones; -1 = unlimited")
    max_successful_events: int = setting(default=_UNLIMITED, validator=at_least(-1),
                                         help="events committed; -1 = unlimited")
    batch_size: int = setting(default=1, validator=at_least(1), help="events per transaction")
    max_events_per_second: int = setting(default=0, validator=at_least(0),
                                         help="pace of the events; 0 = as fast as possible")


def _printable_body(size: int) -> bytes:
    """Random letters and digits: no newline, so text sinks keep one event per line."""
    alphabet = (string.ascii_letters + string.digits).encode()
    return bytes(random.choices(alphabet, k=size))


class StressSource(PollableSource):
    """Offers ``batchSize`` identical events per ``process()`` until a limit is reached."""

    Settings: ClassVar[type] = StressSourceSettings
    settings: StressSourceSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self.total_events = 0
        self.successful_events = 0
        self._body = _printable_body(self.settings.size)
        self._paced_from: float | None = None

    def do_start(self) -> None:
        self._paced_from = None

    def _next_batch(self) -> int:
        """How many events the next batch may hold (0 once a limit is reached)."""
        count = self.settings.batch_size
        for limit, done in ((self.settings.max_total_events, self.total_events),
                            (self.settings.max_successful_events, self.successful_events)):
            if limit != _UNLIMITED:
                count = min(count, limit - done)
        return max(count, 0)

    def _ahead_of_pace(self) -> bool:
        """With ``maxEventsPerSecond``, wait (briefly) until the next batch is due."""
        rate = self.settings.max_events_per_second
        if not rate:
            return False
        now = self.clock.monotonic()
        if self._paced_from is None:
            self._paced_from = now
        due = self._paced_from + self.total_events / rate
        if now >= due:
            return False
        self.clock.sleep(min(due - now, _LONGEST_PACING_SLEEP))
        return self.clock.monotonic() < due

    def process(self) -> Status:
        count = self._next_batch()
        if count == 0:
            return Status.BACKOFF
        if self._ahead_of_pace():
            return Status.READY
        self.total_events += count
        delivered = self.deliver([Event(self._body) for _ in range(count)])
        self.successful_events += delivered.accepted
        return Status.READY if delivered else Status.BACKOFF
