"""SequenceFileWriter: Hadoop's own SequenceFile.Reader reads what it writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from flume_sink_hdfs._codecs import codec_for
from flume_sink_hdfs.sequencefile import (
    BYTES_WRITABLE,
    LONG_WRITABLE,
    TEXT,
    SequenceFileWriter,
    bytes_writable,
    long_writable,
    text_writable,
    write_vint,
)
from flume_testkit.servers.hdfs import HdfsUnavailable, hadoop_lib, read_sequence_file

__all__: list[str] = []


@pytest.fixture(scope="module")
def hadoop() -> None:
    try:
        hadoop_lib()
    except HdfsUnavailable as exc:
        pytest.skip(str(exc))


def _records(batch: int, count: int) -> list[tuple[int, bytes]]:
    return [(1_700_000_000_000 + batch * 1000 + i, f"b{batch}-{i}-".encode() * (i % 9) + b"\x00")
            for i in range(count)]


def _write(path: Path, writer: SequenceFileWriter, batches: list[list[tuple[int, bytes]]]) -> None:
    encode = text_writable if writer.value_class == TEXT else bytes_writable
    data = writer.header()
    for batch in batches:
        data += writer.append((long_writable(k), encode(v)) for k, v in batch)
    path.write_bytes(data)


@pytest.mark.parametrize(("value_class", "compression", "codec"), [
    (BYTES_WRITABLE, "NONE", None),
    (TEXT, "RECORD", "deflate"),
    (BYTES_WRITABLE, "BLOCK", "bzip2"),
    (TEXT, "BLOCK", "gzip"),
])
def test_hadoop_reader_reads_every_record_in_order(
    hadoop: None, tmp_path: Path, value_class: str, compression: str, codec: str | None,
) -> None:
    writer = SequenceFileWriter(LONG_WRITABLE, value_class, compression=compression,
                                codec=codec_for(codec) if codec else None)
    batches = [_records(b, 150) for b in range(3)]
    path = tmp_path / "f.seq"
    _write(path, writer, batches)

    got = read_sequence_file(path)

    assert [(r["key"], r["value"]) for r in got] == [r for b in batches for r in b]
    assert {r["value_class"] for r in got} == {value_class}


@pytest.mark.parametrize(("value", "encoded"), [
    (0, b"\x00"), (127, b"\x7f"), (-112, b"\x90"), (128, b"\x8f\x80"),
    (-113, b"\x87\x70"), (65536, b"\x8d\x01\x00\x00"),
])
def test_vint_matches_hadoop_writable_utils(value: int, encoded: bytes) -> None:
    assert write_vint(value) == encoded


def test_header_starts_with_seq_version_6_and_class_names() -> None:
    header = SequenceFileWriter(sync=bytes(16)).header()
    assert header.startswith(b"SEQ\x06\x21org.apache.hadoop.io.LongWritable")
    assert header.endswith(b"\x00\x00" + b"\x00\x00\x00\x00" + bytes(16))


def test_sync_marker_is_written_at_least_every_2000_bytes() -> None:
    writer = SequenceFileWriter(sync=b"S" * 16)
    data = writer.header() + writer.append((long_writable(i), bytes_writable(b"x" * 100))
                                           for i in range(100))
    assert data.count(b"\xff\xff\xff\xff" + b"S" * 16) >= 5


def test_compressed_file_needs_a_codec() -> None:
    with pytest.raises(ValueError, match="needs a codec"):
        SequenceFileWriter(compression="BLOCK")
