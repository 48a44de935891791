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
from flume_testkit.servers.hdfs import HdfsCluster

from flume_sdk import ConfigurationError, Event, PluginRegistry, Status
from flume_sdk.components.memory_channel import MemoryChannel

__all__: list[str] = []

pytestmark = pytest.mark.timeout(180)


def _sink(cluster: HdfsCluster, base: str, state: Path, registry: PluginRegistry,
          **props: str) -> HdfsEventSink:
    settings = {"hdfs.path": f"{cluster.namenode_uri}{base}",
                "hdfs.webhdfs.url": cluster.webhdfs_url, "hdfs.user": "root",
                "hdfs.fileType": "DataStream", "hdfs.rollCount": "0", "hdfs.rollSize": "0",
                "hdfs.rollInterval": "0", "hdfs.batchSize": "2", "hdfs.stateDir": str(state),
                **props}
    return HdfsEventSink.from_config("k1", settings, registry=registry)


def _channel(count: int) -> MemoryChannel:
    channel = MemoryChannel.from_config("c1", {"capacity": "100", "keep-alive": "0"})
    channel.start()
    with channel.transaction() as tx:
        tx.put_batch([Event(b"line-%d" % i) for i in range(count)])
    return channel


@pytest.mark.parametrize("mode", ["hflush", "hsync"])
def test_batches_go_to_one_open_file_each_readable_once_committed(
    hdfs_cluster: HdfsCluster, tmp_path: Path, serializer_registry: PluginRegistry, mode: str,
) -> None:
    base = f"/native/{uuid.uuid4().hex[:8]}"
    sink = _sink(hdfs_cluster, base, tmp_path, serializer_registry,
                 **{"hdfs.syncMode": mode})
    sink.set_channel(_channel(6))
    sink.start()
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


def test_hdfs_native_flush_is_a_no_op_and_hsync_makes_bytes_visible(
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
        writer.hsync()
        assert client.get_file_info(path).length == 100
    finally:
        writer.close()
