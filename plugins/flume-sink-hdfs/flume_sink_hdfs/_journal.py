"""The sink's record of its in-use files and of its batch in flight, for recovery after a crash.

One append-only file per writer id in ``hdfs.stateDir``, one record a line:

- ``open <in-use> <final>``: fsync-ed before the file is created, with
  ``end <in-use> 0``;
- ``done <in-use>``: after it was renamed or deleted;
- ``batch {json}``: how many events, their fingerprint, and for every file the
  batch writes to, the offset it starts at and the byte length it appends;
  written while the batch's writes are in flight and fsync-ed before the
  channel commits;
- ``end <in-use> <length>``: a file's bytes up to ``length`` are accounted
  for: written when a failed batch was cut back, before a trailer is appended,
  and for every open file when the journal is rewritten;
- ``drop``: the batch in flight failed and was cut back (with ``end`` records);
- ``commit``: the channel committed the batch (or the expected redelivery);
- ``expect {json}``: after a restart, the batch in flight at the crash was found
  complete in its files; its redelivery (same count, same fingerprint) is
  committed without being written again.

At start every ``open`` without its ``done`` is an orphan of this sink, whatever
directory its time bucket put it in, and a ``batch`` or ``expect`` without a
later ``commit`` is what the sink must settle before it writes. Each open file's
*end* is the length its ``end`` and ``batch`` records reach: a batch's bytes can
reach the file before its record is durable (the record is written beside the
writes), and such a batch was never committed, so an orphan's bytes beyond its
end are cut before it is finished. (A journal written before ``end`` records
existed gives no end: its orphans are finished as they are.) The journal is
rewritten with only what is still live (temp file, fsync, rename) whenever it
has grown past twice its size after the last rewrite (at least
``compact_bytes``), so it stays bounded however long the sink runs. A lock file
(``flock``) next to it keeps two running sinks off one writer id.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from flume_sdk import FlumeError, write_atomically

__all__ = [
    "BatchRecord",
    "Expectation",
    "Journal",
    "JournalLockedError",
    "JournalState",
    "OpenFileEntry",
    "safe_writer_id",
]

_COMPACT_BYTES = 1 << 20


class JournalLockedError(FlumeError, RuntimeError):
    """Another running sink holds the journal of this writer id."""


@attrs.frozen
class OpenFileEntry:
    """A file this sink opened: its in-use and final paths."""

    in_use: str
    final: str


@attrs.frozen
class Expectation:
    """A batch already in the files: ``count`` events with this ``fingerprint``."""

    count: int
    fingerprint: str


@attrs.frozen
class BatchRecord:
    """A batch about to be written: its events and ``(path, offset, length)`` per file."""

    count: int
    fingerprint: str
    parts: tuple[tuple[str, int, int], ...]

    @property
    def expectation(self) -> Expectation:
        return Expectation(self.count, self.fingerprint)


@attrs.define
class JournalState:
    """What a journal holds: open files, the batch in flight, the redelivery expected."""

    open: dict[str, OpenFileEntry] = attrs.Factory(dict)
    pending: BatchRecord | None = None
    expect: Expectation | None = None
    ends: dict[str, int] = attrs.Factory(dict)


def safe_writer_id(text: str) -> str:
    """``text`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "sink"


class Journal:
    """The journal of one writer id.

    Args:
        directory: where journals live (created if missing).
        writer_id: this sink's identity (safe characters only).
        compact_bytes: the smallest size at which it is rewritten (default 1 MiB).
    """

    def __init__(self, directory: Path, writer_id: str, *,
                 compact_bytes: int | None = None) -> None:
        self.path = Path(directory) / f"{writer_id}.journal"
        self._lock_path = Path(directory) / f"{writer_id}.lock"
        self._compact_bytes = compact_bytes or _COMPACT_BYTES
        self._limit = self._compact_bytes
        self._lock: BinaryIO | None = None
        self._handle: BinaryIO | None = None
        self.state = JournalState()
        self.compactions = 0

    def open(self) -> JournalState:
        """Lock the journal and return what an earlier run left (a copy).

        Raises:
            JournalLockedError: another sink holds it.
            OSError: the state directory cannot be written.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(self._lock_path, "a+b")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            msg = (f"journal {self.path} is locked by another running HDFS sink; give each "
                   "sink its own hdfs.writerId")
            raise JournalLockedError(msg) from None
        self._lock = lock
        try:
            text = self.path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            text = ""
        self.state = _replay(text)
        self._handle = open(self.path, "ab")  # noqa: SIM115 - held until close()
        return JournalState(dict(self.state.open), self.state.pending, self.state.expect,
                            dict(self.state.ends))

    def opened(self, entry: OpenFileEntry) -> None:
        """Record that ``entry`` is about to be created."""
        self.state.open[entry.in_use] = entry
        self.state.ends[entry.in_use] = 0
        self._append(f"open\t{entry.in_use}\t{entry.final}\nend\t{entry.in_use}\t0\n")

    def finished(self, in_use: str) -> None:
        """Record that ``in_use`` was renamed or removed."""
        self.state.open.pop(in_use, None)
        self.state.ends.pop(in_use, None)
        self._append(f"done\t{in_use}\n")

    def batch(self, record: BatchRecord) -> None:
        """Record (fsync-ed) the batch being appended; its files' ends move past it."""
        self.state.pending = record
        for path, offset, length in record.parts:
            self.state.ends[path] = offset + length
        self._append(f"batch\t{json.dumps(attrs.asdict(record))}\n")

    def ended(self, ends: dict[str, int], *, batch_dropped: bool = False) -> None:
        """Record (fsync-ed) that these files' bytes are accounted for up to these lengths.

        Args:
            ends: in-use path -> length.
            batch_dropped: the batch in flight failed and was cut back: nothing is
                pending (a redelivery expected after a restart still is).
        """
        self.state.ends.update(ends)
        lines = "".join(f"end\t{path}\t{length}\n" for path, length in ends.items())
        if batch_dropped:
            self.state.pending = None
            lines += "drop\n"
        if lines:
            self._append(lines)

    def committed(self) -> None:
        """The channel committed the batch in flight; nothing is pending or expected.

        Not fsync-ed: if a power loss takes it, the batch record is settled at the
        next start by its fingerprint, which is what this record saves.
        """
        self.state.pending = None
        self.state.expect = None
        self._append("commit\n", sync=False)

    def settled(self, expect: Expectation | None) -> None:
        """The batch in flight at the crash was settled: its redelivery is ``expect``."""
        self.state.pending = None
        self.state.expect = expect
        line = f"expect\t{json.dumps(attrs.asdict(expect))}\n" if expect else "commit\n"
        self._append(line)

    def forget(self, entries: list[OpenFileEntry]) -> None:
        """Keep only ``entries`` of the open files (the rest are abandoned) and compact."""
        self.state.open = {e.in_use: e for e in entries}
        self.compact()

    def compact(self) -> None:
        """Rewrite the journal with only what is live: temp file, fsync, rename."""
        self._require()
        text = _render(self.state)
        write_atomically(self.path, text.encode("utf-8"))
        old, self._handle = self._handle, open(self.path, "ab")  # noqa: SIM115
        if old is not None:
            old.close()
        self._limit = max(self._compact_bytes, 2 * len(text))
        self.compactions += 1

    @property
    def size(self) -> int:
        handle = self._require()
        return handle.tell()

    def _append(self, line: str, *, sync: bool = True) -> None:
        handle = self._require()
        handle.write(line.encode("utf-8"))
        handle.flush()
        if sync:
            # fdatasync: the appended bytes and the file's new length, not its mtime.
            os.fdatasync(handle.fileno())
        if handle.tell() > self._limit:
            self.compact()

    def _require(self) -> BinaryIO:
        if self._handle is None:
            msg = f"journal {self.path} is not open; call open() first"
            raise RuntimeError(msg)
        return self._handle

    def close(self) -> None:
        """Unlock and close; idempotent."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()
        lock, self._lock = self._lock, None
        if lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
            lock.close()


def _render(state: JournalState) -> str:
    lines = [f"open\t{e.in_use}\t{e.final}\n" for e in state.open.values()]
    lines += [f"end\t{path}\t{end}\n" for path, end in state.ends.items()
              if path in state.open]
    if state.expect is not None:
        lines.append(f"expect\t{json.dumps(attrs.asdict(state.expect))}\n")
    if state.pending is not None:
        lines.append(f"batch\t{json.dumps(attrs.asdict(state.pending))}\n")
    return "".join(lines)


def _replay(text: str) -> JournalState:
    state = JournalState()
    for line in text.splitlines():
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        try:
            if kind == "open" and len(fields) == 2:
                state.open[fields[0]] = OpenFileEntry(fields[0], fields[1])
            elif kind == "done" and len(fields) == 1:
                state.open.pop(fields[0], None)
                state.ends.pop(fields[0], None)
            elif kind == "end" and len(fields) == 2:
                state.ends[fields[0]] = int(fields[1])
            elif kind == "batch":
                state.pending = _batch(json.loads(rest))
                state.ends.update((p, o + n) for p, o, n in state.pending.parts)
            elif kind == "expect":
                raw = json.loads(rest)
                state.pending, state.expect = None, Expectation(int(raw["count"]),
                                                                str(raw["fingerprint"]))
            elif kind == "drop":
                state.pending = None
            elif kind == "commit":
                state.pending = state.expect = None
        except (ValueError, KeyError, TypeError):
            # A torn last line (a crash mid-write): its file or batch was never written.
            continue
    return state


def _batch(raw: dict[str, Any]) -> BatchRecord:
    parts = tuple((str(p), int(o), int(n)) for p, o, n in raw["parts"])
    return BatchRecord(int(raw["count"]), str(raw["fingerprint"]), parts)
