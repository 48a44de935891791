"""Small files that must survive a crash: positions, trackers, markers, journals.

A file is replaced atomically (temporary file, rename over the old one), so a
reader sees the old content or the new, never half of either. With ``sync`` the
new content and the rename are made durable too (fsync of the file, then of its
directory), so a power loss cannot bring the old content back.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fsync_directory", "write_atomically"]


def write_atomically(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Replace ``path`` with ``data`` all at once; durable before returning when ``sync``."""
    temp = path.with_name(path.name + ".tmp")
    try:
        with open(temp, "wb") as out:
            out.write(data)
            if sync:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if sync:
        fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make the names in ``directory`` (creations, renames, deletions) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
