"""The hdfs sink against a real NameNode + DataNode (Hadoop 2.7.3): writes, formats, faults.

Every test that takes ``make_sink`` runs twice: on ``hdfs://`` (the native client,
files kept open, hsync per batch) and on ``webhdfs://`` (one APPEND per batch).
Uses the testkit's session-scoped ``hdfs_cluster`` (skips when Java is absent).
Each test writes under its own directory and restores any fault it injects.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flume_sink_hdfs import HdfsEventSink
from flume_sink_hdfs._filesystem import WebHdfsFileSystem
from flume_testkit.servers.hdfs import HdfsCluster, read_sequence_file

from flume_sdk import Event, EventDeliveryException, PluginRegistry, Status
from flume_sdk.components.memory_channel import MemoryChannel

__all__: list[str] = []

pytestmark = pytest.mark.timeout(240)

MakeSink = Callable[..., HdfsEventSink]


@pytest.fixture
def base() -> str:
    return f"/flume/{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["hdfs", "webhdfs"])
def make_sink(hdfs_cluster: HdfsCluster, tmp_path: Path, serializer_registry: PluginRegistry,
              request: pytest.FixtureRequest) -> Iterator[MakeSink]:
    sinks: list[HdfsEventSink] = []
    root = hdfs_cluster.namenode_uri if request.param == "hdfs" else \
        f"webhdfs://127.0.0.1:{hdfs_cluster.http_port}"

    def make(path: str, events: list[Event], **props: str) -> HdfsEventSink:
        settings = {"hdfs.path": f"{root}{path}",
                    "hdfs.webhdfs.url": hdfs_cluster.webhdfs_url, "hdfs.user": "root",
                    "hdfs.fileType": "DataStream", "hdfs.rollCount": "0", "hdfs.rollSize": "0",
                    "hdfs.rollInterval": "0", "hdfs.callTimeout": "10000",
                    "hdfs.stateDir": str(tmp_path / "state"), **props}
        sink = HdfsEventSink.from_config("k1", settings, registry=serializer_registry)
        channel = MemoryChannel.from_config("c1", {"capacity": "10000",
                                                   "transactionCapacity": "1000",
                                                   "keep-alive": "0"})
        channel.start()
        if events:
            with channel.transaction() as tx:
                tx.put_batch(events)
        sink.set_channel(channel)
        sink.start()
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.stop()


def _events(count: int) -> list[Event]:
    return [Event(b"line-%02d" % i, {"timestamp": str(1_700_000_000_000 + i)})
            for i in range(count)]


def _drain(sink: HdfsEventSink, limit: int = 50) -> None:
    for _ in range(limit):
        if sink.process() is Status.BACKOFF:
            return


def _contents(cluster: HdfsCluster, directory: str) -> dict[str, bytes]:
    client = cluster.client()
    out = {}
    for name in sorted(client.list(directory)):
        with client.read(f"{directory}/{name}") as reader:
            out[name] = reader.read()
    return out


def test_datastream_files_are_rolled_and_renamed_on_hdfs(
    hdfs_cluster: HdfsCluster, make_sink: MakeSink, base: str,
) -> None:
    sink = make_sink(base, _events(10), **{"hdfs.rollCount": "5", "hdfs.batchSize": "5"})
    _drain(sink)
    sink.stop()

    files = _contents(hdfs_cluster, base)
    assert [name.startswith("FlumeData.") and not name.endswith(".tmp") for name in files] == \
        [True, True]
    assert b"".join(files.values()) == b"".join(b"line-%02d\n" % i for i in range(10))


def test_sequence_file_on_hdfs_is_read_by_hadoop_with_timestamp_keys(
    hdfs_cluster: HdfsCluster, make_sink: MakeSink, base: str,
) -> None:
    sink = make_sink(base, _events(12), **{"hdfs.fileType": "SequenceFile",
                                           "hdfs.codeC": "bzip2", "hdfs.batchSize": "5"})
    _drain(sink)
    sink.stop()

    [name] = hdfs_cluster.client().list(base)
    assert name.endswith(".bz2")
    records = read_sequence_file(f"{base}/{name}", cluster=hdfs_cluster)
    assert [(r["key"], r["value"]) for r in records] == \
        [(1_700_000_000_000 + i, b"line-%02d" % i) for i in range(12)]
    assert {r["value_class"] for r in records} == {"org.apache.hadoop.io.BytesWritable"}


def test_namenode_down_keeps_events_and_writes_one_file_when_back(
    hdfs_cluster: HdfsCluster, make_sink: MakeSink, base: str,
) -> None:
    sink = make_sink(base, _events(4), **{"hdfs.callTimeout": "3000"})
    hdfs_cluster.stop_namenode()
    try:
        with pytest.raises(EventDeliveryException, match=r"unreachable|timed out|callTimeout"):
            sink.process()
        with pytest.raises(EventDeliveryException):
            sink.process()
    finally:
        hdfs_cluster.start_namenode()

    _drain(sink)
    sink.stop()
    files = _contents(hdfs_cluster, base)
    assert len(files) == 1
    assert b"".join(files.values()) == b"".join(b"line-%02d\n" % i for i in range(4))


def test_datanode_down_keeps_events_and_delivers_once_when_back(
    hdfs_cluster: HdfsCluster, make_sink: MakeSink, base: str,
) -> None:
    sink = make_sink(base, _events(3), **{"hdfs.callTimeout": "5000"})
    hdfs_cluster.stop_datanode()
    try:
        with pytest.raises(EventDeliveryException):
            sink.process()
    finally:
        hdfs_cluster.start_datanode()

    _drain(sink)
    sink.stop()
    files = _contents(hdfs_cluster, base)
    assert len(files) == 1
    assert b"".join(files.values()) == b"line-00\nline-01\nline-02\n"


def test_permission_denied_names_the_path_and_user(
    hdfs_cluster: HdfsCluster, make_sink: MakeSink, base: str,
) -> None:
    hdfs_cluster.client().makedirs(base, permission="755")
    sink = make_sink(f"{base}/locked", _events(1), **{"hdfs.user": "flume"})

    with pytest.raises(EventDeliveryException) as caught:
        sink.process()

    message = str(caught.value)
    assert "permission denied" in message
    assert f"{base}/locked" in message
    assert "'flume'" in message


def test_proxy_user_writes_files_owned_by_that_user(
    hdfs_cluster: HdfsCluster, make_sink: MakeSink, base: str,
) -> None:
    client = hdfs_cluster.client()
    client.makedirs(base, permission="777")
    sink = make_sink(base, _events(2), **{"hdfs.proxyUser": "flume"})
    _drain(sink)
    sink.stop()

    [name] = client.list(base)
    assert client.status(f"{base}/{name}")["owner"] == "flume"
    assert b"".join(_contents(hdfs_cluster, base).values()) == b"line-00\nline-01\n"


def test_safe_mode_fails_clearly_then_delivers_after_leaving(
    hdfs_cluster: HdfsCluster, make_sink: MakeSink, base: str,
) -> None:
    sink = make_sink(base, _events(2))
    hdfs_cluster.enter_safemode()
    try:
        with pytest.raises(EventDeliveryException, match="safe mode"):
            sink.process()
    finally:
        hdfs_cluster.leave_safemode()

    _drain(sink)
    sink.stop()
    assert b"".join(_contents(hdfs_cluster, base).values()) == b"line-00\nline-01\n"


def test_orphan_on_hdfs_is_finished_by_the_next_start(
    hdfs_cluster: HdfsCluster, make_sink: MakeSink, base: str, tmp_path: Path,
) -> None:
    crashed = make_sink(base, _events(3))
    _drain(crashed)
    # Simulate a crash: drop the sink without closing its files (its lock and pool go too).
    assert crashed._files is not None
    crashed._files.journal.close()
    crashed._files.fs.close()
    crashed._files = None
    assert [n.endswith(".tmp") for n in hdfs_cluster.client().list(base)] == [True]

    make_sink(base, []).stop()

    files = _contents(hdfs_cluster, base)
    assert [n.endswith(".tmp") for n in files] == [False]
    assert b"".join(files.values()) == b"line-00\nline-01\nline-02\n"


def test_truncate_inside_a_block_returns_once_the_file_can_be_appended_again(
    hdfs_cluster: HdfsCluster, base: str,
) -> None:
    fs = WebHdfsFileSystem(hdfs_cluster.webhdfs_url, "root", timeout=20)
    path = f"{base}/t"
    fs.create(path, b"a" * 100)
    fs.append(path, b"b" * 50)

    assert fs.truncate(path, 100)
    fs.append(path, b"c" * 10)  # fails with "recovery is in progress" if truncate returned early

    with hdfs_cluster.client().read(path) as reader:
        assert reader.read() == b"a" * 100 + b"c" * 10
    fs.close()


def test_failed_bucket_is_cut_back_out_of_the_other_buckets_file_by_truncate(
    hdfs_cluster: HdfsCluster, make_sink: MakeSink, base: str,
) -> None:
    client = hdfs_cluster.client()
    client.makedirs(f"{base}/locked", permission="755")
    client.set_permission(base, "777")
    events = [Event(b"ok-%d" % i, {"dir": "open"}) for i in range(3)]
    events += [Event(b"second", {"dir": "open"}), Event(b"refused", {"dir": "locked"})]
    sink = make_sink(f"{base}/%{{dir}}", events, **{"hdfs.user": "flume",
                                                     "hdfs.batchSize": "3"})
    assert sink.process() is Status.READY
    [name] = client.list(f"{base}/open")

    with pytest.raises(EventDeliveryException, match="permission denied"):
        sink.process()

    with client.read(f"{base}/open/{name}") as reader:
        assert reader.read() == b"ok-0\nok-1\nok-2\n"  # "second" was appended, then cut
    client.set_permission(f"{base}/locked", "777")
    _drain(sink)
    sink.stop()
    assert b"".join(_contents(hdfs_cluster, f"{base}/open").values()) == \
        b"ok-0\nok-1\nok-2\nsecond\n"
    assert b"".join(_contents(hdfs_cluster, f"{base}/locked").values()) == b"refused\n"
