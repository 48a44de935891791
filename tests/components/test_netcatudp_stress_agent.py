"""A real ``flume-ng agent`` runs Flume's StressSource (by class name) and netcatudp into file_roll."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from flume_testkit import wait_until

pytestmark = pytest.mark.timeout(120)

CONF = """\
a1.sources = r1 r2
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = org.apache.flume.source.StressSource
a1.sources.r1.size = 10
a1.sources.r1.batchSize = 100
a1.sources.r1.maxTotalEvents = 1000
a1.sources.r1.channels = c1
a1.sources.r2.type = netcatudp
a1.sources.r2.bind = 127.0.0.1
a1.sources.r2.port = {port}
a1.sources.r2.remoteAddressHeader = from
a1.sources.r2.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10000
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = {out}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k1.sink.serializer = header_and_text
"""


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _written(out: Path) -> list[bytes]:
    return [line for f in out.iterdir() for line in f.read_bytes().splitlines()]


def test_agent_runs_stress_by_class_name_and_netcatudp_into_file_roll(tmp_path: Path) -> None:
    port, out = _free_udp_port(), tmp_path / "out"
    out.mkdir()
    conf = tmp_path / "a.conf"
    conf.write_text(CONF.format(port=port, out=out))
    agent = subprocess.Popen([sys.executable, "-m", "flume_sdk.cli", "agent", "-n", "a1", "-f",
                              str(conf), "--no-reload-conf"], stderr=subprocess.PIPE)
    try:
        wait_until(lambda: len(_written(out)) >= 1000, timeout=30, what="1000 stress events")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            def udp_arrived() -> bool:
                client.sendto(b"over udp\n", ("127.0.0.1", port))
                return any(line.endswith(b"over udp") for line in _written(out))
            wait_until(udp_arrived, timeout=30, interval=0.3, what="a netcatudp line in file_roll")
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err.decode(errors="replace")[-2000:]
    lines = _written(out)
    assert sum(1 for line in lines if not line.endswith(b"over udp")) == 1000
    assert any(b"from=127.0.0.1" in line for line in lines if line.endswith(b"over udp"))
