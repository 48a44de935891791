"""Flume agents as child processes (``flume_sdk.cli agent``) with HTTP monitoring, for tests
that need the real runners (backoff, error backoff) around the Kafka components."""

from __future__ import annotations

import os
from pathlib import Path

from flume_testkit.agent import AgentProcess

__all__ = ["AgentProcess", "output_lines"]


def output_lines(directory: Path) -> list[str]:
    """Every line written by a ``file_roll`` sink into ``directory`` (all its files)."""
    found: list[str] = []
    for name in sorted(os.listdir(directory)):
        found.extend((directory / name).read_text().splitlines())
    return found
