"""``TAILDIR``: tails groups of files, recording committed positions in a JSON file.

Each file group is a directory plus a regex for file names
(``filegroups.g1 = /var/log/app/.*\\.log``). Every complete line (ending in
``\\n``) becomes an event; a trailing partial line waits for its newline.

A file is identified by its device and inode **plus a fingerprint** (a hash of its
first bytes), so:

- **rename-and-create rotation**: the renamed file keeps its inode; it is read to
  its end (even though the name no longer matches) and then let go; the new file
  is read from its start. No line is lost and the rotated file is never re-read.
- **rotation while the agent is down**: a saved inode no longer at its path is
  looked for among its directory's files and finished from its saved position.
- **copytruncate**: a file that shrank below the read position was truncated; it
  is read again from byte 0 and counted in ``TaildirTruncations``. Lines written
  after the last read but before the copy exist only in the copy, as in every
  tailer that does not read the copy.
- **inode reuse**: a saved position whose fingerprint does not match the file now
  holding that inode is not trusted: that file is read from its start.

The position file holds only positions of committed events. It is written every
``writePosInterval`` ms (when something changed) and on stop, atomically: temp
file, fsync, rename, fsync of the directory. Flume's format (``inode``, ``pos``,
``file``) is kept, with ``dev``, ``fp`` and ``fplen`` added; Flume's own position
files load too (without fingerprints, an inode's position is trusted unless the
file is now shorter than it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    Clock,
    ConfigurationError,
    Event,
    PollableSource,
    PollableSourceSettings,
    Status,
    at_least,
    namespace,
    setting,
    writable_parent,
    write_atomically,
)

__all__ = ["TaildirSource", "TaildirSourceSettings"]

log = logging.getLogger("flume_sdk.source.taildir")
_CHUNK = 1 << 18
_FP_MAX = 256
_Key = tuple[int, int]


@attrs.frozen(kw_only=True)
class TaildirSourceSettings(PollableSourceSettings):
    filegroups: tuple[str, ...] = setting(required=True, help="space-separated group names")
    group_paths: dict[str, str] = namespace(
        "filegroups.", help="filegroups.<g> = /absolute/dir/<file-name regex>")
    group_headers: dict[str, str] = namespace(
        "headers.", help="headers.<g>.<key> = value, added to every event of group g")
    position_file: Path = setting(default=Path("~/.flume/taildir_position.json"),
                                  converter=lambda text: Path(text.strip()),
                                  preflight=writable_parent(),
                                  help="JSON file of committed positions")
    byte_offset_header: bool = setting(default=False,
                                       help="add the line's byte offset as header 'byteoffset'")
    skip_to_end: bool = setting(default=False,
                                help="start files with no saved position at their end")
    idle_timeout: int = setting(default=120_000, validator=at_least(0),
                                help="ms without growth before a file is closed")
    write_pos_interval: int = setting(default=3000, validator=at_least(0),
                                      help="ms between position file writes")
    batch_size: int = setting(default=100, validator=at_least(1), help="events per transaction")
    max_batch_count: int = setting(default=(1 << 63) - 1, validator=at_least(1),
                                   help="batches read from one file before moving to the next")
    cache_pattern_matching: bool = setting(default=True,
                                           help="re-list a directory only when it changed")
    file_header: bool = setting(default=False, help="add the file's path as a header")
    file_header_key: str = setting(default="file", help="header name for fileHeader")

    def problems(self) -> Iterator[tuple[str, str]]:
        """Every group needs an absolute path with a valid file-name regex."""
        for group in self.filegroups:
            raw = self.group_paths.get(group)
            if raw is None:
                yield f"filegroups.{group}", f"group {group!r} is listed but has no path"
                continue
            if not raw.startswith("/"):
                yield f"filegroups.{group}", f"must be an absolute path (got {raw!r})"
            try:
                re.compile(Path(raw).name)
            except re.error as exc:
                yield f"filegroups.{group}", f"file name part is not a valid regex: {exc}"
        for group in self.group_paths:
            if group not in self.filegroups:
                yield f"filegroups.{group}", (f"group {group!r} is not listed in filegroups "
                                              f"({' '.join(self.filegroups)})")
        for key in self.group_headers:
            group, _, name = key.partition(".")
            if group not in self.filegroups or not name:
                yield f"headers.{key}", "must be headers.<group>.<header> for a listed group"


@attrs.define
class _Group:
    name: str
    directory: Path
    pattern: re.Pattern[str]
    headers: dict[str, str]
    dir_mtime: int = -1
    names: list[str] = attrs.Factory(list)


@attrs.define(eq=False)
class _Tail:
    """One file being tailed, by identity (device, inode)."""

    key: _Key
    path: Path
    group: _Group
    fd: int | None
    pos: int
    committed: int
    fp: str = ""
    fp_len: int = 0
    matched: bool = True
    last_change: float = 0.0
    read_off: int = 0
    lines: list[bytes] = attrs.Factory(list)
    idx: int = 0
    partial: bytes = b""

    def rewind(self, offset: int) -> None:
        """Forget what was read past ``offset`` and continue from there."""
        self.pos = self.read_off = offset
        self.lines, self.idx, self.partial = [], 0, b""

    @property
    def buffered(self) -> bool:
        return self.idx < len(self.lines)


def _fingerprint(fd: int, length: int) -> str:
    return hashlib.blake2b(os.pread(fd, length, 0), digest_size=8).hexdigest()


class TaildirSource(PollableSource):
    """Tails file groups; see the module docstring for rotation and position guarantees."""

    Settings: ClassVar[type] = TaildirSourceSettings
    settings: TaildirSourceSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("TaildirTruncations", "TaildirInodeReuse",
                                                "TaildirFilesLost")

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        s = self.settings
        self.position_file = s.position_file.expanduser()
        self._groups = [self._group(g) for g in s.filegroups]
        self._tails: dict[_Key, _Tail] = {}
        self._saved: dict[_Key, dict[str, Any]] = {}
        self._last_write = 0.0
        self._dirty = False
        self._starting = True

    def _group(self, name: str) -> _Group:
        raw = Path(self.settings.group_paths[name])
        headers = {k.partition(".")[2]: v for k, v in self.settings.group_headers.items()
                   if k.partition(".")[0] == name}
        return _Group(name, raw.parent, re.compile(raw.name), headers)

    # -- lifecycle ---------------------------------------------------------------------------

    def do_start(self) -> None:
        self.position_file.parent.mkdir(parents=True, exist_ok=True)
        self._saved = self._load_positions()
        self._tails.clear()
        self._starting = True
        self._discover()
        self._adopt_rotated()
        # Rotated files first: their lines are older than those of the files replacing them.
        self._tails = dict(sorted(self._tails.items(), key=lambda item: item[1].matched))
        self._starting = False
        self._write_positions()
        self._last_write = self.clock.monotonic()

    def do_stop(self) -> None:
        try:
            self._write_positions()
        finally:
            for tail in self._tails.values():
                self._close(tail)
            self._tails.clear()

    def committed_positions(self) -> dict[str, int]:
        """Path -> committed byte offset of every tailed file (what the position file gets)."""
        return {str(t.path): t.committed for t in self._tails.values()}

    # -- the loop ------------------------------------------------------------------------------

    def process(self) -> Status:
        """Find new and rotated files, deliver their new lines, write positions when due."""
        self._discover()
        delivered, refused = 0, False
        for tail in list(self._tails.values()):
            got, ok = self._drain(tail)
            delivered += got
            if not ok:
                refused = True
                break
        self._retire_idle()
        self._maybe_write_positions()
        return Status.READY if delivered and not refused else Status.BACKOFF

    def _drain(self, tail: _Tail) -> tuple[int, bool]:
        """Deliver ``tail``'s complete lines in batches; (events delivered, channel ok)."""
        if tail.fd is None:
            return 0, True
        if not tail.buffered:
            self._check_truncation(tail)
        delivered = 0
        for _ in range(self.settings.max_batch_count):
            events = self._read_batch(tail)
            if not events:
                break
            if not self._deliver(tail, events):
                return delivered, False
            delivered += len(events)
            if len(events) < self.settings.batch_size:
                break
        if delivered:
            tail.last_change = self.clock.monotonic()
        return delivered, True

    def _read_batch(self, tail: _Tail) -> list[Event]:
        size = self.settings.batch_size
        while len(tail.lines) - tail.idx < size and self._fill(tail):
            pass
        lines = tail.lines[tail.idx:tail.idx + size]
        tail.idx += len(lines)
        return self._events(tail, lines)

    def _fill(self, tail: _Tail) -> bool:
        assert tail.fd is not None
        chunk = os.pread(tail.fd, _CHUNK, tail.read_off)
        if not chunk:
            return False
        tail.read_off += len(chunk)
        *new, tail.partial = (tail.partial + chunk).split(b"\n")
        if new:
            tail.lines = tail.lines[tail.idx:] + new
            tail.idx = 0
        return len(chunk) == _CHUNK

    def _events(self, tail: _Tail, lines: list[bytes]) -> list[Event]:
        s = self.settings
        headers = dict(tail.group.headers)
        if s.file_header:
            headers[s.file_header_key] = str(tail.path)
        if not s.byte_offset_header:
            if not headers:
                return [Event(line) for line in lines]
            return [Event(line, dict(headers)) for line in lines]
        events, offset = [], tail.pos
        for line in lines:
            events.append(Event(line, {**headers, "byteoffset": str(offset)}))
            offset += len(line) + 1
        return events

    def _deliver(self, tail: _Tail, events: list[Event]) -> bool:
        sizes = [len(e.body) + 1 for e in events]  # before interceptors may change a body
        end = tail.pos + sum(sizes)
        delivered = self.deliver(events)
        if not delivered:
            log.debug("%s: channel refused %d event(s) of %s: %s", self.name,
                      len(events) - delivered.accepted, tail.path, delivered.error)
            if delivered.accepted:  # committed: the retry starts after them
                tail.pos = tail.committed = tail.pos + sum(sizes[:delivered.accepted])
                self._dirty = True
            tail.rewind(tail.committed)
            return False
        tail.pos = tail.committed = end
        self._dirty = True
        return True

    def _check_truncation(self, tail: _Tail) -> None:
        assert tail.fd is not None
        size = os.fstat(tail.fd).st_size
        if size >= tail.read_off and _fingerprint(tail.fd, tail.fp_len) == tail.fp:
            return
        self.counter.incr("TaildirTruncations")
        log.warning("%s: %s was truncated (now %d bytes, position %d; copytruncate?); reading "
                    "it from the start", self.name, tail.path, size, tail.read_off)
        tail.rewind(0)
        tail.committed = 0
        tail.fp, tail.fp_len = _fingerprint(tail.fd, 0), 0
        self._dirty = True

    # -- finding files -----------------------------------------------------------------------

    def _discover(self) -> None:
        seen: set[_Key] = set()
        for group in self._groups:
            for path in self._matching(group):
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                key = (st.st_dev, st.st_ino)
                seen.add(key)
                self._track(key, path, group, st)
        for key, tail in self._tails.items():
            tail.matched = key in seen

    def _matching(self, group: _Group) -> list[Path]:
        try:
            mtime = os.stat(group.directory).st_mtime_ns
        except OSError:
            return []
        if mtime != group.dir_mtime or not self.settings.cache_pattern_matching:
            try:
                names = os.listdir(group.directory)
            except OSError:
                return []
            group.names = sorted(n for n in names if group.pattern.fullmatch(n))
            group.dir_mtime = mtime
        return [group.directory / n for n in group.names]

    def _track(self, key: _Key, path: Path, group: _Group, st: os.stat_result) -> None:
        tail = self._tails.get(key)
        if tail is not None:
            tail.path = path
            if tail.fd is None and st.st_size != tail.committed:
                self._reopen(tail)
            return
        saved = self._saved.pop(key, None) or self._saved.pop((-1, key[1]), None)
        self._open(key, path, group, saved, st)

    def _open(self, key: _Key, path: Path, group: _Group, saved: dict[str, Any] | None,
              st: os.stat_result, *, matched: bool = True) -> _Tail | None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            log.warning("%s: cannot open %s: %s", self.name, path, exc)
            return None
        if os.fstat(fd).st_ino != key[1]:
            os.close(fd)
            return None
        start = self._start_position(fd, path, saved, st)
        tail = _Tail(key, path, group, fd, start, start, matched=matched,
                     last_change=self.clock.monotonic())
        tail.rewind(start)
        self._refresh_fingerprint(tail, st.st_size)
        self._tails[key] = tail
        self._dirty = True
        log.info("%s: tailing %s from byte %d", self.name, path, start)
        return tail

    def _start_position(self, fd: int, path: Path, saved: dict[str, Any] | None,
                        st: os.stat_result) -> int:
        if saved is None:
            return st.st_size if self.settings.skip_to_end and self._starting else 0
        pos = int(saved.get("pos", 0))
        fp, fp_len = saved.get("fp"), int(saved.get("fplen", 0))
        if fp is not None and (st.st_size < fp_len or _fingerprint(fd, fp_len) != fp):
            self.counter.incr("TaildirInodeReuse")
            log.warning("%s: %s has the inode of a saved position but other content (inode "
                        "reuse); reading it from the start", self.name, path)
            return 0
        if st.st_size < pos:
            self.counter.incr("TaildirTruncations")
            return 0
        return pos

    def _reopen(self, tail: _Tail) -> None:
        saved = {"pos": tail.committed, "fp": tail.fp, "fplen": tail.fp_len}
        try:
            st = os.stat(tail.path)
        except OSError:
            return
        del self._tails[tail.key]
        self._open(tail.key, tail.path, tail.group, saved, st, matched=tail.matched)

    def _adopt_rotated(self) -> None:
        """Finish files rotated while the agent was down: saved inodes found under new names."""
        for key, saved in list(self._saved.items()):
            found = self._find_inode(key, Path(str(saved.get("file", ""))))
            group = self._group_of(Path(str(saved.get("file", ""))))
            if found is None or group is None:
                self.counter.incr("TaildirFilesLost")
                log.warning("%s: %s (inode %d) is gone; lines after byte %s were not read",
                            self.name, saved.get("file"), key[1], saved.get("pos"))
                continue
            path, st = found
            self._open((st.st_dev, st.st_ino), path, group, saved, st, matched=False)
        self._saved.clear()

    def _group_of(self, path: Path) -> _Group | None:
        for group in self._groups:
            if group.directory == path.parent:
                return group
        return None

    @staticmethod
    def _find_inode(key: _Key, old: Path) -> tuple[Path, os.stat_result] | None:
        with contextlib.suppress(OSError), os.scandir(old.parent) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                same_dev = key[0] in (-1, st.st_dev)
                if entry.is_file(follow_symlinks=False) and same_dev and st.st_ino == key[1]:
                    return Path(entry.path), st
        return None

    # -- closing -------------------------------------------------------------------------------

    def _retire_idle(self) -> None:
        idle = self.settings.idle_timeout / 1000
        now = self.clock.monotonic()
        for key, tail in list(self._tails.items()):
            if tail.fd is None or tail.buffered or tail.pos != tail.committed:
                continue
            if now - tail.last_change < idle or self._grew(tail):
                continue
            self._close(tail)
            if not tail.matched:
                del self._tails[key]
                self._dirty = True
                log.info("%s: finished rotated file %s", self.name, tail.path)

    def _grew(self, tail: _Tail) -> bool:
        assert tail.fd is not None
        size = os.fstat(tail.fd).st_size
        if size != tail.read_off:
            tail.last_change = self.clock.monotonic()
            return True
        return False

    @staticmethod
    def _close(tail: _Tail) -> None:
        if tail.fd is not None:
            os.close(tail.fd)
            tail.fd = None
            tail.rewind(tail.committed)

    # -- positions -----------------------------------------------------------------------------

    def _refresh_fingerprint(self, tail: _Tail, size: int) -> None:
        want = min(size, _FP_MAX)
        if tail.fd is not None and want > tail.fp_len:
            tail.fp, tail.fp_len = _fingerprint(tail.fd, want), want
        elif tail.fd is not None and not tail.fp:
            tail.fp = _fingerprint(tail.fd, 0)

    def _load_positions(self) -> dict[_Key, dict[str, Any]]:
        try:
            text = self.position_file.read_text()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            msg = f"source {self.name!r}: cannot read positionFile {self.position_file}: {exc}"
            raise ConfigurationError(msg) from exc
        if not text.strip():
            return {}
        try:
            entries = json.loads(text)
            return {(int(e.get("dev", -1)), int(e["inode"])): e for e in entries}
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            msg = (f"source {self.name!r}: positionFile {self.position_file} is not a JSON list "
                   f"of {{inode, pos, file}} ({exc}); fix or remove it")
            raise ConfigurationError(msg) from exc

    def _maybe_write_positions(self) -> None:
        now = self.clock.monotonic()
        if self._dirty and now - self._last_write >= self.settings.write_pos_interval / 1000:
            self._write_positions()
            self._last_write = now

    def _write_positions(self) -> None:
        entries = []
        for tail in self._tails.values():
            if tail.fd is not None and tail.fp_len < _FP_MAX:
                self._refresh_fingerprint(tail, os.fstat(tail.fd).st_size)
            entries.append({"inode": tail.key[1], "pos": tail.committed, "file": str(tail.path),
                            "dev": tail.key[0], "fp": tail.fp, "fplen": tail.fp_len})
        write_atomically(self.position_file, json.dumps(entries).encode())
        self._dirty = False
