"""The memory channel keeps every channel promise (it is not durable)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flume_testkit import ChannelContract

from flume_sdk import Channel
from flume_sdk.components.memory_channel import MemoryChannel

__all__ = ["TestMemoryChannelContract"]


class TestMemoryChannelContract(ChannelContract):
    @pytest.fixture
    def make_channel(self) -> Callable[..., Channel]:
        def make(**overrides: str) -> Channel:
            return MemoryChannel.from_config("c1", {"keep-alive": "0.05", **overrides})
        return make
