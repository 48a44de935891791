"""Real channels for tests: a started memory channel, and reading what a component committed."""

from __future__ import annotations

from flume_sdk import Channel, Event
from flume_sdk.components.memory_channel import MemoryChannel

__all__ = ["memory_channel", "take_all"]


def memory_channel(capacity: int = 10_000, *, transaction_capacity: int | None = None,
                   keep_alive: float = 0.0, name: str = "c1") -> MemoryChannel:
    """A started kernel memory channel (the caller stops it).

    ``transaction_capacity`` defaults to ``min(capacity, 1000)``; ``keep_alive`` is how
    long a put waits for room and a take for an event before giving up (seconds).
    """
    channel = MemoryChannel.from_config(name, {
        "capacity": str(capacity),
        "transactionCapacity": str(transaction_capacity or min(capacity, 1000)),
        "keep-alive": str(keep_alive)})
    channel.start()
    return channel


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
