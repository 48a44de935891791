"""The sink's record of its in-use files, so orphans are found and finished after a crash.

One append-only file per writer id in ``hdfs.stateDir``: ``open <in-use> <final>``
is written (and fsync-ed) before a file is created, ``done <in-use>`` after it
was renamed or deleted. At start, every ``open`` without its ``done`` is an
orphan of this sink, whatever directory its time bucket put it in. The journal
is locked (``flock``) while the sink runs, so two sinks cannot share a writer id.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from pathlib import Path
from typing import BinaryIO

import attrs

__all__ = ["Journal", "JournalLockedError", "OpenFileEntry", "safe_writer_id"]


class JournalLockedError(RuntimeError):
    """Another running sink holds the journal of this writer id."""


@attrs.frozen
class OpenFileEntry:
    """A file this sink opened: its in-use and final paths."""

    in_use: str
    final: str


def safe_writer_id(text: str) -> str:
    """``text`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "sink"


class Journal:
    """The open/done log of one writer id.

    Args:
        directory: where journals live (created if missing).
        writer_id: this sink's identity (safe characters only).
    """

    def __init__(self, directory: Path, writer_id: str) -> None:
        self.path = Path(directory) / f"{writer_id}.journal"
        self._handle: BinaryIO | None = None

    def open(self) -> list[OpenFileEntry]:
        """Lock the journal and return the files left open by an earlier run.

        Raises:
            JournalLockedError: another sink holds it.
            OSError: the state directory cannot be written.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            msg = (f"journal {self.path} is locked by another running HDFS sink; give each "
                   "sink its own hdfs.writerId")
            raise JournalLockedError(msg) from None
        self._handle = handle
        handle.seek(0)
        return _pending(handle.read().decode("utf-8", "replace"))

    def opened(self, entry: OpenFileEntry) -> None:
        """Record that ``entry`` is about to be created."""
        self._append(f"open\t{entry.in_use}\t{entry.final}\n")

    def finished(self, in_use: str) -> None:
        """Record that ``in_use`` was renamed or removed."""
        self._append(f"done\t{in_use}\n")

    def compact(self, still_open: list[OpenFileEntry]) -> None:
        """Rewrite the journal to hold only ``still_open``."""
        handle = self._require()
        handle.seek(0)
        handle.truncate(0)
        handle.write("".join(f"open\t{e.in_use}\t{e.final}\n" for e in still_open).encode())
        handle.flush()
        os.fsync(handle.fileno())

    def _append(self, line: str) -> None:
        handle = self._require()
        handle.write(line.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())

    def _require(self) -> BinaryIO:
        if self._handle is None:
            msg = f"journal {self.path} is not open; call open() first"
            raise RuntimeError(msg)
        return self._handle

    def close(self) -> None:
        """Unlock and close; idempotent."""
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


def _pending(text: str) -> list[OpenFileEntry]:
    entries: dict[str, OpenFileEntry] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if fields[0] == "open" and len(fields) == 3:
            entries[fields[1]] = OpenFileEntry(fields[1], fields[2])
        elif fields[0] == "done" and len(fields) == 2:
            entries.pop(fields[1], None)
        # A torn last line (a crash mid-write) is ignored: its file was never created.
    return list(entries.values())
