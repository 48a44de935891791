"""FileChannel passes the testkit's ChannelContract as a durable channel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from flume_channel_file import FileChannel
from flume_testkit import ChannelContract


class TestFileChannelContract(ChannelContract):
    durable: ClassVar[bool | None] = True

    @pytest.fixture
    def make_channel(self, tmp_path: Path) -> Callable[..., FileChannel]:
        def make(**overrides: str) -> FileChannel:
            props = {
                "checkpointDir": str(tmp_path / "checkpoint"),
                "dataDirs": str(tmp_path / "data"),
                "minimumRequiredSpace": "0",
                "capacity": "1000",
                "transactionCapacity": "100",
                "keep-alive": "0",
                **overrides,
            }
            return FileChannel.from_config("contract", props)

        return make
