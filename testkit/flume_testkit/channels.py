"""Reading what a component under test committed into a real channel."""

from __future__ import annotations

from flume_sdk import Channel, Event

__all__ = ["take_all"]


def take_all(channel: Channel, *, batch: int = 1000, limit: int = 10_000_000) -> list[Event]:
    """Take and commit every event ``channel`` holds now, in order (at most ``limit``).

    ``batch`` must not exceed the channel's transactionCapacity.
    """
    out: list[Event] = []
    while len(out) < limit:
        with channel.transaction() as tx:
            got = tx.take_batch(min(batch, limit - len(out)))
        if not got:
            break
        out.extend(got)
    return out
