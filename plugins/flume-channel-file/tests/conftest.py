"""Fixtures for the file channel tests: directories and engine factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flume_channel_file._log import Log
from flume_channel_file._log_config import LogConfig

from flume_sdk import Event

__all__: list[str] = []

MakeLog = Callable[..., Log[Event]]


@pytest.fixture
def log_config(tmp_path: Path) -> LogConfig:
    return LogConfig(
        checkpoint_dir=tmp_path / "checkpoint",
        data_dirs=(tmp_path / "data",),
        minimum_required_space=0,
        keep_alive=0.0,
        preallocate_chunk=1 << 20,
    )


@pytest.fixture
def make_log(log_config: LogConfig) -> Iterator[MakeLog]:
    opened: list[Log[Event]] = []

    def make(**overrides: Any) -> Log[Event]:
        import attrs

        log: Log[Event] = Log(attrs.evolve(log_config, **overrides), Event)
        log.open()
        opened.append(log)
        return log

    yield make
    for log in opened:
        log.abandon()


def numbered_events(n: int, start: int = 0, size: int = 40) -> list[Event]:
    """``n`` numbered events with a header."""
    return [
        Event(f"{i:08d}".encode().ljust(size, b"."), {"n": str(i)}) for i in range(start, start + n)
    ]


@pytest.fixture
def events() -> Callable[..., list[Event]]:
    """Factory of numbered events: ``events(n, start=0, size=40)``."""
    return numbered_events
