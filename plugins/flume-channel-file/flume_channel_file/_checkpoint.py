"""Checkpoints: a snapshot of the queue so a restart replays only the log written since.

Two slots (``checkpoint.0`` / ``checkpoint.1``) alternate by generation; each is written to
a temporary file, fsynced and renamed, then the directory is fsynced, so a crash leaves the
previous slot intact.  With ``useDualCheckpoints`` the same file also goes to the backup
directory.  Loading picks the newest slot whose checksum holds; a damaged slot is moved to
``quarantine/`` next to it, never deleted.

Layout: ``magic b"FLUMECKP" | version u32 | reserved u32 | generation u64 | next_seq u64 |
log segment u64 | log offset u64 | piece count u64 | pieces | crc32 u32``, where a piece is
``segment u64 | record offset u64 | record first seq u64 | record length u32 |
record count u32 | start u32 | end u32``.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import attrs

from flume_sdk import fsync_directory, write_atomically

__all__ = ["CheckpointData", "LoadedCheckpoint", "Piece", "load_checkpoint", "write_checkpoint"]

_MAGIC = b"FLUMECKP"
_VERSION = 1
_HEADER = struct.Struct("<8sIIQQQQQ")
_PIECE = struct.Struct("<QQQIIII")
_CRC = struct.Struct("<I")
_SLOTS = ("checkpoint.0", "checkpoint.1")

Piece = tuple[int, int, int, int, int, int, int]
"""``(segment, offset, first_seq, length, count, start, end)`` of one queued slice."""


@attrs.frozen
class CheckpointData:
    """The content of one checkpoint."""

    generation: int
    next_seq: int
    log_segment: int
    log_offset: int
    pieces: list[Piece]

    def encode(self) -> bytes:
        """Serialise with a trailing checksum."""
        head = _HEADER.pack(
            _MAGIC, _VERSION, 0, self.generation, self.next_seq,
            self.log_segment, self.log_offset, len(self.pieces),
        )
        pack = _PIECE.pack
        body = head + b"".join([pack(*piece) for piece in self.pieces])
        return body + _CRC.pack(zlib.crc32(body))

    @classmethod
    def decode(cls, data: bytes) -> CheckpointData | None:
        """Parse ``data``; None when it is truncated or fails its checksum."""
        if len(data) < _HEADER.size + _CRC.size:
            return None
        (crc,) = _CRC.unpack_from(data, len(data) - _CRC.size)
        if zlib.crc32(memoryview(data)[: -_CRC.size]) != crc:
            return None
        magic, version, _r, gen, next_seq, seg, off, n = _HEADER.unpack_from(data, 0)
        if magic != _MAGIC or version != _VERSION:
            return None
        if _HEADER.size + n * _PIECE.size + _CRC.size != len(data):
            return None
        pieces = list(_PIECE.iter_unpack(memoryview(data)[_HEADER.size : -_CRC.size]))
        return cls(gen, next_seq, seg, off, pieces)


@attrs.define
class LoadedCheckpoint:
    """The best checkpoint found, plus the slots that were damaged."""

    data: CheckpointData | None
    quarantined: list[Path] = attrs.Factory(list)
    older: CheckpointData | None = None


def write_checkpoint(data: CheckpointData, dirs: list[Path]) -> None:
    """Write ``data`` atomically into its slot in every directory of ``dirs``."""
    encoded = data.encode()
    slot = _SLOTS[data.generation % 2]
    for directory in dirs:
        write_atomically(directory / slot, encoded)


def load_checkpoint(dirs: list[Path], quarantine: bool = True) -> LoadedCheckpoint:
    """Return the newest valid checkpoint in ``dirs``; damaged slots go to quarantine."""
    result = LoadedCheckpoint(None)
    valid: list[CheckpointData] = []
    for directory in dirs:
        for slot in _SLOTS:
            path = directory / slot
            if not path.exists():
                continue
            data = CheckpointData.decode(path.read_bytes())
            if data is None:
                result.quarantined.append(_quarantine(path) if quarantine else path)
            else:
                valid.append(data)
    valid.sort(key=lambda d: d.generation, reverse=True)
    if valid:
        result.data = valid[0]
        older = [d for d in valid if d.generation < valid[0].generation]
        result.older = older[0] if older else None
    return result


def _quarantine(path: Path) -> Path:
    target_dir = path.parent / "quarantine"
    target_dir.mkdir(exist_ok=True)
    target = target_dir / f"{path.name}.{os.getpid()}.{zlib.crc32(str(path).encode())}"
    n = 0
    while target.exists():
        n += 1
        target = target.with_name(f"{target.name}.{n}")
    os.replace(path, target)
    fsync_directory(path.parent)
    return target
