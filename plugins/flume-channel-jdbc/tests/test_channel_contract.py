"""The jdbc channel passes the testkit's ChannelContract as a durable channel on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import pytest
from flume_channel_jdbc import JdbcChannel
from flume_testkit import ChannelContract

pytestmark = pytest.mark.timeout(120)


class TestJdbcChannelOnSqliteContract(ChannelContract):
    durable: ClassVar[bool | None] = True

    @pytest.fixture
    def make_channel(self, sqlite_channel: Callable[..., JdbcChannel]) -> Callable[..., JdbcChannel]:
        return lambda **overrides: sqlite_channel(**overrides)


class TestJdbcChannelOnPostgresContract(ChannelContract):
    durable: ClassVar[bool | None] = True

    @pytest.fixture
    def make_channel(self, postgres_channel: Callable[..., JdbcChannel]) -> Callable[..., JdbcChannel]:
        return lambda **overrides: postgres_channel(**overrides)
