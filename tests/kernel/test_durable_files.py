"""write_atomically: a reader sees the old content or the new one, never a mix."""

from __future__ import annotations

from pathlib import Path

import pytest

from flume_sdk import fsync_directory, write_atomically


@pytest.mark.parametrize("sync", [True, False])
def test_replaces_the_content_and_leaves_no_temporary_file(tmp_path: Path, sync: bool) -> None:
    target = tmp_path / "positions.json"
    write_atomically(target, b"old", sync=sync)
    write_atomically(target, b"new", sync=sync)
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["positions.json"]


def test_a_failed_write_keeps_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "positions.json"
    write_atomically(target, b"old")
    with pytest.raises(TypeError):
        write_atomically(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["positions.json"]


def test_fsync_directory_names_a_missing_directory(tmp_path: Path) -> None:
    fsync_directory(tmp_path)
    with pytest.raises(FileNotFoundError, match="gone"):
        fsync_directory(tmp_path / "gone")
