"""The netcat source keeps every source promise: ``OK`` only after the channel committed."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from flume_testkit import SourceContract, SourceDriver

from flume_sdk import Source
from flume_sdk.components.netcat_source import NetcatSource

__all__ = ["TestNetcatSourceContract", "send_lines"]


def send_lines(driver: SourceDriver, count: int) -> int:
    """Send ``count`` lines on one connection; return how many ``OK`` replies came back."""
    source = driver.source
    assert isinstance(source, NetcatSource)
    payload = b"".join(f"line-{i}\n".encode() for i in range(count))
    with socket.create_connection(("127.0.0.1", source.port), timeout=5) as client:
        client.sendall(payload)
        replies = b""
        while replies.count(b"\n") < count:
            chunk = client.recv(65536)
            if not chunk:
                break
            replies += chunk
    return sum(1 for line in replies.splitlines() if line == b"OK")


class TestNetcatSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self) -> Callable[..., Source]:
        def make(**overrides: str) -> Source:
            return NetcatSource.from_config("r1", {"bind": "127.0.0.1", "port": "0", **overrides})
        return make

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        return send_lines
