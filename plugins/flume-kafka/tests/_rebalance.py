"""The join-then-leave scenario both rebalance tests run, and what they check at the end."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Sequence
from typing import Protocol

from flume_testkit import wait_until

__all__ = ["Member", "Producer", "assert_lossless", "join_then_leave"]


class Producer(Protocol):
    def start(self) -> None: ...

    def stop(self) -> int:
        """Stop (idempotent); return how many numbered records were sent."""


class Member(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None:
        """Leave the group (idempotent)."""

    def received(self) -> int: ...

    def bodies(self) -> list[str]: ...


def join_then_leave(producer: Producer, first: Member, second: Member) -> tuple[int, list[str]]:
    """While ``producer`` sends: ``first`` consumes alone, ``second`` joins mid-stream
    (rebalance 1), ``first`` leaves mid-stream (rebalance 2). Return the records sent and every
    body the two members got."""
    producer.start()
    try:
        first.start()
        wait_until(lambda: first.received() >= 500, timeout=30, what=f"{first.name} alone")
        second.start()  # rebalance 1: first gives up half the partitions
        wait_until(lambda: second.received() >= 500, timeout=40,
                   what=f"{second.name} consuming after joining")
        shared = first.received()
        wait_until(lambda: first.received() >= shared + 300, timeout=30,
                   what=f"{first.name} still consuming its half")
        first.stop()  # rebalance 2: second takes every partition
        taken_over = second.received()
        wait_until(lambda: second.received() >= taken_over + 1000, timeout=40,
                   what=f"{second.name} consuming all partitions")
        total = producer.stop()
        with contextlib.suppress(TimeoutError):  # the assertions say what is missing
            wait_until(lambda: len({*first.bodies(), *second.bodies()}) >= total, timeout=40)
    finally:
        producer.stop()
        first.stop()
        second.stop()
    return total, first.bodies() + second.bodies()


def assert_lossless(bodies: Sequence[str], total: int, *, partitions: int,
                    duplicates_allowed: int) -> None:
    """``bodies`` hold every number below ``total`` (sent to partition ``n % partitions``)
    and at most ``duplicates_allowed`` extra copies."""
    got = collections.Counter(bodies)
    missing = sorted({i for i in range(total) if str(i) not in got})
    assert not missing, f"{len(missing)} of {total} lost, by partition: " + str(
        collections.Counter(i % partitions for i in missing)) + f"; first {missing[:20]}"
    duplicates = sum(got.values()) - total
    assert duplicates <= duplicates_allowed, (
        f"{duplicates} duplicates (at most {duplicates_allowed} allowed)")
