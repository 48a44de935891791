"""SPILLABLEMEMORY passes the ChannelContract in its three shapes.

* memory only (``overflowCapacity = 0``): not durable, like the memory channel;
* overflow only (``memoryCapacity = 0``): every put spills, durable like the file channel;
* both, with a memory of 2 events: most batches spill, so FIFO, rollback order and the
  concurrency check run across the memory/overflow boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from flume_channel_file import SpillableMemoryChannel
from flume_testkit import ChannelContract

Factory = Callable[..., SpillableMemoryChannel]


def spillable(tmp_path: Path, capacity_key: str, **fixed: str) -> Factory:
    """A factory mapping the contract's ``capacity`` to ``capacity_key``."""
    def make(**overrides: str) -> SpillableMemoryChannel:
        capacity = overrides.pop("capacity", "1000")
        props = {"checkpointDir": str(tmp_path / "checkpoint"), "dataDirs": str(tmp_path / "data"),
                 "minimumRequiredSpace": "0", "overflowTimeout": "0.05", **fixed,
                 capacity_key: capacity, **overrides}
        return SpillableMemoryChannel.from_config("c1", props)
    return make


class TestSpillableMemoryOnlyContract(ChannelContract):
    @pytest.fixture
    def make_channel(self, tmp_path: Path) -> Factory:
        return spillable(tmp_path, "memoryCapacity", overflowCapacity="0")


class TestSpillableOverflowOnlyContract(ChannelContract):
    durable: ClassVar[bool | None] = True

    @pytest.fixture
    def make_channel(self, tmp_path: Path) -> Factory:
        return spillable(tmp_path, "overflowCapacity", memoryCapacity="0")


class TestSpillableAcrossBothContract(ChannelContract):
    skip_contract: ClassVar[dict[str, str]] = {
        "test_commit_beyond_capacity_raises_channel_full_exception":
            "here the channel holds memoryCapacity (2) + overflowCapacity (the contract's "
            "capacity); a full channel is checked by the memory-only and overflow-only shapes",
    }

    @pytest.fixture
    def make_channel(self, tmp_path: Path) -> Factory:
        def make(**overrides: str) -> SpillableMemoryChannel:
            overrides.setdefault("transactionCapacity", "2")
            return spillable(tmp_path, "overflowCapacity", memoryCapacity="2")(**overrides)
        return make
