"""Opening a log: lock the directories, load the newest good checkpoint, replay after it.

Replay rebuilds the queue from the checkpoint plus the records written after its log
position, cuts a torn tail, quarantines damaged files (damaged checkpoint slots too) and
seals the newest segment, so the reopened log always appends to a fresh segment.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from flume_channel_file._checkpoint import CheckpointData, load_checkpoint
from flume_channel_file._damage import Damage, DamageKind
from flume_channel_file._dirlock import DirectoryLock
from flume_channel_file._log_config import LogConfig
from flume_channel_file._replay import ReplayResult, replay
from flume_channel_file._segments import SegmentWriter, list_segments

__all__ = ["Recovered", "lock_dirs", "recover"]


@attrs.define
class Recovered:
    """The state :func:`recover` rebuilt from disk."""

    paths: dict[int, Path]
    result: ReplayResult
    checkpoint: CheckpointData | None
    older: CheckpointData | None
    damage: list[Damage]
    quarantined: set[int]

    @property
    def live(self) -> dict[int, int]:
        """Queued events per segment (0 for segments with none)."""
        live = dict.fromkeys(self.paths, 0)
        for run, s, e in self.result.slices:
            live[run.segment] = live.get(run.segment, 0) + (e - s)
        return live

    @property
    def next_seq(self) -> int:
        """The first sequence number the reopened log hands out."""
        return max(self.result.next_seq, self.checkpoint.next_seq if self.checkpoint else 1)


def lock_dirs(config: LogConfig) -> list[DirectoryLock]:
    """Create and lock every directory of the channel, or raise DirectoryInUseError."""
    locks: list[DirectoryLock] = []
    try:
        for directory in dict.fromkeys([*config.checkpoint_dirs, *config.data_dirs]):
            directory.mkdir(parents=True, exist_ok=True)
            lock = DirectoryLock(directory)
            lock.acquire()
            locks.append(lock)
    except BaseException:
        for lock in locks:
            lock.release()
        raise
    return locks


def recover(config: LogConfig) -> Recovered:
    """Load, replay and seal; the caller holds the directory locks."""
    loaded = load_checkpoint(config.checkpoint_dirs)
    bad_slots = [Damage(DamageKind.CORRUPT_CHECKPOINT, p, quarantined_to=p)
                 for p in loaded.quarantined]
    paths = _all_segments(config.data_dirs)
    result = replay(paths, loaded.data)
    quarantined = set(result.quarantined)
    quarantined.update(seg for seg, path in paths.items() if path.parent.name == "quarantine")
    _seal_newest(paths, result, quarantined)
    return Recovered(paths, result, loaded.data, loaded.older, bad_slots + result.damage,
                     quarantined)


def _all_segments(data_dirs: tuple[Path, ...]) -> dict[int, Path]:
    found: dict[int, Path] = {}
    for data_dir in data_dirs:
        for where in (data_dir / "quarantine", data_dir):
            if where.is_dir():
                found.update(list_segments(where))
    return found


def _seal_newest(paths: dict[int, Path], result: ReplayResult, quarantined: set[int]) -> None:
    newest = max(paths, default=None)
    if newest is None or result.newest_end is None or result.newest_sealed:
        return
    if newest in quarantined:
        return
    SegmentWriter.reopen(paths[newest], newest, result.newest_end).seal()
