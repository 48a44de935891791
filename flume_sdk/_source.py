"""Sources: where events enter an agent. They hand batches to their channel processor."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._lifecycle import Component
from flume_sdk._settings import at_least, setting

if TYPE_CHECKING:
    from flume_sdk._channel_processor import ChannelProcessor

__all__ = ["EventDrivenSource", "PollableSource", "PollableSourceSettings", "Source", "Status"]


class Status(enum.Enum):
    """What one ``process()`` call achieved: work was done, or the runner should back off."""

    READY = "READY"
    BACKOFF = "BACKOFF"


class Source(Component):
    """Base of every source. Events go to ``self.channel_processor``, never to a channel.

    A source acknowledges its client only after ``channel_processor.process_batch``
    returned: that is the moment the events are committed.
    """

    counter_kind: ClassVar[str] = "SOURCE"
    _channel_processor: ChannelProcessor | None = None

    @property
    def channel_processor(self) -> ChannelProcessor:
        if self._channel_processor is None:
            msg = f"source {self.name!r} has no channel processor; call set_channel_processor()"
            raise RuntimeError(msg)
        return self._channel_processor

    def set_channel_processor(self, processor: ChannelProcessor) -> None:
        self._channel_processor = processor

    @property
    def batch_size(self) -> int | None:
        """The most events this source puts in one transaction, if it batches."""
        value = getattr(self.settings, "batch_size", None)
        return int(value) if value is not None else None


@attrs.frozen(kw_only=True)
class PollableSourceSettings:
    """Flume's keys of every pollable source; a source's own settings class extends it."""

    backoff_sleep_increment: int = setting(default=1000, validator=at_least(1),
                                           help="ms added to the wait after each idle poll")
    max_backoff_sleep: int = setting(default=5000, validator=at_least(1),
                                     help="ms, the longest wait between idle polls")


class PollableSource(Source):
    """A source driven by a runner thread that calls :meth:`process` in a loop.

    ``process`` returns ``Status.BACKOFF`` when there was nothing to do; the runner
    then waits ``backoff_sleep_increment`` × consecutive backoffs, at most
    ``max_backoff_sleep`` seconds. A source whose settings extend
    :class:`PollableSourceSettings` takes both from Flume's keys (in ms).
    """

    backoff_sleep_increment: float = 1.0
    max_backoff_sleep: float = 5.0

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        if isinstance(self.settings, PollableSourceSettings):
            self.backoff_sleep_increment = self.settings.backoff_sleep_increment / 1000
            self.max_backoff_sleep = self.settings.max_backoff_sleep / 1000

    def process(self) -> Status:
        raise NotImplementedError  # pragma: no cover - abstract hook


class EventDrivenSource(Source):
    """A source that runs its own threads or sockets, started in ``do_start``."""
