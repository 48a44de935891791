"""Issue 20, items 6-8: the file channel on a really full disk (a small tmpfs).

A full disk must give a clear refusal naming the channel and the key, and the channel
must recover by itself when space returns: no leaked directory lock, no half-made
segment that kills the next start, and drained segments given back even below
``maxFileSize``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_channel_file import FileChannel
from flume_testkit.servers import wait_until

from flume_sdk import ChannelException, Event, LifecycleState
from flume_sdk._agent import Agent

MIB = 1 << 20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MiB tmpfs (needs root, as in CI; skipped with the reason otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int = 0) -> Path:
    """Fill ``disk`` until only ``leave`` bytes are free; return the filler file."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        chunk = b"\0" * 65536
        with contextlib.suppress(OSError):
            while os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize > leave + len(chunk):
                out.write(chunk)
                out.flush()
        with contextlib.suppress(OSError):
            while os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize > leave:
                out.write(b"\0" * 4096)
                out.flush()
    return filler


def _conf(tmp_path: Path, disk: Path, port: int, **keys: str) -> Path:
    conf = tmp_path / "a.conf"
    extra = "".join(f"a1.channels.c1.{k} = {v}\n" for k, v in keys.items())
    conf.write_text(f"""\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = {port}
a1.sources.r1.channels = c1
a1.channels.c1.type = file
a1.channels.c1.checkpointDir = {disk / "checkpoint"}
a1.channels.c1.dataDirs = {disk / "data"}
a1.channels.c1.minimumRequiredSpace = {MIB}
{extra}a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
""")
    return conf


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _send(port: int, line: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(line + b"\n")
        return client.recv(1000)


@pytest.mark.parametrize("leave", [0, 4096, 40960])
def test_a_channel_that_cannot_start_on_a_full_disk_starts_by_itself_when_space_returns(
        tmp_path: Path, small_disk: Path, leave: int) -> None:
    filler = _fill(small_disk, leave)
    port = _free_port()
    agent = Agent("a1", [_conf(tmp_path, small_disk, port)], supervise_interval=0.2)
    agent.start()
    try:
        assert agent.pipeline is not None
        channel = agent.pipeline.channels["c1"]
        if channel.lifecycle_state is LifecycleState.ERROR:
            assert "file channel 'c1' cannot open its directories" in str(channel.last_error)
        filler.unlink()
        wait_until(lambda: channel.lifecycle_state is LifecycleState.START, timeout=30)
        assert _send(port, b"after the disk was freed") == b"OK\n"
    finally:
        agent.stop()


def test_a_drained_channel_gives_its_segments_back_below_max_file_size(
        tmp_path: Path, small_disk: Path) -> None:
    channel = FileChannel.from_config("c1", {
        "checkpointDir": str(small_disk / "checkpoint"), "dataDirs": str(small_disk / "data"),
        "minimumRequiredSpace": str(MIB), "keep-alive": "0", "capacity": "100000",
        "transactionCapacity": "1000"})
    channel.start()
    try:
        body = b"x" * 4000
        refused = None
        for _ in range(2000):
            try:
                with channel.transaction() as tx:
                    tx.put_batch([Event(body) for _ in range(100)])
            except ChannelException as exc:
                refused = exc
                break
        assert refused is not None, "the disk never filled"
        assert "minimumRequiredSpace" in str(refused) and "'c1'" in str(refused)
        while channel.size:
            with channel.transaction() as tx:
                tx.take_batch(1000)
        with channel.transaction() as tx:  # no restart: the drained segment is given back
            tx.put_batch([Event(body) for _ in range(100)])
        assert channel.size == 100
    finally:
        channel.stop()


def test_minimum_required_space_below_flumes_1_mib_floor_warns_naming_the_key() -> None:
    channel = FileChannel.from_config("c1", {"minimumRequiredSpace": "0"},
                                      component="a1.channels.c1")
    assert channel.settings.effective_minimum_space == MIB
    (warning,) = [w for w in channel.config_warnings if w.key == "minimumRequiredSpace"]
    assert "a1.channels.c1" in str(warning) and "floor" in str(warning)


def test_disk_full_errors_name_the_channel_and_the_key(small_disk: Path) -> None:
    channel = FileChannel.from_config("c1", {
        "checkpointDir": str(small_disk / "checkpoint"), "dataDirs": str(small_disk / "data"),
        "minimumRequiredSpace": str(MIB), "keep-alive": "0"})
    channel.start()
    try:
        _fill(small_disk, 0)
        with pytest.raises(ChannelException) as caught, channel.transaction() as tx:
            tx.put(Event(b"y" * 1000))
        assert "minimumRequiredSpace" in str(caught.value)
        assert "c1" in str(caught.value)
    finally:
        channel.stop()


