"""Factories for the jdbc channel on SQLite (a file under tmp_path) and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flume_channel_jdbc import JdbcChannel

Factory = Callable[..., JdbcChannel]


def _capacity_keys(overrides: dict[str, str]) -> dict[str, str]:
    """The contract passes ``capacity``; this channel's key is Flume's ``maximum.capacity``."""
    if "capacity" in overrides:
        overrides["maximum.capacity"] = overrides.pop("capacity")
    return overrides


@pytest.fixture
def sqlite_channel(tmp_path: Path) -> Factory:
    def make(name: str = "c1", **overrides: str) -> JdbcChannel:
        props = {"db.type": "SQLITE", "driver.url": str(tmp_path / "channel.sqlite"),
                 **_capacity_keys(overrides)}
        return JdbcChannel.from_config(name, props)
    return make


@pytest.fixture
def postgres_channel(postgres_url: str) -> Factory:
    def make(name: str = "c1", **overrides: str) -> JdbcChannel:
        props = {"db.type": "POSTGRESQL", "driver.url": postgres_url, **_capacity_keys(overrides)}
        return JdbcChannel.from_config(name, props)
    return make
