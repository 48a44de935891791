"""The real HDFS fixture behaves like HDFS: file ops, restarts, faults, SequenceFiles.

Run with ``-p flume_testkit.servers.hdfs``. One cluster serves the session, so
every test works under its own directory and restores any fault it injects.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flume_testkit.servers.hdfs import (
    HdfsCluster,
    SequenceFileError,
    read_sequence_file,
    read_sequence_file_header,
    write_sequence_file,
)
from hdfs.util import HdfsError

__all__: list[str] = []

pytestmark = pytest.mark.timeout(180)


def _unique_dir() -> str:
    return f"/tests/{uuid.uuid4().hex[:12]}"


def test_addresses_point_at_loopback_ports(hdfs_cluster: HdfsCluster) -> None:
    assert hdfs_cluster.webhdfs_url == f"http://127.0.0.1:{hdfs_cluster.http_port}"
    assert hdfs_cluster.rpc_address == f"127.0.0.1:{hdfs_cluster.rpc_port}"
    assert hdfs_cluster.namenode_uri == f"hdfs://127.0.0.1:{hdfs_cluster.rpc_port}"


def test_write_then_append_then_read_returns_all_bytes(hdfs_cluster: HdfsCluster) -> None:
    client = hdfs_cluster.client()
    path = f"{_unique_dir()}/a.log"

    client.write(path, data=b"first\n")
    client.write(path, data=b"second\n", append=True)

    with client.read(path) as reader:
        assert reader.read() == b"first\nsecond\n"


def test_rename_moves_the_file(hdfs_cluster: HdfsCluster) -> None:
    client = hdfs_cluster.client()
    base = _unique_dir()
    client.write(f"{base}/a.tmp", data=b"x")

    client.rename(f"{base}/a.tmp", f"{base}/a.log")

    assert client.list(base) == ["a.log"]


def test_delete_removes_the_file(hdfs_cluster: HdfsCluster) -> None:
    client = hdfs_cluster.client()
    path = f"{_unique_dir()}/gone.log"
    client.write(path, data=b"x")

    assert client.delete(path) is True
    assert client.status(path, strict=False) is None


def test_create_without_overwrite_on_existing_file_raises_file_already_exists(
    hdfs_cluster: HdfsCluster,
) -> None:
    client = hdfs_cluster.client()
    path = f"{_unique_dir()}/once.log"
    client.write(path, data=b"x")

    with pytest.raises(HdfsError) as caught:
        client.write(path, data=b"y")

    assert caught.value.exception == "FileAlreadyExistsException"


def test_data_survives_namenode_restart(hdfs_cluster: HdfsCluster) -> None:
    client = hdfs_cluster.client()
    path = f"{_unique_dir()}/durable.log"
    client.write(path, data=b"kept")

    hdfs_cluster.stop_namenode()
    hdfs_cluster.start_namenode()

    with client.read(path) as reader:
        assert reader.read() == b"kept"


def test_closed_file_survives_namenode_crash(hdfs_cluster: HdfsCluster) -> None:
    client = hdfs_cluster.client()
    path = f"{_unique_dir()}/crash.log"
    client.write(path, data=b"synced")

    hdfs_cluster.kill_namenode()
    hdfs_cluster.start_namenode()

    with client.read(path) as reader:
        assert reader.read() == b"synced"


def test_write_while_datanode_is_down_raises_connection_error(
    hdfs_cluster: HdfsCluster,
) -> None:
    client = hdfs_cluster.client()
    base = _unique_dir()
    hdfs_cluster.stop_datanode()
    try:
        with pytest.raises(requests.ConnectionError):
            client.write(f"{base}/down.log", data=b"x")
    finally:
        hdfs_cluster.start_datanode()


def test_metadata_operations_work_while_datanode_is_down(hdfs_cluster: HdfsCluster) -> None:
    client = hdfs_cluster.client()
    base = _unique_dir()
    hdfs_cluster.stop_datanode()
    try:
        client.makedirs(base)
        assert client.status(base)["type"] == "DIRECTORY"
    finally:
        hdfs_cluster.start_datanode()


def test_write_succeeds_again_after_datanode_restart(hdfs_cluster: HdfsCluster) -> None:
    client = hdfs_cluster.client()
    path = f"{_unique_dir()}/back.log"
    hdfs_cluster.stop_datanode()
    hdfs_cluster.start_datanode()

    client.write(path, data=b"back")

    with client.read(path) as reader:
        assert reader.read() == b"back"


@pytest.fixture(scope="class")
def in_safe_mode(hdfs_cluster: HdfsCluster) -> Iterator[HdfsCluster]:
    hdfs_cluster.enter_safemode()
    try:
        yield hdfs_cluster
    finally:
        hdfs_cluster.leave_safemode()


class TestSafeMode:
    def test_mkdirs_raises_safe_mode_exception(self, in_safe_mode: HdfsCluster) -> None:
        with pytest.raises(HdfsError) as caught:
            in_safe_mode.client().makedirs(_unique_dir())

        assert caught.value.exception == "SafeModeException"

    def test_create_raises_remote_exception_that_names_safe_mode(
        self, in_safe_mode: HdfsCluster,
    ) -> None:
        # The DataNode step of CREATE wraps the NameNode's SafeModeException.
        with pytest.raises(HdfsError) as caught:
            in_safe_mode.client().write(f"{_unique_dir()}/safe.log", data=b"x")

        assert caught.value.exception == "RemoteException"
        assert "safe mode" in str(caught.value)


def test_sequence_file_on_hdfs_round_trips_through_hadoop_reader(
    hdfs_cluster: HdfsCluster,
) -> None:
    path = f"{_unique_dir()}/events.seq"
    records = [(1_700_000_000_000 + i, f"body-{i}".encode() + b"\x00\xff") for i in range(50)]

    write_sequence_file(path, records, compression="BLOCK", cluster=hdfs_cluster)
    read = read_sequence_file(path, cluster=hdfs_cluster)

    assert [(r["key"], r["value"]) for r in read] == records
    assert {r["key_class"] for r in read} == {"org.apache.hadoop.io.LongWritable"}
    assert {r["value_class"] for r in read} == {"org.apache.hadoop.io.BytesWritable"}


@pytest.mark.usefixtures("hadoop_libdir")
def test_sequence_file_header_reports_compression_and_codec(tmp_path: Path) -> None:
    path = tmp_path / "record.seq"
    write_sequence_file(path, [(7, b"seven")], compression="RECORD",
                        codec="org.apache.hadoop.io.compress.BZip2Codec", value_type="text")

    header = read_sequence_file_header(path)

    assert header["version"] == 6
    assert header["compression_type"] == "RECORD"
    assert header["codec"] == "org.apache.hadoop.io.compress.BZip2Codec"
    assert header["value_class"] == "org.apache.hadoop.io.Text"


@pytest.mark.usefixtures("hadoop_libdir")
def test_reading_a_file_that_is_not_a_sequence_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_bytes(b"just text, no SEQ magic")

    with pytest.raises(SequenceFileError, match="not a SequenceFile"):
        read_sequence_file(path)
