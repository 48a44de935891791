"""How a group member's poll decides when to stop waiting, with a scripted consumer: the
moments (a join that ends just as the wait runs out, a first fetch slower than the wait)
cannot be placed on purpose with a real broker, where they happen only under load."""

from __future__ import annotations

import time
from collections.abc import Iterable

from flume_kafka._backend import TP, Listener, Record
from flume_kafka._group import GroupMember

_TP: TP = ("t", 0)


class _Member(GroupMember):
    def release(self, partitions: Iterable[TP], *, lost: bool) -> dict[TP, int]:
        return {}


class _SlowFirstFetch:
    """Joins on its first poll; the backlog's records arrive ``fetch_delay`` s after the join."""

    join_slice = 0.2

    def __init__(self, backlog: int, fetch_delay: float) -> None:
        self.backlog, self.fetch_delay = backlog, fetch_delay
        self.listener: Listener | None = None
        self.joined_at: float | None = None
        self.behind_calls = 0

    def subscribe(self, topics: list[str], pattern: str | None, listener: Listener) -> None:
        self.listener = listener

    def poll(self, timeout: float, max_records: int) -> list[Record]:
        assert self.listener is not None
        if self.joined_at is None:
            self.joined_at = time.monotonic()
            self.listener.assigned([_TP])
            return []
        if self.backlog and time.monotonic() - self.joined_at >= self.fetch_delay:
            count, self.backlog = min(self.backlog, max_records), self.backlog - min(
                self.backlog, max_records)
            return [("t", 0, i, -1, None, b"x", None) for i in range(count)]
        time.sleep(min(timeout, 0.01))
        return []

    def behind(self, timeout: float) -> bool:
        self.behind_calls += 1
        return self.backlog > 0


def _poll(consumer: _SlowFirstFetch, wait: float, join_wait: float) -> list[Record]:
    member = _Member(session_timeout=join_wait)
    member.join_wait = join_wait
    member.subscribe(consumer, topics=["t"])  # type: ignore[arg-type]
    got: list[Record] = []

    def fetch(timeout: float, wanted: int) -> bool:
        records = consumer.poll(timeout, wanted)
        got.extend(records)
        return bool(records)
    member.poll(consumer, wait, lambda: 0 if got else 10, fetch)  # type: ignore[arg-type]
    return got


def test_poll_after_a_join_waits_for_a_backlog_slower_than_the_poll_timeout() -> None:
    consumer = _SlowFirstFetch(backlog=3, fetch_delay=0.3)
    assert len(_poll(consumer, wait=0.02, join_wait=5.0)) == 3


def test_poll_after_a_join_over_an_empty_topic_returns_after_the_poll_timeout() -> None:
    consumer = _SlowFirstFetch(backlog=0, fetch_delay=0.0)
    began = time.monotonic()
    assert _poll(consumer, wait=0.02, join_wait=30.0) == []
    assert time.monotonic() - began < 10.0  # not the join wait: the broker said "nothing there"
    assert consumer.behind_calls == 1


def test_poll_after_a_join_gives_up_on_a_backlog_at_the_join_wait() -> None:
    consumer = _SlowFirstFetch(backlog=3, fetch_delay=60.0)
    assert _poll(consumer, wait=0.02, join_wait=0.5) == []  # not the records, 60 s later
