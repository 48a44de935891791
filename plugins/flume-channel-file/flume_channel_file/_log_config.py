"""The storage engine's configuration and its report after opening."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import attrs

from flume_channel_file._damage import Damage

__all__ = ["LogConfig", "ReplayReport", "disk_free"]


def disk_free(path: Path) -> int:
    """Bytes available to this user on the filesystem holding ``path``."""
    return shutil.disk_usage(path).free


@attrs.frozen(kw_only=True)
class LogConfig:
    """Everything the engine needs; the channel fills it from Flume's keys."""

    checkpoint_dir: Path
    data_dirs: tuple[Path, ...]
    backup_checkpoint_dir: Path | None = None
    capacity: int = 1_000_000
    max_file_size: int = 2_146_435_071
    minimum_required_space: int = 524_288_000
    fsync_per_transaction: bool = True
    keep_alive: float = 3.0
    preallocate_chunk: int = 64 << 20
    hot_cache_bytes: int = 32 << 20
    free_space: Callable[[Path], int] = disk_free

    @property
    def checkpoint_dirs(self) -> list[Path]:
        """``checkpointDir``, then ``backupCheckpointDir`` when dual checkpoints are on."""
        dirs = [self.checkpoint_dir]
        if self.backup_checkpoint_dir is not None:
            dirs.append(self.backup_checkpoint_dir)
        return dirs


@attrs.define
class ReplayReport:
    """What :meth:`Log.open` found."""

    from_checkpoint: bool
    events: int
    records: int
    segments_scanned: int
    torn_tails: int
    damage: list[Damage]
    seconds: float
