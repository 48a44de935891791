"""Segment files: naming, the preallocating writer, and the scanner that finds damage.

The scanner reads a segment with ``mmap`` and yields every valid record.  A record whose
header or checksum is wrong starts a *damaged range*; the scanner then searches for the
next valid record (resynchronisation).  A damaged range followed by a valid record is
corruption; a damaged range that runs to the end is a torn tail when the segment is the
newest one (a crash mid-write) and corruption otherwise (sealed segments must end in a
SEAL record).
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from flume_channel_file._format import (
    HEADER_SIZE,
    RECORD_HEADER,
    RECORD_MAGIC,
    SEGMENT_HEADER,
    SEGMENT_MAGIC,
    RecordType,
    encode_record,
    encode_segment_header,
    record_crc,
)
from flume_sdk import fsync_directory

__all__ = [
    "SEAL_RECORD",
    "Record",
    "SegmentScan",
    "SegmentWriter",
    "list_segments",
    "read_record",
    "scan_segment",
    "segment_name",
]

SEAL_RECORD = encode_record(RecordType.SEAL, b"")
_NAME = re.compile(r"^log-(\d{12})\.seg$")
_MAGIC_BYTES = RECORD_MAGIC.to_bytes(2, "little")
_ZERO_CHUNK = 1 << 20
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_SMALL_SPARSE = 64 << 20


def segment_name(segment_id: int) -> str:
    """File name of segment ``segment_id``."""
    return f"log-{segment_id:012d}.seg"


def list_segments(data_dir: Path) -> dict[int, Path]:
    """Map segment id to path for every segment file directly in ``data_dir``."""
    found: dict[int, Path] = {}
    for entry in os.scandir(data_dir):
        match = _NAME.match(entry.name)
        if match and entry.is_file():
            found[int(match.group(1))] = Path(entry.path)
    return found


class SegmentWriter:
    """Appends records to one preallocated segment file."""

    def __init__(
        self, path: Path, segment_id: int, max_size: int, chunk: int, first_seq: int
    ) -> None:
        self.path = path
        self.segment_id = segment_id
        self.max_size = max_size
        self._chunk = chunk
        self.fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o644)
        self._allocated = 0
        try:
            self._preallocate(HEADER_SIZE)
            os.pwrite(self.fd, encode_segment_header(segment_id, first_seq), 0)
            os.fdatasync(self.fd)
            fsync_directory(path.parent)
        except OSError:
            # A full disk: leave no half-made (sparse) segment behind for the next start.
            os.close(self.fd)
            self.fd = -1
            path.unlink(missing_ok=True)
            raise
        self.offset = HEADER_SIZE

    @classmethod
    def reopen(cls, path: Path, segment_id: int, offset: int) -> SegmentWriter:
        """Open an existing segment to append at ``offset`` (used to seal it)."""
        writer = cls.__new__(cls)
        writer.path = path
        writer.segment_id = segment_id
        writer.max_size = offset + len(SEAL_RECORD)
        writer._chunk = 0
        writer.fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        writer._allocated = os.fstat(writer.fd).st_size
        writer.offset = offset
        return writer

    def has_room(self, size: int) -> bool:
        """Whether a record of ``size`` bytes still fits before the seal."""
        empty = self.offset == HEADER_SIZE
        return empty or self.offset + size + len(SEAL_RECORD) <= self.max_size

    def append(self, buffers: list[bytes]) -> int:
        """Write ``buffers`` as one record at the end; return the record's offset."""
        size = sum(len(b) for b in buffers)
        offset = self.offset
        self._preallocate(offset + size)
        written = os.pwritev(self.fd, buffers, offset)
        if written != size:
            self._write_rest(b"".join(buffers)[written:], offset + written)
        self.offset = offset + size
        return offset

    def seal(self) -> None:
        """Mark the segment complete, sync it and close the descriptor."""
        self.append([SEAL_RECORD])
        self.close()

    def close(self) -> None:
        """Sync and close the file (idempotent)."""
        if self.fd >= 0:
            try:
                os.fdatasync(self.fd)
            finally:
                os.close(self.fd)
                self.fd = -1

    def _write_rest(self, data: bytes, offset: int) -> None:
        view = memoryview(data)
        while view:
            n = os.pwrite(self.fd, view, offset)
            view = view[n:]
            offset += n

    def _preallocate(self, needed: int) -> None:
        # Reserving blocks ahead keeps fdatasync from growing the file on every commit.
        if needed <= self._allocated:
            return
        target = max(needed, min(self._allocated + self._chunk, self.max_size))
        try:
            os.posix_fallocate(self.fd, self._allocated, target - self._allocated)
        except OSError as exc:
            if exc.errno in _NO_SPACE:
                # Short of space: reserve only what this record needs, or fail now rather
                # than leave a sparse hole a later read could fault on.
                os.posix_fallocate(self.fd, self._allocated, needed - self._allocated)
                target = needed
            elif needed > os.fstat(self.fd).st_size:  # no fallocate on this file system
                os.ftruncate(self.fd, needed)
        self._allocated = target


@attrs.frozen
class Record:
    """One valid record found by the scanner."""

    offset: int
    type: int
    payload: bytes


@attrs.define
class SegmentScan:
    """What scanning one segment found besides its records."""

    segment_id: int
    first_seq: int | None = None
    header_ok: bool = True
    end: int = HEADER_SIZE
    sealed: bool = False
    damaged: list[tuple[int, int]] = attrs.Factory(list)
    tail_damage: tuple[int, int] | None = None
    file_size: int = 0


def read_record(fd: int, offset: int, length: int) -> bytes | None:
    """Read the payload of the record at ``offset``; None when it fails its checksum."""
    data = os.pread(fd, RECORD_HEADER.size + length, offset)
    if len(data) != RECORD_HEADER.size + length:
        return None
    magic, rtype, _flags, size, crc = RECORD_HEADER.unpack_from(data, 0)
    payload = data[RECORD_HEADER.size :]
    if magic != RECORD_MAGIC or size != length:
        return None
    if record_crc(rtype, zlib.crc32(payload), size) != crc:
        return None
    return payload


def scan_segment(
    path: Path, segment_id: int, start: int = HEADER_SIZE
) -> tuple[SegmentScan, Iterator[Record]]:
    """Scan ``path`` from ``start``; the scan summary fills in as the iterator is consumed."""
    scan = SegmentScan(segment_id)
    return scan, _scan_records(path, scan, start)


def _scan_records(path: Path, scan: SegmentScan, start: int) -> Iterator[Record]:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        scan.file_size = size
        if size < HEADER_SIZE:
            scan.header_ok = False
            scan.end = 0
            return
        with _readable(fh, size) as mm:
            magic, _version, _reserved, seg_id, first_seq = SEGMENT_HEADER.unpack_from(mm, 0)
            if magic != SEGMENT_MAGIC or seg_id != scan.segment_id:
                scan.header_ok = False
                scan.end = 0
                return
            scan.first_seq = first_seq
            yield from _walk(mm, scan, max(start, HEADER_SIZE), size)


@contextlib.contextmanager
def _readable(fh: BinaryIO, size: int) -> Iterator[Any]:
    """The segment's bytes: mapped, or read when the file is sparse.

    Touching a hole of a mapped file on a full file system (tmpfs) raises SIGBUS and kills
    the process, so a sparse segment (one a full disk left half-allocated) is read
    instead, when it is small enough to hold in memory.
    """
    st = os.fstat(fh.fileno())
    if st.st_blocks * 512 < size and size <= _SMALL_SPARSE:
        yield fh.read()
        return
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        yield mm


def _walk(mm: bytes | mmap.mmap, scan: SegmentScan, pos: int, size: int) -> Iterator[Record]:
    scan.end = pos
    while True:
        record = _parse_at(mm, pos, size)
        if record is not None:
            yield record
            pos += RECORD_HEADER.size + len(record.payload)
            scan.end = pos
            if record.type == RecordType.SEAL:
                scan.sealed = True
                return
            continue
        if _zero_from(mm, pos, size):
            return
        resume = _resync(mm, pos + 1, size)
        if resume is None:
            scan.tail_damage = (pos, _last_nonzero(mm, pos, size))
            return
        scan.damaged.append((pos, resume))
        pos = resume


def _parse_at(mm: bytes | mmap.mmap, pos: int, size: int) -> Record | None:
    if pos + RECORD_HEADER.size > size:
        return None
    magic, rtype, _flags, length, crc = RECORD_HEADER.unpack_from(mm, pos)
    if magic != RECORD_MAGIC or rtype not in RecordType.ALL:
        return None
    begin = pos + RECORD_HEADER.size
    if begin + length > size:
        return None
    payload = mm[begin : begin + length]
    if record_crc(rtype, zlib.crc32(payload), length) != crc:
        return None
    return Record(pos, rtype, payload)


def _zero_from(mm: bytes | mmap.mmap, pos: int, size: int) -> bool:
    while pos < size:
        chunk = mm[pos : pos + _ZERO_CHUNK]
        if chunk.count(0) != len(chunk):
            return False
        pos += len(chunk)
    return True


def _last_nonzero(mm: bytes | mmap.mmap, pos: int, size: int) -> int:
    end = pos
    while pos < size:
        chunk = mm[pos : pos + _ZERO_CHUNK]
        stripped = chunk.rstrip(b"\0")
        if stripped:
            end = pos + len(stripped)
        pos += len(chunk)
    return end


def _resync(mm: bytes | mmap.mmap, pos: int, size: int) -> int | None:
    while True:
        found = mm.find(_MAGIC_BYTES, pos, size)
        if found < 0:
            return None
        if _parse_at(mm, found, size) is not None:
            return found
        pos = found + 1
