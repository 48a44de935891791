"""Exclusive directory locks so two agents never open the same channel directories."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from flume_sdk import FlumeError

__all__ = ["LOCK_NAME", "DirectoryInUseError", "DirectoryLock"]

LOCK_NAME = "in_use.lock"


class DirectoryInUseError(FlumeError, OSError):
    """Another process (or another channel in this process) holds the directory."""

    def __init__(self, directory: Path, holder: str) -> None:
        self.directory = directory
        self.holder = holder
        msg = (
            f"file channel directory {directory} is already in use (lock {LOCK_NAME} held by "
            f"pid {holder or 'unknown'}); expected exclusive use; give every file channel "
            "its own checkpointDir and dataDirs, or stop the other agent"
        )
        super().__init__(msg)


class DirectoryLock:
    """An ``flock`` on ``<directory>/in_use.lock`` holding the owner's pid."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fd = -1

    def acquire(self) -> None:
        """Take the lock or raise :class:`DirectoryInUseError` at once (never waits)."""
        path = self.directory / LOCK_NAME
        fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise DirectoryInUseError(self.directory, holder) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:  # a full disk: do not keep a lock nobody will release
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1
