"""Issue 20, item 1: a reload never loses events a client was told were committed."""

from __future__ import annotations

import socket
from pathlib import Path

from flume_testkit.servers import wait_until

from flume_sdk._agent import Agent

CONF = """\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = {port}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = {capacity}
a1.channels.c1.transactionCapacity = 100
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = {directory}
a1.sinks.k1.sink.rollInterval = 0
"""

LINES = 3000


def _send_acked(port: int, count: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        for start in range(0, count, 50):  # a batch within transactionCapacity
            client.sendall(b"".join(b"line-%d\n" % i for i in range(start, start + 50)))
            replies = b""
            while replies.count(b"\n") < 50:
                chunk = client.recv(65536)
                assert chunk, "the agent closed the connection"
                replies += chunk
            assert replies == b"OK\n" * 50


def _delivered(directory: Path) -> list[bytes]:
    return [line for f in sorted(directory.iterdir()) for line in f.read_bytes().splitlines()]


def _start_broken(tmp_path: Path, capacity: int, directory: Path) -> tuple[Agent, Path, int]:
    """Start with a sink that cannot write: its directory becomes a file once started (the
    preflight refuses to start an agent whose sink directory is not writable)."""
    directory.mkdir()
    started = _start(tmp_path, capacity, directory)
    directory.rmdir()
    directory.write_text("the sink cannot write here")
    return started


def _start(tmp_path: Path, capacity: int, directory: Path) -> tuple[Agent, Path, int]:
    conf = tmp_path / "a.conf"
    conf.write_text(CONF.format(port=0, capacity=capacity, directory=directory))
    agent = Agent("a1", [conf], drain_timeout=1.0)
    agent.start()
    assert agent.pipeline is not None
    port = agent.pipeline.sources["r1"].port  # type: ignore[attr-defined]
    return agent, conf, port


def test_reload_shrinking_a_memory_channel_below_its_fill_delivers_every_acked_event(
        tmp_path: Path) -> None:
    broken = tmp_path / "not-a-directory"
    good = tmp_path / "out"
    good.mkdir()
    agent, conf, port = _start_broken(tmp_path, 10_000, broken)
    try:
        _send_acked(port, LINES)
        conf.write_text(CONF.format(port=port, capacity=100, directory=good))
        assert agent.reload() is True
        assert agent.health()["pending"], "the hand-over is reported while it runs"
        wait_until(lambda: len(_delivered(good)) >= LINES, timeout=60)
        assert sorted(_delivered(good)) == sorted(b"line-%d" % i for i in range(LINES))
        wait_until(lambda: not agent.health()["pending"])
    finally:
        agent.stop()


def test_reload_removing_a_memory_channel_that_holds_events_is_refused_with_the_reason(
        tmp_path: Path) -> None:
    broken = tmp_path / "not-a-directory"
    agent, conf, port = _start_broken(tmp_path, 10_000, broken)
    try:
        _send_acked(port, 500)
        first = agent.pipeline
        renamed = CONF.format(port=port, capacity=100, directory=tmp_path).replace("c1", "c2")
        conf.write_text(renamed)
        assert agent.reload() is False
        assert agent.pipeline is first
        reason = str(agent.last_reload_error)
        assert "a1.channels.c1" in reason and "holds 500 event(s)" in reason
        assert first is not None and first.channels["c1"].size == 500
    finally:
        agent.stop()


def test_an_unchanged_source_keeps_its_clients_connected_across_a_reload(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    agent, conf, port = _start(tmp_path, 10_000, first)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(b"before\n")
            assert client.recv(100) == b"OK\n"
            conf.write_text(CONF.format(port=0, capacity=10_000, directory=second))
            assert agent.reload() is True  # only the sink changed
            client.sendall(b"after\n")
            assert client.recv(100) == b"OK\n"
        wait_until(lambda: _delivered(second) == [b"after"])
        assert _delivered(first) == [b"before"]
    finally:
        agent.stop()


def test_a_changed_source_is_restarted_by_a_reload(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    agent, conf, _ = _start(tmp_path, 10_000, out)
    try:
        old = agent.pipeline.sources["r1"]  # type: ignore[union-attr]
        conf.write_text(CONF.format(port=0, capacity=10_000, directory=out)
                        + "a1.sources.r1.max-line-length = 100\n")
        assert agent.reload() is True
        assert agent.pipeline.sources["r1"] is not old  # type: ignore[union-attr]
    finally:
        agent.stop()
