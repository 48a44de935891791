"""netcat: OK only after commit, FAILED when the channel refuses, long lines refused."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from flume_sdk import ChannelProcessor
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.netcat_source import NetcatSource
from flume_sdk.components.selectors import ReplicatingSelector


@pytest.fixture
def channel() -> MemoryChannel:
    return MemoryChannel.from_config("c1", {"capacity": "2", "transactionCapacity": "2",
                                            "keep-alive": "0"})


@pytest.fixture
def source(channel: MemoryChannel) -> Iterator[NetcatSource]:
    src = NetcatSource.from_config("r1", {"bind": "127.0.0.1", "port": "0",
                                          "max-line-length": "10"})
    src.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    src.start()
    yield src
    src.stop()


def talk(port: int, data: bytes, lines: int) -> list[bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(data)
        out = b""
        while out.count(b"\n") < lines:
            chunk = client.recv(4096)
            assert chunk, "connection closed early"
            out += chunk
    return out.splitlines()


def test_each_line_is_acknowledged_after_commit(source: NetcatSource, channel: MemoryChannel) -> None:
    assert talk(source.port, b"a\nb\n", 2) == [b"OK", b"OK"]
    assert channel.size == 2


def test_full_channel_answers_failed_and_keeps_committed(
    source: NetcatSource, channel: MemoryChannel
) -> None:
    talk(source.port, b"a\nb\n", 2)
    (reply,) = talk(source.port, b"c\n", 1)
    assert reply.startswith(b"FAILED:") and b"no room" in reply
    assert channel.size == 2
    assert source.counter.get("ChannelWriteFail") == 1


def test_lines_committed_before_a_refusal_are_answered_ok(
    source: NetcatSource, channel: MemoryChannel
) -> None:
    ok1, ok2, failed = talk(source.port, b"a\nb\nc\n", 3)
    assert (ok1, ok2) == (b"OK", b"OK") and failed.startswith(b"FAILED:")
    assert channel.size == 2
    assert source.counter.get("EventAcceptedCount") == 2


def test_line_over_max_line_length_is_refused_and_connection_keeps_working(
    source: NetcatSource, channel: MemoryChannel
) -> None:
    replies = talk(source.port, b"0123456789ABCDEF\nok\n", 2)
    assert replies[0] == b"FAILED: line exceeds r1.max-line-length = 10 bytes"
    assert replies[1] == b"OK"
    assert source.counter.get("EventReadFail") == 1


def test_stop_releases_the_port_for_a_second_instance(channel: MemoryChannel) -> None:
    first = NetcatSource.from_config("r1", {"bind": "127.0.0.1", "port": "0"})
    first.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    first.start()
    port = first.port
    first.stop()
    first.stop()
    second = NetcatSource.from_config("r1", {"bind": "127.0.0.1", "port": str(port)})
    second.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    second.start()
    second.stop()
