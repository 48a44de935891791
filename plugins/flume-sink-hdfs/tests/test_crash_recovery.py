"""kill -9 during writing: the next start finishes the orphaned in-use files, once."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

__all__: list[str] = []

_CHILD = textwrap.dedent("""
    import os, signal, sys
    from flume_sdk import Event, PluginInfo, PluginKind, PluginRegistry
    from flume_sdk.components.memory_channel import MemoryChannel
    from flume_sink_hdfs import HdfsEventSink

    out, state = sys.argv[1], sys.argv[2]
    registry = PluginRegistry([PluginInfo(PluginKind.SERIALIZER, "text",
        "flume_sdk.components.serializers:TextSerializer", "flume-sdk", "test")])
    sink = HdfsEventSink.from_config("k1", {
        "hdfs.path": "file://" + out + "/%{app}", "hdfs.fileType": "DataStream",
        "hdfs.rollCount": "0", "hdfs.rollSize": "0", "hdfs.rollInterval": "0",
        "hdfs.batchSize": "10", "hdfs.stateDir": state}, registry=registry)
    channel = MemoryChannel.from_config("c1", {"capacity": "1000", "keep-alive": "0"})
    channel.start()
    with channel.transaction() as tx:
        tx.put_batch([Event(b"e%02d" % i, {"app": "ab"[i % 2]}) for i in range(30)])
    sink.set_channel(channel)
    sink.start()
    for _ in range(3):
        sink.process()
    print("written", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def _child(out: Path, state: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(out), str(state)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "written" in done.stdout


def _start_sink(out: Path, state: Path) -> object:
    from flume_sink_hdfs import HdfsEventSink

    sink = HdfsEventSink.from_config("k1", {
        "hdfs.path": f"file://{out}/%{{app}}", "hdfs.fileType": "DataStream",
        "hdfs.stateDir": str(state)})
    sink.start()
    return sink


@pytest.fixture
def crashed(tmp_path: Path) -> tuple[Path, Path]:
    out, state = tmp_path / "out", tmp_path / "state"
    _child(out, state)
    return out, state


def test_kill_9_leaves_in_use_files(crashed: tuple[Path, Path]) -> None:
    out, _ = crashed
    assert sorted(p.name.endswith(".tmp") for p in out.rglob("*") if p.is_file()) == [True, True]


def test_start_after_kill_9_renames_every_orphan_with_its_bytes(
    crashed: tuple[Path, Path],
) -> None:
    out, state = crashed
    sink = _start_sink(out, state)
    try:
        files = sorted(p for p in out.rglob("*") if p.is_file())
        assert not any(p.name.endswith(".tmp") for p in files)
        assert b"".join(p.read_bytes() for p in files) == \
            b"".join(b"e%02d\n" % i for i in range(0, 30, 2)) + \
            b"".join(b"e%02d\n" % i for i in range(1, 30, 2))
    finally:
        sink.stop()  # type: ignore[attr-defined]


def test_recovery_is_done_once(crashed: tuple[Path, Path]) -> None:
    out, state = crashed
    _start_sink(out, state).stop()  # type: ignore[attr-defined]
    before = sorted(str(p) for p in out.rglob("*"))

    _start_sink(out, state).stop()  # type: ignore[attr-defined]

    assert sorted(str(p) for p in out.rglob("*")) == before
    assert (state / "k1.journal").read_text() == ""


def test_orphan_whose_final_name_exists_gets_a_new_name(crashed: tuple[Path, Path]) -> None:
    out, state = crashed
    orphan = next(p for p in (out / "a").iterdir())
    final = orphan.with_name(orphan.name.removesuffix(".tmp"))
    final.write_bytes(b"someone else's\n")

    _start_sink(out, state).stop()  # type: ignore[attr-defined]

    assert final.read_bytes() == b"someone else's\n"
    assert final.with_name(final.name + ".1").read_bytes().startswith(b"e00\n")


def test_stop_is_not_needed_for_the_journal_lock(crashed: tuple[Path, Path]) -> None:
    out, state = crashed
    # The dead child never stopped; its flock went with its process.
    _start_sink(out, state).stop()  # type: ignore[attr-defined]
