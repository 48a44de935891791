"""Flume's configuration semantics, through the real ``flume-ng``: Java time zone ids, and
``multiport_syslogtcp`` keeping body bytes in the senders' charset."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess, free_port


def _validate(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flume_sdk.cli", "validate", "-f", str(conf)],
                          capture_output=True, text=True, timeout=60)


def _hdfs_conf(tmp_path: Path, zone: str) -> Path:
    conf = tmp_path / "hdfs.conf"
    conf.write_text(f"""\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = hdfs
a1.sinks.k1.channel = c1
a1.sinks.k1.hdfs.path = file://{tmp_path}/out/%Y-%m-%d
a1.sinks.k1.hdfs.filePrefix = events-%H
a1.sinks.k1.hdfs.timeZone = {zone}
""")
    return conf


@pytest.mark.parametrize("zone", ["GMT+08:00", "PST", "GMT-8", "EST", "Asia/Tokyo"])
def test_java_time_zone_ids_are_accepted(tmp_path: Path, zone: str) -> None:
    done = _validate(_hdfs_conf(tmp_path, zone))
    assert done.returncode == 0, done.stderr


def test_an_unknown_time_zone_is_reported_once(tmp_path: Path) -> None:
    done = _validate(_hdfs_conf(tmp_path, "Mars/Olympus"))
    assert done.returncode == 1
    assert done.stderr.count("time zone 'Mars/Olympus' is not known") == 1
    assert ":11: a1.sinks.k1.hdfs.timeZone:" in done.stderr


def test_multiport_syslogtcp_keeps_latin1_body_bytes(tmp_path: Path) -> None:
    plain, latin = free_port(), free_port()
    out = tmp_path / "out"
    conf = tmp_path / "a1.properties"
    conf.write_text(f"""\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = multiport_syslogtcp
a1.sources.r1.host = 127.0.0.1
a1.sources.r1.ports = {plain} {latin}
a1.sources.r1.charset.port.{latin} = ISO-8859-1
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = file_roll
a1.sinks.k1.sink.directory = {out}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k1.channel = c1
""")
    agent = FlumeAgentProcess("a1", conf, tmp_path)
    agent.start_and_wait()
    try:
        with socket.create_connection(("127.0.0.1", latin)) as client:
            client.sendall(b"<13>Nov 21 05:26:28 host caf\xea\n")

        def written() -> bytes:
            return b"".join(p.read_bytes() for p in out.iterdir()) if out.exists() else b""

        wait_until(lambda: b"caf" in written(), timeout=30, what="the event written")
    finally:
        agent.stop()
    assert written() == b"caf\xea\n"
