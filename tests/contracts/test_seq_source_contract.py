"""The seq source keeps every source promise: its position only advances after a commit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flume_testkit import SourceContract, SourceDriver

from flume_sdk import Source
from flume_sdk.components.seq_source import SequenceSource

__all__ = ["TestSequenceSourceContract", "drive_seq"]


def drive_seq(driver: SourceDriver, count: int) -> int:
    """``count`` calls to ``process()``; acknowledged = how far the sequence moved."""
    source = driver.source
    assert isinstance(source, SequenceSource)
    before = source.next_value
    driver.process(times=count)
    return source.next_value - before


class TestSequenceSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self) -> Callable[..., Source]:
        return lambda **overrides: SequenceSource.from_config("r1", overrides)

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        return drive_seq
