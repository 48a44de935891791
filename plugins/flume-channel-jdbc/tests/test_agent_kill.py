"""kill -9 a real agent, or restart its PostgreSQL, mid-stream (netcat with acks -> jdbc ->
file_roll): nothing acknowledged is lost.

A client sends numbered lines over netcat and records every ``OK``; the agent is
SIGKILLed while lines are flowing, started again on the same database, and must then
deliver every acknowledged line to file_roll (duplicates of the last uncommitted sink
batch are allowed, losses are not). Run on the embedded SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess, free_port
from flume_testkit.servers.postgres import running_postgres

pytestmark = pytest.mark.timeout(240)

CONF = """\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = {port}
a1.sources.r1.channels = c1
a1.channels.c1.type = jdbc
{channel}
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = {out}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k1.sink.batchSize = 20
"""


class Sender(threading.Thread):
    """Sends ``msg-N`` lines 25 at a time and keeps the numbers acknowledged with ``OK``."""

    def __init__(self, port: int) -> None:
        super().__init__(name="netcat-sender", daemon=True)
        self.port = port
        self.acked: set[int] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        number = 0
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as client:
                reader = client.makefile("rb")
                while not self.stop.is_set():
                    batch = range(number, number + 25)
                    client.sendall(b"".join(b"msg-%d\n" % n for n in batch))
                    for n in batch:
                        if reader.readline().strip() == b"OK":
                            self.acked.add(n)
                    number += 25
        except OSError:
            return  # the agent was killed


def _delivered(out: Path) -> set[int]:
    lines = (line for f in out.iterdir() for line in f.read_bytes().splitlines())
    return {int(line[4:]) for line in lines if line.startswith(b"msg-")}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_mid_stream_loses_nothing_acknowledged(backend: str, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        channel = f"a1.channels.c1.db.type = SQLITE\na1.channels.c1.driver.url = {tmp_path}/c.db"
    else:
        url = request.getfixturevalue("postgres_url")
        channel = f"a1.channels.c1.db.type = POSTGRESQL\na1.channels.c1.driver.url = {url}"
    out, port = tmp_path / "out", free_port()
    out.mkdir()
    conf = tmp_path / "agent.conf"
    conf.write_text(CONF.format(port=port, channel=channel, out=out))
    first = FlumeAgentProcess("a1", conf, tmp_path / "first")
    first.start_and_wait()
    sender = Sender(port)
    try:
        sender.start()
        wait_until(lambda: len(sender.acked) >= 1500, timeout=60, what="1500 lines acked")
    finally:
        first.kill()
        sender.stop.set()
        sender.join(timeout=10)
    acked = set(sender.acked)
    second = FlumeAgentProcess("a1", conf, tmp_path / "second")
    second.start_and_wait()
    try:
        wait_until(lambda: acked <= _delivered(out), timeout=60,
                   what=f"all {len(acked)} acknowledged lines delivered after the restart")
    finally:
        second.stop()
    assert acked <= _delivered(out)


def test_a_postgresql_restart_mid_stream_loses_nothing_acknowledged(tmp_path: Path) -> None:
    with running_postgres("flume-pg-restart-") as server:
        url = server.create_database("restart")
        out, port = tmp_path / "out", free_port()
        out.mkdir()
        conf = tmp_path / "agent.conf"
        conf.write_text(CONF.format(port=port, out=out, channel=(
            f"a1.channels.c1.db.type = POSTGRESQL\na1.channels.c1.driver.url = {url}")))
        agent = FlumeAgentProcess("a1", conf, tmp_path)
        agent.start_and_wait()
        sender = Sender(port)
        try:
            sender.start()
            wait_until(lambda: len(sender.acked) >= 500, timeout=60, what="500 lines acked")
            server.restart()  # the channel refuses meanwhile: netcat answers FAILED, not OK
            before = len(sender.acked)
            wait_until(lambda: len(sender.acked) >= before + 500, timeout=60,
                       what="500 more lines acked after the restart")
            sender.stop.set()
            sender.join(timeout=30)
            acked = set(sender.acked)
            wait_until(lambda: acked <= _delivered(out), timeout=60,
                       what=f"all {len(acked)} acknowledged lines delivered")
            refused = int(agent.metrics()["SOURCE.r1"]["ChannelWriteFail"])
            assert refused > 0, "the restart never made the channel refuse a put"
        finally:
            sender.stop.set()
            agent.stop()
