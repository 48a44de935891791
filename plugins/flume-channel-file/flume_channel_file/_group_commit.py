"""Group commit: concurrent committers share one ``fdatasync``.

Every append advances a log sequence number (LSN, bytes appended so far).  A committer
that needs its record durable calls :meth:`GroupCommit.wait_durable` with the LSN its
append reached.  If no sync is running, it becomes the *leader*: it notes the LSN
appended so far, runs one ``fdatasync`` and marks everything up to that LSN durable.
Committers arriving while a sync runs wait for it; if their record was appended after
that sync started, one of them leads the next sync, which then covers all of them.  So
with a source thread putting and a sink thread taking, a put commit and a take commit
usually share one sync instead of paying one each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["GroupCommit"]


class GroupCommit:
    """Leader/follower ``fdatasync`` sharing.

    Args:
        sync: makes every byte appended so far durable (``fdatasync`` of the active
            segment); called without any lock held, by one thread at a time.

    Attributes:
        syncs: how many times ``sync`` ran.
        commits: how many :meth:`wait_durable` calls there were.
    """

    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync
        self._cond = threading.Condition()
        self._appended = 0
        self._durable = 0
        self._syncing = False
        self.syncs = 0
        self.commits = 0

    @property
    def appended(self) -> int:
        """LSN of the end of the last append."""
        return self._appended

    def appended_bytes(self, nbytes: int) -> int:
        """Record an append of ``nbytes`` (the caller serialises appends); return its LSN."""
        self._appended += nbytes
        return self._appended

    def wait_durable(self, lsn: int) -> None:
        """Return once a sync that started after ``lsn`` was appended has completed.

        Raises:
            Exception: whatever ``sync`` raised, in the thread that led the failed sync.
        """
        with self._cond:
            self.commits += 1
            while self._durable < lsn:
                if self._syncing:
                    self._cond.wait()
                    continue
                self._lead()

    def sync_all(self) -> None:
        """Make everything appended so far durable (fsyncPerTransaction=false, checkpoints)."""
        self.wait_durable(self._appended)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Run the block with no sync in flight; afterwards everything appended is durable.

        Used to switch segments: the block seals (and syncs) the old segment itself.
        """
        with self._cond:
            while self._syncing:
                self._cond.wait()
            self._syncing = True
        done = False
        try:
            yield
            done = True
        finally:
            with self._cond:
                self._syncing = False
                if done:
                    self._durable = self._appended
                self._cond.notify_all()

    def _lead(self) -> None:
        # Called with the condition held and no sync running.
        self._syncing = True
        target = self._appended
        self._cond.release()
        try:
            self._sync()
        finally:
            self._cond.acquire()
            self._syncing = False
            self._cond.notify_all()
        self.syncs += 1
        self._durable = max(self._durable, target)
