"""Group membership shared by the Kafka source and channel: polling through (re-)joins and
seeking back partitions a rebalance hands back to the same member.

kafka-python 3.0.12 turns the heartbeat off for a join and on again only when a ``poll()``
collects the join's result. A member that stops polling while its JoinGroup is held (tansu
holds each for half a session; a sink runner backs off after an empty take, a source after an
empty batch) is evicted for missing heartbeats and joins again, and again: it never consumes.
librdkafka heartbeats from its own thread but hands the assignment over only inside a poll.
So while the group is (re-)joining, :meth:`GroupMember.poll` keeps polling, in slices of the
backend's ``join_slice``, for up to ``join_wait`` (a session timeout and a margin) instead of
returning after its usual wait. This holds for every rebalance, not just the first join,
and for both backends.

kafka-python also keeps the fetch position of a partition it gives back to the same member in
the same rebalance. Records the component dropped when the partition was revoked (a source's
half-filled batch, a channel's fetched but untaken records) would then be skipped: such
partitions start again at the first record dropped (both backends, so neither depends on
where its library resumes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping

from flume_kafka._backend import TP, Consumer

__all__ = ["JOIN_MARGIN", "GroupMember"]

#: Added to the session timeout to bound a join: coordinator lookup and the member-id round trip.
JOIN_MARGIN = 5.0


class GroupMember:
    """A consumer's :class:`~flume_kafka._backend.Listener` that knows whether the member
    holds an assignment.

    Subclasses implement :meth:`release`: forget what they hold of revoked or lost partitions
    and say where each revoked partition must resume if it comes back to this member.
    """

    def __init__(self, session_timeout: float) -> None:
        self.joined = False
        self.join_wait = session_timeout + JOIN_MARGIN
        self._rewind: dict[TP, int] = {}
        self._wakes = 0
        self._wakes_lock = threading.Lock()

    def subscribe(self, consumer: Consumer, *, topics: list[str],
                  pattern: str | None = None) -> None:
        """Subscribe ``consumer`` with this listener; the member has not joined yet."""
        self.joined, self._rewind = False, {}
        consumer.subscribe(topics, pattern, self)

    def wake(self) -> None:
        """End a :meth:`poll` waiting for a join now (its runner is stopping)."""
        with self._wakes_lock:
            self._wakes += 1

    def poll(self, consumer: Consumer, wait: float, room: Callable[[], int],
             fetch: Callable[[float, int], bool]) -> None:
        """Call ``fetch(timeout, wanted)`` (one poll of ``consumer`` that keeps what it read
        and says whether anything came) until ``room()`` is 0 or ``wait`` seconds passed;
        while the group
        is (re-)joining, keep polling up to ``join_wait`` (or until :meth:`wake`); a join
        that completes starts ``wait`` afresh, so the new assignment gets a full poll, and
        polling goes on (up to ``join_wait``) while the new assignment has records behind its
        position that have not arrived yet: the first fetch after a join (committed offsets,
        then a fetch) can take longer than ``wait`` on a loaded machine, and an empty result
        must mean an empty topic.

        Deadlines are real time: ``poll()`` blocks for real even under a fake clock.
        """
        now = time.monotonic()
        deadline = now + wait
        join_deadline = max(deadline, now + self.join_wait)
        wakes, was_joined = self._wakes, self.joined
        fresh = False  # a join completed in this poll and nothing came since
        while (wanted := room()) > 0 and wakes == self._wakes:
            joined, now = self.joined, time.monotonic()
            if joined and not was_joined:
                deadline, fresh = max(deadline, now + wait), True
            was_joined = joined
            remaining = (deadline if joined else join_deadline) - now
            if remaining <= 0:
                if not (fresh and now < join_deadline and consumer.behind(join_deadline - now)):
                    break
                deadline = min(join_deadline, now + wait)
                continue
            if fetch(remaining if joined else min(remaining, consumer.join_slice), wanted):
                fresh = False

    # -- Listener (called inside consumer.poll) -----------------------------------------------

    def release(self, partitions: Iterable[TP], *, lost: bool) -> dict[TP, int]:
        """Forget what is held of ``partitions``; return where each must resume if it comes
        back (``lost``: the member was evicted, nothing can be committed)."""
        raise NotImplementedError  # pragma: no cover - abstract hook

    def revoked(self, partitions: list[TP]) -> None:
        self.joined = False  # both libraries revoke first on every (re-)join
        for tp, offset in self.release(partitions, lost=False).items():
            self._rewind[tp] = min(offset, self._rewind.get(tp, offset))

    def lost(self, partitions: list[TP]) -> None:
        """Evicted: positions restart from the committed offsets, so nothing to rewind."""
        self.joined = False
        self.release(partitions, lost=True)
        self._rewind.clear()

    def assigned(self, partitions: list[TP]) -> Mapping[TP, int]:
        """Kept partitions start at their dropped records; the join is complete."""
        rewind, self._rewind = self._rewind, {}
        self.joined = True
        return {tp: rewind[tp] for tp in partitions if tp in rewind}
