"""The netcat source keeps every source promise: ``OK`` only after the channel committed."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Callable

import pytest
from flume_testkit import Driven, SourceContract, SourceDriver

from flume_sdk import Source
from flume_sdk.components.netcat_source import NetcatSource

__all__ = ["TestNetcatSourceContract", "send_lines"]


_DRIVES = itertools.count()


def send_lines(driver: SourceDriver, count: int) -> Driven:
    """Send ``count`` unique lines on one connection; the ``OK`` replies are the acknowledgements."""
    source = driver.source
    assert isinstance(source, NetcatSource)
    drive = next(_DRIVES)
    lines = [f"line-{drive:04d}-{i:06d}".encode() for i in range(count)]
    payload = b"".join(line + b"\n" for line in lines)
    with socket.create_connection(("127.0.0.1", source.port), timeout=5) as client:
        client.sendall(payload)
        replies = b""
        while replies.count(b"\n") < count:
            chunk = client.recv(65536)
            if not chunk:
                break
            replies += chunk
    return Driven(sum(1 for line in replies.splitlines() if line == b"OK"), sent=lines)


class TestNetcatSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self) -> Callable[..., Source]:
        def make(**overrides: str) -> Source:
            return NetcatSource.from_config("r1", {"bind": "127.0.0.1", "port": "0", **overrides})
        return make

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], Driven]:
        return send_lines
