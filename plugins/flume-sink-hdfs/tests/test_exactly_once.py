"""kill -9 of a real agent (file channel -> hdfs sink) at every step of a batch: nothing twice.

On ``file://`` and on the real HDFS through ``hdfs://`` (hdfs-native, the file
open across batches: the restart recovers its lease and truncates it to the
journaled length) at every step; through ``webhdfs://`` at the torn append and
after the append.

The events are put into a file channel first; an agent (``flume-ng agent``, no
source) drains it into the hdfs sink with ``FLUME_HDFS_SINK_CRASH_AT`` set, so
it SIGKILLs itself at one step of its third batch. A second agent on the same
channel, journal and output runs to the end. Every event must then be in a
finished file exactly once, and no in-use file may be left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from flume_testkit import wait_until

from flume_sdk import Event

__all__: list[str] = []

pytest.importorskip("flume_channel_file", reason="the kill -9 tests need flume-channel-file")

FLUME_NG = Path(sys.executable).with_name("flume-ng")
EVENTS = 60
# batchSize 10, rollCount 15, two buckets: a batch writes 5 events to each bucket, and every
# third batch of a bucket fills a file, so the crash's batch writes to several files.
SINK = {"hdfs.fileType": "DataStream", "hdfs.batchSize": "10", "hdfs.rollCount": "15",
        "hdfs.rollSize": "0", "hdfs.rollInterval": "0", "hdfs.callTimeout": "20000"}


def _channel(work: Path) -> dict[str, str]:
    return {"type": "file", "checkpointDir": str(work / "checkpoint"),
            "dataDirs": str(work / "data"), "checkpointInterval": "600000"}


def _fill(work: Path) -> list[bytes]:
    from flume_channel_file.channel import FileChannel

    props = {k: v for k, v in _channel(work).items() if k != "type"}
    channel = FileChannel.from_config("c1", props)
    channel.start()
    bodies = [b"event-%03d" % i for i in range(EVENTS)]
    try:
        with channel.transaction() as tx:
            tx.put_batch([Event(b, {"app": "ab"[i % 2]}) for i, b in enumerate(bodies)])
    finally:
        channel.stop()
    return bodies


def _config(work: Path, sink: dict[str, str]) -> Path:
    lines = ["a1.channels = c1", "a1.sinks = k1", "a1.sinks.k1.type = hdfs",
             "a1.sinks.k1.channel = c1", f"a1.sinks.k1.hdfs.stateDir = {work / 'state'}"]
    lines += [f"a1.channels.c1.{k} = {v}" for k, v in _channel(work).items()]
    lines += [f"a1.sinks.k1.{k} = {v}" for k, v in {**SINK, **sink}.items()]
    path = work / "agent.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


def _agent(work: Path, conf: Path, crash_at: str | None, run: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "FLUME_HDFS_SINK_CRASH_AT"}
    if crash_at:
        env["FLUME_HDFS_SINK_CRASH_AT"] = crash_at
    log = open(work / f"agent-{run}.log", "wb")  # noqa: SIM115 - closed below
    try:
        return subprocess.Popen([str(FLUME_NG), "agent", "-n", "a1", "-f", str(conf),
                                 "--no-reload-conf"], env=env, stdout=log, stderr=log)
    finally:
        log.close()


def _crash_then_finish(work: Path, sink: dict[str, str], point: str,
                       contents: object) -> list[bytes]:
    bodies = _fill(work)
    conf = _config(work, sink)
    first = _agent(work, conf, f"{point}:3", 1)
    code = first.wait(timeout=120)
    assert code == -signal.SIGKILL, (work / "agent-1.log").read_text()

    second = _agent(work, conf, None, 2)
    try:
        wait_until(lambda: set(bodies) <= set(contents()), timeout=120,  # type: ignore[operator]
                   what="every event written after the restart")
    finally:
        second.send_signal(signal.SIGTERM)
        code = second.wait(timeout=60)
    assert code == 0, (work / "agent-2.log").read_text()
    return bodies


def _lines(files: dict[str, bytes]) -> list[bytes]:
    return [line for data in files.values() for line in data.splitlines()]


@pytest.mark.parametrize("point", ["before-append", "mid-append", "unjournaled-append",
                                   "after-append", "after-commit"])
def test_kill_9_at_each_step_writes_every_event_once_to_file(
    tmp_path: Path, point: str,
) -> None:
    out = tmp_path / "out"

    def files() -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    bodies = _crash_then_finish(tmp_path, {"hdfs.path": f"file://{out}/%{{app}}"}, point,
                                lambda: _lines(files()))

    found = files()
    assert not [name for name in found if name.endswith(".tmp")]
    assert Counter(_lines(found)) == Counter(bodies)
    _assert_recovery_path(tmp_path, point)


@pytest.mark.parametrize(("scheme", "point"), [
    *[("hdfs", p) for p in ("before-append", "mid-append", "unjournaled-append",
                            "after-append", "after-commit")],
    ("webhdfs", "mid-append"), ("webhdfs", "after-append")])
def test_kill_9_writes_every_event_once_to_hdfs(
    hdfs_cluster: object, tmp_path: Path, scheme: str, point: str,
) -> None:
    import uuid

    from flume_testkit.servers.hdfs import HdfsCluster

    assert isinstance(hdfs_cluster, HdfsCluster)
    base = f"/flume/once-{uuid.uuid4().hex[:8]}"
    client = hdfs_cluster.client()

    def files() -> dict[str, bytes]:
        out = {}
        for directory in ("a", "b"):
            for name in client.list(f"{base}/{directory}", status=False) \
                    if client.status(f"{base}/{directory}", strict=False) else []:
                with client.read(f"{base}/{directory}/{name}") as reader:
                    out[f"{directory}/{name}"] = reader.read()
        return out

    root = hdfs_cluster.namenode_uri if scheme == "hdfs" else \
        f"webhdfs://127.0.0.1:{hdfs_cluster.http_port}"
    bodies = _crash_then_finish(tmp_path, {
        "hdfs.path": f"{root}{base}/%{{app}}",
        "hdfs.webhdfs.url": hdfs_cluster.webhdfs_url, "hdfs.user": "root"}, point,
        lambda: _lines(files()))

    found = files()
    assert not [name for name in found if name.endswith(".tmp")]
    assert Counter(_lines(found)) == Counter(bodies)
    _assert_recovery_path(tmp_path, point)


def _assert_recovery_path(work: Path, point: str) -> None:
    """The restart took the path the crash point calls for (not a lucky ordering)."""
    log = (work / "agent-2.log").read_text()
    if point == "after-append":
        assert "after the restart were written before the crash" in log
    if point == "unjournaled-append":
        assert "back to its journaled" in log
