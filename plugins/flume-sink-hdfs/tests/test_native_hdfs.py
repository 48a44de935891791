"""``hdfs://`` through hdfs-native on a real Hadoop 2.7.3: open files, hsync per batch.

Also pins down what the sink relies on in the pinned ``hdfs-native`` (0.14.7): a
writer's ``flush()`` does nothing, ``hsync()`` is what makes bytes durable and
visible, and there is no ``hflush`` nor truncate (the sink truncates over WebHDFS).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flume_sink_hdfs import HdfsEventSink
from flume_sink_hdfs._native import NativeHdfsFileSystem
from flume_testkit import wait_until
from flume_testkit.clock import FakeClock
from flume_testkit.servers.hdfs import HdfsCluster

from flume_sdk import SYSTEM_CLOCK, Clock, ConfigurationError, Event, PluginRegistry, Status
from flume_sdk.components.memory_channel import MemoryChannel

__all__: list[str] = []

pytestmark = pytest.mark.timeout(180)


def _sink(cluster: HdfsCluster, base: str, state: Path, registry: PluginRegistry,
          clock: Clock = SYSTEM_CLOCK, **props: str) -> HdfsEventSink:
    settings = {"hdfs.path": f"{cluster.namenode_uri}{base}",
                "hdfs.webhdfs.url": cluster.webhdfs_url, "hdfs.user": "root",
                "hdfs.fileType": "DataStream", "hdfs.rollCount": "0", "hdfs.rollSize": "0",
                "hdfs.rollInterval": "0", "hdfs.batchSize": "2", "hdfs.stateDir": str(state),
                **props}
    return HdfsEventSink.from_config("k1", settings, registry=registry, clock=clock)


def _started(cluster: HdfsCluster, state: Path, registry: PluginRegistry, count: int,
             clock: Clock = SYSTEM_CLOCK, **props: str) -> tuple[HdfsEventSink, str]:
    """A started sink under a fresh directory, its channel holding ``line-0``... ``line-<count-1>``."""
    base = f"/native/{uuid.uuid4().hex[:8]}"
    sink = _sink(cluster, base, state, registry, clock, **props)
    channel = MemoryChannel.from_config("c1", {"capacity": "100", "keep-alive": "0"})
    channel.start()
    with channel.transaction() as tx:
        tx.put_batch([Event(b"line-%d" % i) for i in range(count)])
    sink.set_channel(channel)
    sink.start()
    return sink, base


@pytest.mark.parametrize("mode", ["hflush", "hsync"])
def test_batches_go_to_one_open_file_each_readable_once_committed(
    hdfs_cluster: HdfsCluster, tmp_path: Path, serializer_registry: PluginRegistry, mode: str,
) -> None:
    sink, base = _started(hdfs_cluster, tmp_path, serializer_registry, 6,
                          **{"hdfs.syncMode": mode})
    client = hdfs_cluster.client()
    try:
        assert isinstance(sink._require().fs.inner, NativeHdfsFileSystem)
        seen = []
        for batch in range(3):
            assert sink.process() is Status.READY
            [name] = client.list(base)
            seen.append(name)
            with client.read(f"{base}/{name}") as reader:  # a reader of the open file
                assert reader.read() == b"".join(b"line-%d\n" % i for i in range(2 * batch + 2))
        assert len(set(seen)) == 1 and seen[0].endswith(".tmp")
        assert sink.open_files == [f"{base}/{seen[0]}"]
    finally:
        sink.stop()
    [final] = client.list(base)
    assert final == seen[0].removesuffix(".tmp")


def test_sync_mode_other_than_hflush_or_hsync_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"hdfs\.syncMode"):
        HdfsEventSink.from_config("k1", {"hdfs.path": "hdfs://127.0.0.1:1/x",
                                         "hdfs.syncMode": "fsync",
                                         "hdfs.stateDir": str(tmp_path)})


def test_hdfs_native_flush_is_a_no_op_and_hsync_makes_bytes_visible_and_fsynced(
    hdfs_cluster: HdfsCluster,
) -> None:
    import hdfs_native

    client = hdfs_native.Client(hdfs_cluster.namenode_uri)
    path = f"/native/{uuid.uuid4().hex[:8]}"
    writer = client.create(path, hdfs_native.WriteOptions(create_parent=True))
    try:
        assert not hasattr(writer, "hflush")
        assert not hasattr(client, "truncate")
        writer.write(b"x" * 100)
        writer.flush()
        assert client.get_file_info(path).length == 0
        fsyncs = hdfs_cluster.datanode_activity()["FsyncCount"]
        writer.hsync()
        assert client.get_file_info(path).length == 100
        # The DataNode fsync-ed (its JMX values refresh every ~10 s).
        wait_until(lambda: hdfs_cluster.datanode_activity()["FsyncCount"] > fsyncs,
                   timeout=30, interval=0.5, what="the DataNode counting an fsync")
    finally:
        writer.close()


def test_a_full_file_is_closed_in_the_background_and_renamed_by_a_later_process(
    hdfs_cluster: HdfsCluster, tmp_path: Path, serializer_registry: PluginRegistry,
) -> None:
    sink, base = _started(hdfs_cluster, tmp_path, serializer_registry, 6,
                          **{"hdfs.rollCount": "2"})
    client = hdfs_cluster.client()
    try:
        for _ in range(3):
            assert sink.process() is Status.READY
        wait_until(lambda: sink.process() is Status.BACKOFF and not sink.files_finishing,
                   timeout=30, what="the rolled files closed and renamed")
        names = sorted(client.list(base))
        assert len(names) == 3 and not [n for n in names if n.endswith(".tmp")]
        assert sorted(_read(client, f"{base}/{n}") for n in names) == \
            [b"line-0\nline-1\n", b"line-2\nline-3\n", b"line-4\nline-5\n"]
    finally:
        sink.stop()


@pytest.mark.parametrize("key", ["hdfs.rollInterval", "hdfs.idleTimeout", "hdfs.rollSize"])
def test_interval_idle_and_size_rolls_finish_the_open_file(
    hdfs_cluster: HdfsCluster, tmp_path: Path, serializer_registry: PluginRegistry, key: str,
) -> None:
    clock = FakeClock()
    value = "12" if key == "hdfs.rollSize" else "30"  # 12 body bytes: two events
    sink, base = _started(hdfs_cluster, tmp_path, serializer_registry, 2, clock,
                          **{key: value})
    client = hdfs_cluster.client()
    try:
        assert sink.process() is Status.READY
        clock.advance(30)
        wait_until(lambda: sink.process() is Status.BACKOFF and not sink.open_files
                   and not sink.files_finishing, timeout=30, what="the file rolled")
        [name] = client.list(base)
        assert not name.endswith(".tmp")
        assert _read(client, f"{base}/{name}") == b"line-0\nline-1\n"
    finally:
        sink.stop()


def _read(client: object, path: str) -> bytes:
    with client.read(path) as reader:  # type: ignore[attr-defined]
        data: bytes = reader.read()
    return data
