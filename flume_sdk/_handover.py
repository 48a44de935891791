"""Reload without loss: replaced in-memory channels hand their events over in the background.

A reload that changes a memory channel (say, shrinks its capacity below its fill)
cannot move every queued event into the replacement at once. The old channel is
therefore kept open and a :class:`HandOver` thread moves its events, batch by
batch, into whatever channel of that name the agent runs now (a later reload may
replace the successor too), waiting while the successor is full. The old channel
stops only when it is empty. ``/health`` lists what is still pending.

A reload that removes (or renames) an in-memory channel that still holds events
is refused instead: nothing would ever drain it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flume_sdk._channel import Channel
from flume_sdk._errors import ChannelException, Problem

__all__ = ["HandOver", "lost_by_removal"]

log = logging.getLogger("flume_sdk.agent")

_RETRY = 0.2


class HandOver:
    """Moves the events of ``old`` into ``successor()`` until ``old`` is empty.

    Args:
        old: the replaced channel, still started; stopped once empty.
        successor: the channel of the same name the agent runs now (or None while none).
    """

    def __init__(self, old: Channel, successor: Callable[[], Channel | None]) -> None:
        self.old = old
        self._successor = successor
        self._stopping = threading.Event()
        self.moved = 0
        self._thread = threading.Thread(target=self._run, name=f"handover-{old.name}",
                                        daemon=True)

    @property
    def pending(self) -> int:
        """Events still in the old channel."""
        return self.old.size

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop moving; events left in the old channel are reported as lost."""
        self._stopping.set()
        self._thread.join(timeout)
        if self.old.size:
            log.error("channel %s stopped with %d event(s) of its replaced configuration still "
                      "queued in memory; they are lost", self.old.name, self.old.size)
        self._close_old()

    def _run(self) -> None:
        while not self._stopping.is_set() and self.old.size:
            target = self._successor()
            if target is self.old:
                target = None
            try:
                moved = _move_batch(self.old, target) if target is not None else 0
            except ChannelException as exc:  # the successor is full: wait for its sinks
                log.debug("hand-over of %s waits: %s", self.old.name, exc)
                moved = 0
            self.moved += moved
            if not moved:
                self._stopping.wait(_RETRY)
        if not self.old.size:
            log.info("the replaced channel %s handed over all its events (%d moved in the "
                     "background)", self.old.name, self.moved)
            self._close_old()

    def _close_old(self) -> None:
        try:
            self.old.stop()
        except Exception as exc:
            log.error("stopping the replaced channel %s failed: %s", self.old.name, exc)


def _move_batch(source: Channel, target: Channel) -> int:
    batch = max(1, min(source.transaction_capacity, target.transaction_capacity))
    with source.transaction() as take:
        events = take.take_batch(batch)
        if events:
            with target.transaction() as put:
                put.put_batch(events)
    return len(events)


def lost_by_removal(old: dict[str, Channel], new: dict[str, Channel],
                    agent: str) -> list[Problem]:
    """Problems for in-memory channels with events that the new configuration removes."""
    return [Problem(f"{agent}.channels.{name}",
                    f"holds {channel.size} event(s) in memory and the new configuration removes "
                    "it; the reload is refused so they are not lost",
                    suggestion="first remove the sources that feed it and let its sinks drain "
                    "it, then remove the channel")
            for name, channel in old.items()
            if name not in new and not channel.durable and channel.size]
