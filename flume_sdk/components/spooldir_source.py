"""``spooldir``: Flume's SpoolDirectorySource, lossless and without the FATAL stops.

Immutable files dropped into ``spoolDir`` are read one at a time, a batch per
``process()``. A batch's position is saved in ``trackerDir`` only after the
channel committed it, and a file is marked completed (renamed with
``fileSuffix``, deleted with ``deletePolicy = immediate``, or recorded in
``trackerDir`` with ``trackingPolicy = tracker_dir``) only after its last event
was committed. After a crash, even ``kill -9``, the file resumes from its last
committed batch: nothing is lost and at most one batch is delivered twice.

Where Flume stops the source and asks for a restart, this source moves the file
into ``quarantineDir`` (default ``<spoolDir>/.failed``) next to a ``.reason``
file, counts it in ``SpoolFilesQuarantined`` and carries on with the next file:

- a file modified, replaced or deleted after it was picked up,
- a file name that was already completed (``name + fileSuffix`` exists),
- a zero-byte file, a file that cannot be opened, or that is not a regular file,
- undecodable bytes under ``decodeErrorPolicy = FAIL`` or a corrupt Avro file.

Events delivered from a quarantined file before the problem stay delivered; the
reason file says up to which byte.

Positions are written with write-to-temp + rename on every committed batch; they
are fsync-ed when a file completes. After a power loss a position may lag (a
batch delivered again), never lead.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import random
import re
import stat as stat_mod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    Clock,
    ConfigurationError,
    Event,
    PollableSource,
    Status,
    at_least,
    fsync_directory,
    namespace,
    one_of,
    setting,
    writable_dir,
    write_atomically,
)
from flume_sdk.components.deserializers import (
    DecodeError,
    Decoding,
    Deserializer,
    Mark,
    build_deserializer,
)

__all__ = ["SpoolDirectorySource", "SpoolDirectorySourceSettings"]

log = logging.getLogger("flume_sdk.source.spooldir")
_PROGRESS = "in-progress.json"


def _regex(_inst: Any, attr: Any, value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        msg = f"must be a valid regular expression (got {value!r}: {exc})"
        raise ValueError(msg) from None


@attrs.frozen(kw_only=True)
class SpoolDirectorySourceSettings:
    spool_dir: Path = setting("spoolDir", required=True, preflight=writable_dir(),
                              help="directory watched for new files")
    file_suffix: str = setting(default=".COMPLETED", help="appended to a file once consumed")
    delete_policy: str = setting(default="never", validator=one_of("never", "immediate"),
                                 help="never: rename with fileSuffix; immediate: delete")
    file_header: bool = setting(default=False, help="add the file's absolute path as a header")
    file_header_key: str = setting(default="file", help="header name for fileHeader")
    basename_header: bool = setting(default=False, help="add the file's name as a header")
    basename_header_key: str = setting(default="basename", help="header name for basenameHeader")
    include_pattern: str = setting(default="^.*$", validator=_regex,
                                   help="regex a file name must match")
    ignore_pattern: str = setting(default="^$", validator=_regex,
                                  help="regex of file names to skip (hidden files are skipped)")
    tracker_dir: str = setting(default=".flumespool",
                               help="where positions live; relative to spoolDir unless absolute")
    tracking_policy: str = setting(default="rename", validator=one_of("rename", "tracker_dir"),
                                   help="rename: rename consumed files; tracker_dir: record them")
    consume_order: str = setting(default="oldest", validator=one_of("oldest", "youngest", "random"),
                                 help="which file next: oldest or youngest by mtime, or random")
    poll_delay: int = setting(default=500, validator=at_least(1),
                              help="ms between directory polls when idle")
    recursive_directory_search: bool = setting(default=False,
                                               help="also consume files in subdirectories")
    max_backoff: int = setting(default=4000, validator=at_least(1),
                               help="ms, the longest wait while the channel refuses")
    batch_size: int = setting(default=100, validator=at_least(1), help="events per transaction")
    input_charset: str = setting(default="UTF-8", help="charset of the files (LINE)")
    decode_error_policy: str = setting(default="FAIL", validator=one_of("FAIL", "REPLACE",
                                                                        "IGNORE"),
                                       help="undecodable bytes: FAIL (quarantine the file), "
                                            "REPLACE (with U+FFFD) or IGNORE (drop them)")
    deserializer: str = setting(default="LINE", help="LINE, AVRO, BLOB or package.module:Class")
    deserializer_properties: dict[str, str] = namespace(
        "deserializer.", help="the deserializer's keys (deserializer.maxLineLength ...)")
    quarantine_dir: str = setting(default=".failed",
                                  help="where bad files go with a .reason file; relative to "
                                       "spoolDir unless absolute")

    def problems(self) -> Iterator[tuple[str, str]]:
        """Deserializer keys are checked here, so a typo fails at configuration time."""
        try:
            build_deserializer(self.deserializer, self.deserializer_properties,
                               component="spooldir")
        except ConfigurationError as exc:
            for problem in exc.problems:
                yield f"deserializer.{problem.key}", problem.message
        except ValueError as exc:
            yield "deserializer", str(exc)
        if self.file_suffix == "" and self.delete_policy == "never" \
                and self.tracking_policy == "rename":
            yield "fileSuffix", "must not be empty: consumed files could not be told apart"


@attrs.define
class _Spooled:
    """The file being consumed."""

    path: Path
    stat: os.stat_result
    stream: BinaryIO
    reader: Deserializer
    committed: Mark
    pending: list[Event] | None = None
    pending_mark: Mark = Mark()


class _Swapped(Exception):
    """A listed name no longer names the file that was listed."""


def _identity(st: os.stat_result) -> dict[str, int]:
    return {"dev": st.st_dev, "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


class SpoolDirectorySource(PollableSource):
    """Reads files dropped into a directory; see the module docstring for the guarantees."""

    Settings: ClassVar[type] = SpoolDirectorySourceSettings
    settings: SpoolDirectorySourceSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("SpoolFilesCompleted", "SpoolFilesQuarantined")

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        s = self.settings
        self.backoff_sleep_increment = s.poll_delay / 1000
        self.max_backoff_sleep = max(s.max_backoff, s.poll_delay) / 1000
        self.spool_dir = s.spool_dir.resolve()
        self.tracker_dir = self.spool_dir / s.tracker_dir
        self.quarantine_dir = self.spool_dir / s.quarantine_dir
        self._include = re.compile(s.include_pattern)
        self._ignore = re.compile(s.ignore_pattern)
        self._factory = build_deserializer(s.deserializer, s.deserializer_properties,
                                           component=name)
        self._decoding = Decoding(charset=s.input_charset, policy=s.decode_error_policy)
        self._current: _Spooled | None = None
        self._unmovable: set[Path] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    def do_start(self) -> None:
        if not self.spool_dir.is_dir():
            msg = (f"source {self.name!r}: spoolDir {str(self.spool_dir)!r} is not a directory; "
                   "create it or fix spoolDir")
            raise ConfigurationError(msg)
        self.tracker_dir.mkdir(parents=True, exist_ok=True)

    def do_stop(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            current.stream.close()

    @property
    def current_file(self) -> Path | None:
        """The file being consumed, if any."""
        return self._current.path if self._current else None

    # -- the loop ------------------------------------------------------------------------------

    def process(self) -> Status:
        """Deliver one batch of the current file, or pick the next file; see the module doc."""
        if self._current is None:
            self._current = self._open_next()
            if self._current is None:
                return Status.BACKOFF
        current = self._current
        if current.pending is None and not self._read_batch(current):
            return Status.READY
        assert current.pending is not None
        return self._deliver(current, current.pending)

    def _read_batch(self, current: _Spooled) -> bool:
        """Fill ``current.pending``; False when the file was completed or quarantined instead."""
        reason = self._changed(current)
        if reason:
            self._quarantine_current(current, reason)
            return False
        try:
            events = current.reader.read_events(self.settings.batch_size)
        except (DecodeError, OSError) as exc:
            self._quarantine_current(current, str(exc))
            return False
        if not events:
            self._complete(current)
            return False
        self._add_headers(current.path, events)
        current.pending, current.pending_mark = events, current.reader.mark
        return True

    def _deliver(self, current: _Spooled, events: list[Event]) -> Status:
        delivered = self.deliver(events)
        if not delivered:
            log.debug("%s: channel refused %d of a batch of %d, retrying them: %s", self.name,
                      len(events) - delivered.accepted, len(events), delivered.error)
            current.pending = events[delivered.accepted:]  # the committed ones are not resent
            return Status.BACKOFF
        current.committed, current.pending = current.pending_mark, None
        self._save_progress(current)
        return Status.READY

    def _add_headers(self, path: Path, events: list[Event]) -> None:
        s = self.settings
        extra: dict[str, str] = {}
        if s.file_header:
            extra[s.file_header_key] = str(path)
        if s.basename_header:
            extra[s.basename_header_key] = path.name
        if extra:
            for event in events:
                event.headers.update(extra)

    def _changed(self, current: _Spooled) -> str | None:
        try:
            now = os.stat(current.path)
        except OSError as exc:
            return f"deleted or moved after pickup ({exc.strerror})"
        if _identity(now) != _identity(current.stat):
            return ("modified after pickup: spooled files must be immutable "
                    f"(was {_identity(current.stat)}, now {_identity(now)})")
        return None

    # -- choosing a file -----------------------------------------------------------------------

    def _open_next(self) -> _Spooled | None:
        for path, st in self._ordered(list(self._candidates(self.spool_dir))):
            spooled = self._open(path, st)
            if spooled is not None:
                return spooled
        return None

    def _candidates(self, directory: Path) -> Iterator[tuple[Path, os.stat_result]]:
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            if directory == self.spool_dir:
                self.health.failing("read", f"cannot list spoolDir {str(directory)!r}: {exc}")
            else:
                log.warning("%s: cannot list %s: %s", self.name, directory, exc)
            return
        if directory == self.spool_dir:
            self.health.ok("read")
        s = self.settings
        for entry in entries:
            name, path = entry.name, Path(entry.path)
            if name.startswith(".") or path in (self.tracker_dir, self.quarantine_dir):
                continue
            if entry.is_dir(follow_symlinks=False):
                if s.recursive_directory_search:
                    yield from self._candidates(path)
                continue
            wanted = self._include.fullmatch(name) and not self._ignore.fullmatch(name)
            if not wanted or path in self._unmovable or self._is_completed_name(name):
                continue
            try:
                yield path, entry.stat(follow_symlinks=False)
            except OSError:
                continue

    def _is_completed_name(self, name: str) -> bool:
        s = self.settings
        return s.tracking_policy == "rename" and bool(s.file_suffix) \
            and name.endswith(s.file_suffix)

    def _ordered(self, found: list[tuple[Path, os.stat_result]]
                 ) -> list[tuple[Path, os.stat_result]]:
        order = self.settings.consume_order
        if order == "random":
            random.shuffle(found)
            return found
        found.sort(key=lambda item: (item[1].st_mtime_ns, str(item[0])),
                   reverse=order == "youngest")
        return found

    def _open(self, path: Path, st: os.stat_result) -> _Spooled | None:
        reason = self._refusal(path, st)
        if reason == "":
            return None
        if reason:
            self._quarantine(path, reason, None)
            return None
        try:
            stream = self._open_listed(path, st)
        except _Swapped as exc:  # the name changed since it was listed: look again next time
            log.warning("%s: %s; not read", self.name, exc)
            return None
        except OSError as exc:
            self._quarantine(path, f"unreadable: {exc}", None)
            return None
        try:
            spooled = self._resume(path, st, stream)
        except (DecodeError, OSError) as exc:
            stream.close()
            self._quarantine(path, str(exc), None)
            return None
        log.info("%s: consuming %s from byte %d", self.name, path, spooled.committed.offset)
        return spooled

    @staticmethod
    def _open_listed(path: Path, st: os.stat_result) -> BinaryIO:
        """Open ``path`` only if it is still the regular file listed (``st``, from lstat).

        A symlink is never followed (``O_NOFOLLOW``), and the opened file must have the
        listed device and inode, so a name swapped for a link to a file outside the spool
        directory between the listing and the open is not read.
        """
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _Swapped(f"{path} became a symbolic link after it was listed") from exc
            raise
        opened = os.fstat(fd)
        if not stat_mod.S_ISREG(opened.st_mode) or \
                (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
            os.close(fd)
            msg = f"{path} is no longer the regular file that was listed"
            raise _Swapped(msg)
        return os.fdopen(fd, "rb")

    def _refusal(self, path: Path, st: os.stat_result) -> str | None:
        """Why ``path`` cannot be consumed (quarantine it), "" to skip it quietly, or None."""
        if not stat_mod.S_ISREG(st.st_mode):
            return "unreadable: not a regular file (a symlink, pipe or device)"
        if st.st_size == 0:
            return "zero-byte file: nothing to read (a file still being created belongs " \
                   "elsewhere until it is complete)"
        s = self.settings
        if s.tracking_policy == "tracker_dir":
            marker = self._marker(path)
            if marker.exists():
                return "" if self._marker_matches(marker, st) else \
                    f"name re-used: {path.name} was already consumed (marker {marker})"
        elif s.delete_policy == "never" and path.with_name(path.name + s.file_suffix).exists():
            return (f"name re-used: {path.name}{s.file_suffix} already exists, so this name was "
                    "consumed before; rename the new file to a unique name")
        return None

    def _resume(self, path: Path, st: os.stat_result, stream: BinaryIO) -> _Spooled:
        reader = self._factory(stream, self._decoding)
        mark = self._saved_mark(path, st)
        if mark is not None:
            reader.seek(mark)
        return _Spooled(path, st, stream, reader, mark or reader.mark)

    # -- tracker ---------------------------------------------------------------------------

    def _relative(self, path: Path) -> str:
        return str(path.relative_to(self.spool_dir))

    def _saved_mark(self, path: Path, st: os.stat_result) -> Mark | None:
        try:
            saved = json.loads((self.tracker_dir / _PROGRESS).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("path") != self._relative(path):
            return None
        if saved.get("identity") != _identity(st):
            log.warning("%s: %s differs from when it was last read; reading it from the start",
                        self.name, path)
            return None
        return Mark(int(saved["offset"]), int(saved["skip"]))

    def _save_progress(self, current: _Spooled) -> None:
        record = {"path": self._relative(current.path), "identity": _identity(current.stat),
                  "offset": current.committed.offset, "skip": current.committed.skip}
        write_atomically(self.tracker_dir / _PROGRESS, json.dumps(record).encode(), sync=False)

    def _clear_progress(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.tracker_dir / _PROGRESS).unlink()

    def _marker(self, path: Path) -> Path:
        return self.tracker_dir / "completed" / (self._relative(path) + ".json")

    def _marker_matches(self, marker: Path, st: os.stat_result) -> bool:
        try:
            return bool(json.loads(marker.read_text()) == _identity(st))
        except (OSError, ValueError):
            return False

    # -- finishing a file ------------------------------------------------------------------

    def _complete(self, current: _Spooled) -> None:
        self._current = None
        current.stream.close()
        path, s = current.path, self.settings
        try:
            if s.delete_policy == "immediate":
                path.unlink()
            elif s.tracking_policy == "tracker_dir":
                marker = self._marker(path)
                marker.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(marker, json.dumps(_identity(current.stat)).encode(), sync=True)
            else:
                self._rename_completed(path, path.with_name(path.name + s.file_suffix))
            fsync_directory(path.parent)
        except OSError as exc:
            self._quarantine(path, f"all events delivered, but completing it failed: {exc}",
                             current.committed)
            return
        finally:
            self._clear_progress()
        self.counter.incr("SpoolFilesCompleted")
        log.info("%s: completed %s", self.name, path)

    @staticmethod
    def _rename_completed(path: Path, target: Path) -> None:
        # A hard link fails instead of replacing a file that appeared meanwhile.
        os.link(path, target)
        path.unlink()

    def _quarantine_current(self, current: _Spooled, reason: str) -> None:
        self._current = None
        current.stream.close()
        self._clear_progress()
        self._quarantine(current.path, reason, current.committed)

    def _quarantine(self, path: Path, reason: str, committed: Mark | None) -> None:
        self.counter.incr("SpoolFilesQuarantined")
        delivered = f"events up to byte {committed.offset} (+{committed.skip} records) were " \
            "delivered" if committed else "no events were delivered"
        try:
            self.quarantine_dir.mkdir(parents=True, exist_ok=True)
            target = self._free_name(self.quarantine_dir / path.name)
            os.rename(path, target)
            text = f"{path}\nreason: {reason}\n{delivered}\n"
            write_atomically(target.with_name(target.name + ".reason"), text.encode(), sync=True)
        except OSError as exc:
            self._unmovable.add(path)
            log.error("%s: %s is bad (%s) and could not be moved aside (%s); skipping it until "
                      "restart", self.name, path, reason, exc)
            return
        log.warning("%s: quarantined %s as %s: %s; %s", self.name, path, target, reason, delivered)

    @staticmethod
    def _free_name(target: Path) -> Path:
        candidate, n = target, 0
        while candidate.exists() or candidate.with_name(candidate.name + ".reason").exists():
            n += 1
            candidate = target.with_name(f"{target.name}.{n}")
        return candidate
