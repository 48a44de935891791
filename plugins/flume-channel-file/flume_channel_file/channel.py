"""``file``: Flume's durable file channel on this package's write-ahead log.

Configured with Flume's keys (``checkpointDir``, ``dataDirs``, ``capacity`` ...).  Puts
are written as one checksummed record at commit and ``fdatasync``'d (group commit across
threads); takes are recorded the same way; a background thread writes a checkpoint every
``checkpointInterval`` ms so a restart replays only the log written since.
"""

from __future__ import annotations

import errno
import logging
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs

from flume_channel_file._dirlock import DirectoryInUseError
from flume_channel_file._errors import CapacityError, OutOfSpaceError, StorageError
from flume_channel_file._log import Log
from flume_channel_file._log_config import LogConfig, ReplayReport, disk_free
from flume_channel_file._queue import TakeTicket
from flume_sdk import (
    SYSTEM_CLOCK,
    Channel,
    ChannelException,
    ChannelFullException,
    Clock,
    Event,
    Transaction,
    at_least,
    namespace,
    setting,
    writable_dir,
)

__all__ = ["FileChannel", "FileChannelSettings", "FileTransaction"]

log = logging.getLogger("flume_channel_file")
_HOME = Path("~/.flume/file-channel").expanduser()
MINIMUM_SPACE_FLOOR = 1_048_576
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_TIMER_SLICE = 0.25  # real seconds the timer blocks at most before re-reading the clock


def _to_dirs(text: str) -> tuple[Path, ...]:
    parts = [p.strip() for p in text.replace(",", " ").split()]
    if not parts:
        msg = f"must name at least one directory, comma-separated (got {text!r})"
        raise ValueError(msg)
    return tuple(Path(p).expanduser() for p in parts)


def _to_optional_path(text: str) -> Path | None:
    return Path(text.strip()).expanduser() if text.strip() else None


@attrs.frozen(kw_only=True)
class FileChannelSettings:
    """Flume's file channel keys."""

    checkpoint_dir: Path = setting(default=_HOME / "checkpoint",
                                   preflight=writable_dir(create=True),
                                   help="where checkpoints are written")
    data_dirs: tuple[Path, ...] = setting(
        default=(_HOME / "data",), converter=_to_dirs,
        help="comma-separated directories for log segments (used round-robin)")
    capacity: int = setting(default=1_000_000, validator=at_least(1),
                            help="most committed events held")
    transaction_capacity: int = setting(default=10_000, validator=at_least(1),
                                        help="most puts (and takes) in one transaction")
    checkpoint_interval: int = setting(default=30_000, validator=at_least(1),
                                       help="milliseconds between checkpoints")
    max_file_size: int = setting(default=2_146_435_071, validator=at_least(4096),
                                 help="bytes per log segment before a new one starts")
    minimum_required_space: int = setting(default=524_288_000, validator=at_least(0),
                                          help="puts are refused below this many free bytes "
                                          f"(at least {MINIMUM_SPACE_FLOOR}, as in Flume)")
    keep_alive: float = setting("keep-alive", default=3.0, validator=at_least(0),
                                help="seconds a put waits for room when the channel is full")
    use_dual_checkpoints: bool = setting(default=False,
                                         help="also write every checkpoint to backupCheckpointDir")
    backup_checkpoint_dir: Path | None = setting(
        default=None, converter=_to_optional_path, preflight=writable_dir(create=True),
                                                 help="second checkpoint directory")
    fsync_per_transaction: bool = setting(
        default=True, help="fdatasync every commit (false: every fsyncInterval)")
    fsync_interval: int = setting(default=5, validator=at_least(1),
                                  help="seconds between syncs when fsyncPerTransaction=false")
    checkpoint_on_close: bool = setting(default=True, help="write a checkpoint on stop")
    use_log_replay_v1: bool = setting("use-log-replay-v1", default=False,
                                      help="accepted for compatibility; ignored")
    use_fast_replay: bool = setting("use-fast-replay", default=False,
                                    help="accepted for compatibility; replay is always fast")
    encryption: dict[str, str] = namespace("encryption.", help="not supported")

    @property
    def effective_minimum_space(self) -> int:
        """``minimumRequiredSpace``, raised to Flume's 1 MiB floor."""
        return max(self.minimum_required_space, MINIMUM_SPACE_FLOOR)

    def warnings(self) -> Iterator[tuple[str, str]]:
        if self.minimum_required_space < MINIMUM_SPACE_FLOOR:
            yield ("minimumRequiredSpace",
                   f"{self.minimum_required_space} is below the floor of {MINIMUM_SPACE_FLOOR} "
                   "bytes (1 MiB, as in Flume); the floor is used, so the disk never fills "
                   "to 0 under the channel")

    def preflight(self) -> Iterator[tuple[str, str]]:
        """Every data directory can be written (or created)."""
        check = writable_dir(create=True)
        for directory in self.data_dirs:
            problem = check(directory)
            if problem:
                yield "dataDirs", problem

    def problems(self) -> list[tuple[str, str]]:
        """Cross-key checks."""
        found: list[tuple[str, str]] = []
        if self.transaction_capacity > self.capacity:
            found.append(("transactionCapacity", f"must not exceed capacity {self.capacity} "
                          f"(got {self.transaction_capacity}); raise capacity to at least "
                          f"{self.transaction_capacity} or lower transactionCapacity to at most "
                          f"{self.capacity}"))
        if self.use_dual_checkpoints and self.backup_checkpoint_dir is None:
            found.append(("backupCheckpointDir", "is required when useDualCheckpoints=true"))
        if self.backup_checkpoint_dir in (self.checkpoint_dir, *self.data_dirs):
            found.append(("backupCheckpointDir", "must differ from checkpointDir and dataDirs"))
        if self.checkpoint_dir in self.data_dirs:
            found.append(("checkpointDir", "must not also be one of dataDirs"))
        if self.encryption:
            found.append(("encryption", "encrypted file channels are not supported; remove the "
                          "encryption.* keys or encrypt the volume instead"))
        return found


class FileChannel(Channel):
    """Durable channel: committed events survive kill -9 and power loss.

    Args:
        name: the channel's name in the agent.
        settings: a :class:`FileChannelSettings`.
        clock: drives the checkpoint and sync timers.
        free_space: bytes free for a directory (tests inject a fake disk).
    """

    Settings: ClassVar[type] = FileChannelSettings
    settings: FileChannelSettings
    durable: ClassVar[bool] = True
    counter_extra: ClassVar[tuple[str, ...]] = (
        "Open", "Closed", "Unhealthy", "EventPutErrorCount", "EventTakeErrorCount",
        "CheckpointWriteErrorCount", "CheckpointBackupWriteErrorCount", "TornTailCount",
        "DamagedRangeCount", "LostEventCount",
    )

    def __init__(
        self,
        name: str,
        settings: Any = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        free_space: Callable[[Path], int] = disk_free,
    ) -> None:
        super().__init__(name, settings, clock=clock)
        self._free_space = free_space
        self._log: Log[Event] | None = None
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.last_replay: ReplayReport | None = None

    @property
    def size(self) -> int:
        return self._log.size if self._log is not None else 0

    @property
    def engine(self) -> Log[Event]:
        """The open storage engine (raises ChannelException when the channel is stopped)."""
        if self._log is None:
            msg = f"{self.name}: file channel is not started; call start() first"
            raise ChannelException(msg)
        return self._log

    def create_transaction(self) -> Transaction:
        return FileTransaction(self)

    def checkpoint(self) -> None:
        """Write a checkpoint now (the timer does this every checkpointInterval)."""
        try:
            self.engine.checkpoint()
        except OSError as exc:
            self.counter.incr("CheckpointWriteErrorCount")
            log.error("%s: checkpoint failed: %s", self.name, exc)

    def do_start(self) -> None:
        engine: Log[Event] = Log(self._log_config(), Event)
        try:
            report = engine.open()
        except DirectoryInUseError as exc:
            raise ChannelException(f"{self.name}: {exc}") from exc
        except OSError as exc:
            dirs = ", ".join(str(d) for d in (self.settings.checkpoint_dir,
                                               *self.settings.data_dirs))
            msg = (f"file channel {self.name!r} cannot open its directories ({dirs}): {exc}; "
                   "it starts by itself once they are writable and have space")
            raise ChannelException(msg) from exc
        self._log = engine
        self.last_replay = report
        self._report(report)
        self.counter.set("Open", 1)
        self.counter.set("Closed", 0)
        self._stop.clear()
        self._timer = threading.Thread(target=self._run_timer, name=f"{self.name}-checkpoint",
                                       daemon=True)
        self._timer.start()

    def do_stop(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout=30)
            self._timer = None
        engine, self._log = self._log, None
        if engine is not None:
            try:
                engine.close(checkpoint=self.settings.checkpoint_on_close)
            except OSError as exc:  # a full disk: the log is closed; the next start replays it
                log.error("%s: the checkpoint on stop failed (the next start replays the log "
                          "instead): %s", self.name, exc)
        self.counter.set("Open", 0)
        self.counter.set("Closed", 1)

    def _log_config(self) -> LogConfig:
        s = self.settings
        return LogConfig(
            checkpoint_dir=s.checkpoint_dir, data_dirs=s.data_dirs,
            backup_checkpoint_dir=s.backup_checkpoint_dir if s.use_dual_checkpoints else None,
            capacity=s.capacity, max_file_size=s.max_file_size,
            minimum_required_space=s.effective_minimum_space,
            fsync_per_transaction=s.fsync_per_transaction, keep_alive=s.keep_alive,
            free_space=self._free_space,
        )

    def _report(self, report: ReplayReport) -> None:
        self.counter.set("TornTailCount", report.torn_tails)
        self.counter.set("DamagedRangeCount", len(report.damage))
        self.counter.set("LostEventCount", sum(d.lost_events for d in report.damage))
        log.info("%s: replayed %d events in %.3fs (%s)", self.name, report.events,
                 report.seconds, "from checkpoint" if report.from_checkpoint else "full log")
        for damage in report.damage:
            log.warning("%s: %s", self.name, damage.describe())

    def _run_timer(self) -> None:
        """Sync every fsyncInterval (when not per transaction), checkpoint every interval.

        ``self.clock`` only says what is due; the thread blocks on the real clock, at most
        ``_TIMER_SLICE`` at a time.  So a FakeClock drives it without it spinning (and it
        never advances a fake clock): a test advances the clock and the work follows
        within one slice.
        """
        s = self.settings
        every_ckpt = s.checkpoint_interval / 1000.0
        every_sync = math.inf if s.fsync_per_transaction else float(s.fsync_interval)
        now = self.clock.monotonic()
        next_ckpt, next_sync = now + every_ckpt, now + every_sync
        while True:
            left = min(next_ckpt, next_sync) - self.clock.monotonic()
            if self._stop.wait(min(max(left, 0.0), _TIMER_SLICE)):
                return
            engine, now = self._log, self.clock.monotonic()
            if engine is None:
                return
            try:
                if now >= next_sync:
                    next_sync = now + every_sync
                    engine.sync()
                if now >= next_ckpt:
                    next_ckpt = now + every_ckpt
                    self.checkpoint()
            except (StorageError, OSError) as exc:
                self.counter.set("Unhealthy", 1)
                log.error("%s: background sync failed: %s", self.name, exc)

    def _map_error(self, exc: Exception, what: str) -> ChannelException:
        self.counter.incr("EventPutErrorCount" if what == "put" else "EventTakeErrorCount")
        if not self.engine.healthy:
            self.counter.set("Unhealthy", 1)
        msg = f"{self.name}: {what} failed: {exc}"
        if isinstance(exc, OutOfSpaceError) or getattr(exc, "errno", None) in _NO_SPACE or \
                getattr(exc.__cause__, "errno", None) in _NO_SPACE:
            msg += (f" (file channel {self.name!r}: free space in checkpointDir/dataDirs; puts "
                    "resume by themselves once there is more than minimumRequiredSpace = "
                    f"{self.settings.effective_minimum_space} bytes free)")
        if isinstance(exc, CapacityError):
            return ChannelFullException(msg)
        return ChannelException(msg)


class FileTransaction(Transaction):
    """Buffers puts until commit; takes come straight from the log's queue."""

    channel: FileChannel

    def do_begin(self) -> None:
        self._puts: list[Event] = []
        self._tickets: list[TakeTicket] = []

    def do_put_batch(self, events: Sequence[Event]) -> None:
        self._puts.extend(events)

    def do_take_batch(self, max_events: int) -> list[Event]:
        # Like every kernel channel, wait up to keep-alive for a first event.
        wait = self.channel.settings.keep_alive
        events, ticket = self.channel.engine.take(max_events, wait=wait)
        if ticket is not None:
            self._tickets.append(ticket)
        return events

    def do_commit(self) -> None:
        engine = self.channel.engine
        if self._puts:
            try:
                engine.put(self._puts)
            except (CapacityError, OutOfSpaceError, StorageError, OSError) as exc:
                raise self.channel._map_error(exc, "put") from exc
            self._puts = []
        while self._tickets:
            try:
                engine.commit_take(self._tickets[0])
            except (StorageError, OSError) as exc:
                raise self.channel._map_error(exc, "take commit") from exc
            self._tickets.pop(0)

    def do_rollback(self) -> None:
        self._puts = []
        engine = self.channel._log
        for ticket in reversed(self._tickets):
            if engine is not None:
                engine.rollback_take(ticket)
        self._tickets = []
