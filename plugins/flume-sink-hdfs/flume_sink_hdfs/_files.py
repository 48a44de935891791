"""One sink's files: open (journaled), write a batch, check after a failure, cut back, finish.

An :class:`OpenFile` counts only what is durable: ``written`` grows after a
create or append returned. After a failed write the file is *suspect*: before
it is used again its real length is compared with ``written`` and any excess
(a half-done append, or one whose reply was lost) is cut off, so a retried
batch is not written twice. Finishing a file writes its trailer, renames it
from the in-use name to the final name (never over an existing file) and marks
it done in the journal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from flume_sdk import Event
from flume_sink_hdfs._faults import CrashSwitch
from flume_sink_hdfs._filesystem import FileSystemError
from flume_sink_hdfs._formats import FileFormat, FormatFactory
from flume_sink_hdfs._journal import BatchRecord, Expectation, Journal, OpenFileEntry

__all__ = ["FileNaming", "Files", "OpenFile"]

log = logging.getLogger("flume_sink_hdfs")


@attrs.define(eq=False)
class OpenFile:
    """A file being written (or an orphan being finished)."""

    entry: OpenFileEntry
    fmt: FileFormat | None
    opened_at: float
    last_write: float
    written: int = 0
    events: int = 0
    body_bytes: int = 0
    suspect: bool = False
    trailer: bytes | None = None
    close_tries: int = 0
    next_close: float = 0.0

    @property
    def mark(self) -> tuple[int, int, int]:
        return self.written, self.events, self.body_bytes


@attrs.frozen(kw_only=True)
class FileNaming:
    """Flume's names: ``<dir>/<inUsePrefix><prefix>.<counter><suffix><inUseSuffix>``."""

    in_use_prefix: str
    in_use_suffix: str
    suffix: str

    def entry(self, directory: str, prefix: str, counter: int) -> OpenFileEntry:
        base = f"{prefix}.{counter}{self.suffix}"
        directory = directory.rstrip("/") or ""
        return OpenFileEntry(f"{directory}/{self.in_use_prefix}{base}{self.in_use_suffix}",
                             f"{directory}/{base}")


class Files:
    """File operations of one sink over a filesystem, recorded in its journal.

    Args:
        fs: the (bounded) filesystem.
        journal: the open/done record.
        naming: how names are made.
        formats: makes a fresh :class:`FileFormat` per file.
        counter_start: the first file counter (Flume: the start time in millis).
    """

    def __init__(self, fs: Any, journal: Journal, naming: FileNaming, formats: FormatFactory,
                 counter_start: int) -> None:
        self.fs = fs
        self.journal = journal
        self.naming = naming
        self.formats = formats
        self._counter = counter_start

    def open(self, directory: str, prefix: str, now: float) -> OpenFile:
        """A new file; it is journaled now and created by its first write."""
        self._counter += 1
        entry = self.naming.entry(directory, prefix, self._counter)
        self.journal.opened(entry)
        return OpenFile(entry, self.formats(), now, now)

    def encode(self, file: OpenFile, events: Sequence[Event]) -> bytes:
        """The bytes ``events`` append to ``file`` (with the header if it is new).

        Counts the events and body bytes at once (a failed batch restores them
        with :meth:`cut_back`); ``written`` grows only once :meth:`start_put`'s write is over.
        """
        fmt = file.fmt
        assert fmt is not None
        head = fmt.header() if file.written == 0 else b""
        payload = fmt.encode(events)
        file.events += len(events)
        file.body_bytes += sum([len(event.body) for event in events])
        return head + payload if head else payload  # no copy of the batch when no header

    def start_put(self, file: OpenFile, payload: bytes, now: float) -> Callable[[], None]:
        """Start appending ``payload`` durably (creating the file on its first write).

        Returns:
            The call that waits for the write and then counts it in ``written``;
            it raises what the write raised (the file is then suspect).
        """
        wait = self.fs.start_write(file.entry.in_use, payload, create=file.written == 0)

        def done() -> None:
            try:
                wait()
            except BaseException:
                file.suspect = True
                raise
            file.written += len(payload)
            file.last_write = now
        return done

    def put_torn(self, file: OpenFile, payload: bytes, crash: CrashSwitch) -> None:
        """For the kill -9 tests: make half of ``payload`` durable, then crash."""
        write = self.fs.create if file.written == 0 else self.fs.append
        write(file.entry.in_use, payload[:len(payload) // 2])
        crash.crash()

    def reconcile(self, file: OpenFile) -> bool:
        """Make a suspect file's length equal ``written``; False if it must be abandoned.

        Raises:
            FileSystemError: the length cannot be read (the filesystem is down).
        """
        path = file.entry.in_use
        size = self.fs.size(path)
        if size is None:
            if file.written:
                log.error("in-use file %s disappeared (had %d bytes); starting it again",
                          path, file.written)
                self._restart(file)
        elif file.written == 0:
            self.fs.delete(path)  # created by a failed first write: create it again
        elif size > file.written and not self._cut(path, file.written):
            return False
        elif size < file.written:
            log.error("%s is shorter (%d) than its acknowledged %d bytes", path, size,
                      file.written)
            file.written = size
        file.suspect = False
        return True

    def _restart(self, file: OpenFile) -> None:
        file.written = file.events = file.body_bytes = 0
        file.fmt = self.formats()

    def _cut(self, path: str, length: int) -> bool:
        try:
            self.fs.truncate(path, length)
        except FileSystemError as exc:
            log.warning("could not cut %s back to %d bytes (%s); it is closed as it is and may "
                        "repeat events of the retried batch", path, length, exc)
            return False
        return True

    def cut_back(self, file: OpenFile, mark: tuple[int, int, int]) -> None:
        """Undo this batch's writes to ``file`` (the batch failed somewhere)."""
        written = file.written
        file.written, file.events, file.body_bytes = mark
        if mark[0] == 0:
            file.fmt = self.formats()  # the header must be written again
        if written == mark[0] and not file.suspect:
            return
        file.suspect = True
        try:
            self.reconcile(file)
        except FileSystemError as exc:
            log.warning("could not cut %s back yet (%s); it is checked before its next write",
                        file.entry.in_use, exc)

    def settle(self, batch: BatchRecord) -> Expectation | None:
        """After a crash: the batch in flight is either all in its files or cut out of them.

        Returns:
            The batch's expectation when every part is complete (its redelivery
            must not be written again), else None once every part is cut back.

        Raises:
            FileSystemError: a length cannot be read (the filesystem is down).
        """
        sizes = [self.fs.size(path) for path, _, _ in batch.parts]
        if all(size is not None and size >= offset + length
               for size, (_, offset, length) in zip(sizes, batch.parts, strict=True)):
            log.info("the batch of %d events in flight at the crash is complete in %s; its "
                     "redelivery will be committed without writing it again", batch.count,
                     ", ".join(p for p, _, _ in batch.parts))
            return batch.expectation
        for size, (path, offset, _) in zip(sizes, batch.parts, strict=True):
            if size is None or size <= offset:
                continue
            log.info("cutting the unfinished batch out of %s (%d -> %d bytes)", path, size,
                     offset)
            if offset == 0:
                self.fs.delete(path)
            else:
                self._cut(path, offset)
        return None

    def finish(self, file: OpenFile) -> None:
        """Trailer, rename to the final name, journal ``done``.

        Raises:
            FileSystemError: a step failed; calling again resumes where it stopped.
        """
        path = file.entry.in_use
        if file.suspect and not self.reconcile(file):
            file.suspect = False  # closed as it is
        if file.written == 0:
            if self.fs.size(path) is not None:
                self.fs.delete(path)
        else:
            self._write_trailer(file)
            self.fs.release(path)
            if path != file.entry.final:
                self._rename(path, file.entry.final)
        self.journal.finished(path)

    def begin_finish(self, file: OpenFile) -> None:
        """Write the trailer and start closing the file in the background.

        :meth:`finish` completes it (rename, journal) once ``fs.closing`` is over;
        a file with anything to check first is left to :meth:`finish` entirely.

        Raises:
            FileSystemError: the trailer could not be written.
        """
        if file.written and not file.suspect:
            self._write_trailer(file)
            self.fs.close_soon(file.entry.in_use)

    def _write_trailer(self, file: OpenFile) -> None:
        if file.trailer is None:
            file.trailer = file.fmt.trailer() if file.fmt is not None else b""
        if file.trailer:
            self.journal.ended({file.entry.in_use: file.written + len(file.trailer)})
            self.fs.append(file.entry.in_use, file.trailer)
            file.written += len(file.trailer)
            file.trailer = b""

    def _rename(self, src: str, final: str) -> None:
        target = final
        for attempt in range(1, 100):
            if self.fs.rename(src, target):
                log.debug("finished %s as %s", src, target)
                return
            if self.fs.size(src) is None:
                return  # an earlier attempt renamed it; its reply was lost
            target = f"{final}.{attempt}"
        msg = f"could not rename {src}: {final} and 99 alternatives exist"
        raise FileSystemError(msg, operation="rename", path=src)

    def orphan(self, entry: OpenFileEntry, now: float) -> OpenFile:
        """An orphan of an earlier run, to be finished as it is on the filesystem, less
        any bytes beyond its journaled end (a batch written but never committed).

        Raises:
            FileSystemError: its length cannot be read.
        """
        path = entry.in_use
        size = self.fs.size(path)
        end = self.journal.state.ends.get(path)
        if size is not None and end is not None and size > end:
            log.info("cutting %s back to its journaled %d bytes (%d bytes of a batch that "
                     "was written but never committed)", path, end, size - end)
            if end == 0:
                self.fs.delete(path)
                size = None
            elif self._cut(path, end):
                size = end
        return OpenFile(entry, None, now, now, written=size or 0, trailer=b"")
