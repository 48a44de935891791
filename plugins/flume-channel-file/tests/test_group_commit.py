"""Group commit: committers that arrive while a sync runs share the next one."""

from __future__ import annotations

import threading

import pytest
from flume_channel_file._group_commit import GroupCommit
from flume_testkit import wait_until


class _GatedSync:
    """A sync that blocks until released and records the LSN each sync covered."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)
        self.covered: list[int] = []
        self.commits: GroupCommit | None = None
        self.fail_next = False

    def __call__(self) -> None:
        assert self.commits is not None
        self.covered.append(self.commits.appended)
        self.entered.release()
        self.gate.wait(timeout=10)
        if self.fail_next:
            self.fail_next = False
            raise OSError(5, "simulated EIO")


def _committer(commits: GroupCommit, lsn: int, done: list[int]) -> threading.Thread:
    thread = threading.Thread(target=lambda: (commits.wait_durable(lsn), done.append(lsn)))
    thread.start()
    return thread


def test_commits_appended_during_a_sync_wait_for_and_share_the_next_sync() -> None:
    sync = _GatedSync()
    commits = sync.commits = GroupCommit(sync)
    done: list[int] = []
    first = _committer(commits, commits.appended_bytes(10), done)
    assert sync.entered.acquire(timeout=10)  # the first commit leads a sync covering LSN 10
    later = [_committer(commits, commits.appended_bytes(10), done) for _ in range(3)]
    wait_until(lambda: commits.commits == 4, what="three committers waiting")
    assert done == []
    sync.gate.set()
    for thread in [first, *later]:
        thread.join(timeout=10)
    assert sorted(done) == [10, 20, 30, 40]
    assert sync.covered == [10, 40]
    assert commits.syncs == 2


def test_a_failed_sync_raises_in_its_leader_and_the_next_commit_syncs_again() -> None:
    sync = _GatedSync()
    commits = sync.commits = GroupCommit(sync)
    sync.gate.set()
    sync.fail_next = True
    lsn = commits.appended_bytes(10)
    with pytest.raises(OSError, match="simulated EIO"):
        commits.wait_durable(lsn)
    commits.wait_durable(lsn)
    assert commits.syncs == 1
    assert sync.covered == [10, 10]


def test_exclusive_block_marks_everything_durable_only_when_it_succeeds() -> None:
    calls: list[int] = []
    commits = GroupCommit(lambda: calls.append(1))
    lsn = commits.appended_bytes(10)
    with pytest.raises(RuntimeError), commits.exclusive():
        raise RuntimeError("seal failed")
    commits.wait_durable(lsn)
    assert calls == [1]
    lsn = commits.appended_bytes(10)
    with commits.exclusive():
        pass
    commits.wait_durable(lsn)
    assert calls == [1]
