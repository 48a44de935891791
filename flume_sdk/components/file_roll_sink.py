"""``file_roll``: Flume's RollingFileSink, events written to local files rolled on a timer.

Each batch is serialized, flushed to the operating system (and ``fsync``-ed with
``sink.fsync = true``) before the channel transaction commits, so a crash of the
agent process loses nothing committed. A failed write cuts the file back to the end
of the last committed batch and rolls the transaction back, so a retry neither loses
nor duplicates events.

Differences from Flume, on purpose:

- A file is opened when the first event for it arrives, so an idle agent does not
  leave an empty file every ``sink.rollInterval`` seconds.
- File names are never reused: an existing file is skipped, never overwritten.
- ``sink.directory`` is created when missing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    BatchSink,
    Clock,
    Event,
    EventDeliveryException,
    EventSerializer,
    Location,
    PluginRegistry,
    Status,
    at_least,
    namespace,
    one_of,
    resolve_serializer,
    setting,
    writable_dir,
)

__all__ = [
    "FileRollSink",
    "FileRollSinkSettings",
    "PathManager",
    "RollTimePathManager",
]

log = logging.getLogger("flume_sdk.sink.file_roll")

_SERIALIZER_PREFIX = "sink.serializer."


@attrs.frozen(kw_only=True)
class FileRollSinkSettings:
    directory: Path = setting("sink.directory", required=True, preflight=writable_dir(create=True),
                              help="directory the files are written to (created if missing)")
    roll_interval: int = setting("sink.rollInterval", default=30, validator=at_least(0),
                                 help="seconds before a file is closed and a new one started; "
                                      "0 = never roll")
    path_manager: str = setting("sink.pathManager", default="DEFAULT",
                                validator=one_of("DEFAULT", "ROLLTIME"),
                                help="file naming: DEFAULT (<prefix><start millis>-<n>) or "
                                     "ROLLTIME (<prefix><yyyyMMddHHmmss>-<n>)")
    prefix: str = setting("sink.pathManager.prefix", default="", help="file name prefix")
    extension: str = setting("sink.pathManager.extension", default="",
                             help="file name extension, without the dot")
    serializer: str = setting("sink.serializer", default="TEXT",
                              help="serializer type: text, header_and_text, avro_event or a class")
    serializer_properties: dict[str, str] = namespace(
        _SERIALIZER_PREFIX, help="the serializer's own keys (sink.serializer.appendNewline ...)")
    batch_size: int = setting("sink.batchSize", default=100, aliases=("batchSize",),
                              validator=at_least(1), help="events per transaction")
    fsync: bool = setting("sink.fsync", default=False,
                          help="fsync each batch before commit (Flume only flushes); survives "
                               "power loss, costs a disk sync per batch")


class PathManager:
    """``DEFAULT`` naming: ``<prefix><series millis>-<n>[.<extension>]``, n counting from 1.

    Args:
        directory: where the files go.
        prefix: put before the name.
        extension: appended after a dot, when not empty.
        clock: gives the series timestamp (read once, here).
    """

    def __init__(self, directory: Path, prefix: str, extension: str, clock: Clock) -> None:
        self.directory = directory
        self.prefix = prefix
        self.suffix = f".{extension}" if extension else ""
        self.clock = clock
        self.index = 0
        self._series = int(clock.time() * 1000)

    def stem(self) -> str:
        """The part of the name before ``-<n>``."""
        return str(self._series)

    def next_path(self) -> Path:
        """The next file name in the series."""
        stem = self.stem()
        self.index += 1
        return self.directory / f"{self.prefix}{stem}-{self.index}{self.suffix}"


class RollTimePathManager(PathManager):
    """``ROLLTIME`` naming: ``<prefix><yyyyMMddHHmmss>-<n>[.<extension>]`` in local time.

    ``n`` restarts at 1 whenever the second changes.
    """

    def __init__(self, directory: Path, prefix: str, extension: str, clock: Clock) -> None:
        super().__init__(directory, prefix, extension, clock)
        self._last_stamp = ""

    def stem(self) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(self.clock.time()))
        if stamp != self._last_stamp:
            self._last_stamp = stamp
            self.index = 0
        return stamp


@attrs.define
class _OpenFile:
    """The file being written: its stream, serializer and the end of its last committed batch."""

    path: Path
    stream: BinaryIO
    serializer: EventSerializer
    header_end: int
    good_offset: int
    roll_at: float | None


class FileRollSink(BatchSink):
    """Writes each batch through a serializer into rolling files in ``sink.directory``.

    Args:
        name: the sink's name (``k1``).
        settings: a :class:`FileRollSinkSettings`.
        clock: gives roll times (monotonic) and file names (wall clock).
        registry: where ``sink.serializer`` is looked up; the installed plugins by default.
        component: the sink's config path for messages (``a1.sinks.k1``).

    Raises:
        ConfigurationError: the serializer type is unknown or its keys are wrong.
    """

    Settings: ClassVar[type] = FileRollSinkSettings
    config_context: ClassVar[tuple[str, ...]] = ("component", "locations")
    settings: FileRollSinkSettings

    def __init__(
        self,
        name: str,
        settings: Any = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        registry: PluginRegistry | None = None,
        component: str | None = None,
        locations: Mapping[str, Location] | None = None,
    ) -> None:
        super().__init__(name, settings, clock=clock)
        self._serializer = resolve_serializer(
            self.settings.serializer, self.settings.serializer_properties,
            component=component or name, key="sink.serializer", locations=locations,
            registry=registry)
        manager = RollTimePathManager if self.settings.path_manager.upper() == "ROLLTIME" \
            else PathManager
        self.paths = manager(self.settings.directory, self.settings.prefix,
                             self.settings.extension, clock)
        self._io_lock = threading.Lock()
        self._current: _OpenFile | None = None
        self._delivered: tuple[_OpenFile, int] | None = None  # written, awaiting the commit

    @property
    def current_path(self) -> Path | None:
        """The file being written, if one is open."""
        current = self._current
        return current.path if current else None

    # -- lifecycle ---------------------------------------------------------------------------

    def do_start(self) -> None:
        directory = self.settings.directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            # Not fatal: each batch reports it (and stays in the channel) until it is fixed.
            log.warning("file_roll sink %r cannot create %s: %s", self.name, directory, exc)

    def do_stop(self) -> None:
        with self._io_lock:
            self._close_current()

    # -- the batch path ----------------------------------------------------------------------

    def process(self) -> Status:
        with self._io_lock:
            current = self._current
            if current and current.roll_at is not None and \
                    self.clock.monotonic() >= current.roll_at:
                self._close_current()
        return super().process()

    def deliver(self, events: Sequence[Event]) -> None:
        with self._io_lock:
            current = self._current or self._open()
            try:
                self._write(current, events)
            except Exception as exc:
                self._abandon(current)
                raise self._error(f"could not write {len(events)} event(s) to {current.path}",
                                  exc) from exc
            self._delivered = (current, current.stream.tell())

    def on_commit(self, events: Sequence[Event]) -> None:
        """The channel committed the batch: its end becomes the file's good offset."""
        delivered, self._delivered = self._delivered, None
        if delivered is not None:
            delivered[0].good_offset = delivered[1]

    def on_commit_failed(self, events: Sequence[Event]) -> None:
        """The channel will redeliver the batch: cut the file back to its last committed batch."""
        delivered, self._delivered = self._delivered, None
        if delivered is None:
            return
        with self._io_lock:
            log.warning("file_roll sink %r: the channel did not commit the batch just written to "
                        "%s; the file is cut back so the retried events are not duplicated",
                        self.name, delivered[0].path)
            self._abandon(delivered[0])

    def _write(self, current: _OpenFile, events: Sequence[Event]) -> None:
        current.serializer.write_batch(list(events))
        current.serializer.flush()
        current.stream.flush()
        if self.settings.fsync:
            os.fsync(current.stream.fileno())

    def _error(self, what: str, exc: BaseException) -> EventDeliveryException:
        msg = (f"file_roll sink {self.name!r} {what}: {type(exc).__name__}: {exc}; the events "
               "stay in the channel and are retried (check free space and permissions of "
               f"{self.settings.directory})")
        return EventDeliveryException(msg)

    # -- files -------------------------------------------------------------------------------

    def _create(self) -> tuple[Path, BinaryIO]:
        self.settings.directory.mkdir(parents=True, exist_ok=True)
        while True:
            path = self.paths.next_path()
            try:
                return path, open(path, "xb")
            except FileExistsError:
                continue

    def _open(self) -> _OpenFile:
        try:
            path, stream = self._create()
        except OSError as exc:
            self.counter.incr("ConnectionFailedCount")
            raise self._error(f"could not create a file in {self.settings.directory}", exc) \
                from exc
        serializer = self._serializer.create(stream)
        try:
            serializer.after_create()
            serializer.flush()
            stream.flush()
        except Exception as exc:
            self._discard(path, stream)
            raise self._error(f"could not start {path}", exc) from exc
        header_end = stream.tell()
        interval = self.settings.roll_interval
        roll_at = self.clock.monotonic() + interval if interval > 0 else None
        self._current = _OpenFile(path, stream, serializer, header_end, header_end, roll_at)
        self.counter.incr("ConnectionCreatedCount")
        log.debug("file_roll sink %r opened %s", self.name, path)
        return self._current

    def _discard(self, path: Path, stream: BinaryIO) -> None:
        self.counter.incr("ConnectionFailedCount")
        with contextlib.suppress(OSError):
            stream.close()
        with contextlib.suppress(OSError):
            path.unlink()

    def _close_current(self) -> None:
        """Finish the open file (serializer trailer, flush, close); cut it back on failure."""
        current, self._current = self._current, None
        if current is None:
            return
        try:
            current.serializer.before_close()
            current.stream.flush()
            if self.settings.fsync:
                os.fsync(current.stream.fileno())
            current.stream.close()
        except Exception as exc:
            log.error("file_roll sink %r could not close %s cleanly: %s", self.name,
                      current.path, exc)
            self._abandon(current)
            return
        self.counter.incr("ConnectionClosedCount")
        log.debug("file_roll sink %r closed %s", self.name, current.path)

    def _abandon(self, current: _OpenFile) -> None:
        """Drop a file after a failed write: keep only its committed batches."""
        if self._current is current:
            self._current = None
        self.counter.incr("ConnectionFailedCount")
        with contextlib.suppress(OSError):
            current.stream.close()
        try:
            if current.good_offset <= current.header_end:
                current.path.unlink(missing_ok=True)
            else:
                os.truncate(current.path, current.good_offset)
        except OSError as exc:
            log.error("file_roll sink %r could not cut %s back to its last committed batch "
                      "(%d bytes): %s; its tail may repeat events that will be retried",
                      self.name, current.path, current.good_offset, exc)
