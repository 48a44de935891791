"""Sources keep their promises behind each standard selector in the channel processor.

The contract's recording channel is the required channel; the replicating case
adds an optional memory channel, the multiplexing case routes by a header the
seq source does not set, so every event takes the default route.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flume_testkit import SourceContract, SourceDriver

from flume_sdk import Channel, ChannelProcessor, Source
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.selectors import (
    LoadBalancingSelector,
    MultiplexingSelector,
    ReplicatingSelector,
)
from flume_sdk.components.seq_source import SequenceSource


def drive_seq(driver: SourceDriver, count: int) -> int:
    """``count`` calls to ``process()``; acknowledged = how far the sequence moved."""
    source = driver.source
    assert isinstance(source, SequenceSource)
    before = source.next_value
    driver.process(times=count)
    return source.next_value - before

__all__ = [
    "TestSeqBehindLoadBalancingSelector",
    "TestSeqBehindMultiplexingSelector",
    "TestSeqBehindReplicatingSelector",
]


class _SeqContract(SourceContract):
    @pytest.fixture
    def make_source(self) -> Callable[..., Source]:
        return lambda **overrides: SequenceSource.from_config("r1", overrides)

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        return drive_seq


class TestSeqBehindReplicatingSelector(_SeqContract):
    @pytest.fixture
    def channel_processor_for(self) -> Callable[[Channel], ChannelProcessor]:
        def build(channel: Channel) -> ChannelProcessor:
            spare = MemoryChannel.from_config("spare", {"keep-alive": "0"})
            selector = ReplicatingSelector.from_config([channel, spare], {"optional": "spare"})
            return ChannelProcessor(selector)
        return build


class TestSeqBehindMultiplexingSelector(_SeqContract):
    @pytest.fixture
    def channel_processor_for(self) -> Callable[[Channel], ChannelProcessor]:
        def build(channel: Channel) -> ChannelProcessor:
            props = {"header": "route", "default": channel.name}
            return ChannelProcessor(MultiplexingSelector.from_config([channel], props))
        return build


class TestSeqBehindLoadBalancingSelector(_SeqContract):
    @pytest.fixture
    def channel_processor_for(self) -> Callable[[Channel], ChannelProcessor]:
        return lambda channel: ChannelProcessor(LoadBalancingSelector.from_config([channel]))
