"""A real ``flume-ng agent`` consumes an ActiveMQ queue (jms -> memory -> file_roll)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess
from flume_testkit.servers.activemq import ActiveMQ

pytestmark = pytest.mark.timeout(180)

CONF = """\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = org.apache.flume.source.jms.JMSSource
a1.sources.r1.initialContextFactory = org.apache.activemq.jndi.ActiveMQInitialContextFactory
a1.sources.r1.connectionFactory = ConnectionFactory
a1.sources.r1.providerURL = {url}
a1.sources.r1.destinationName = {queue}
a1.sources.r1.destinationType = QUEUE
a1.sources.r1.batchSize = 50
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = {out}
a1.sinks.k1.sink.rollInterval = 0
"""


def _lines(out: Path) -> list[str]:
    return [line for f in sorted(out.iterdir()) for line in f.read_text().splitlines()]


def test_agent_moves_every_message_and_acknowledges_it(
        tmp_path: Path, activemq_broker: ActiveMQ, destination: str,
        send_messages: Callable[..., None], unacknowledged_on: Callable[[str], int]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    conf = tmp_path / "agent.conf"
    conf.write_text(CONF.format(url=activemq_broker.stomp_url, queue=destination, out=out))
    send_messages(f"/queue/{destination}", [f"msg-{i}" for i in range(300)])
    agent = FlumeAgentProcess("a1", conf, tmp_path)
    agent.start_and_wait()
    try:
        wait_until(lambda: len(_lines(out)) >= 300, timeout=60, what="300 lines in file_roll")
        assert sorted(_lines(out)) == sorted(f"msg-{i}" for i in range(300))
        wait_until(lambda: unacknowledged_on(destination) == 0, timeout=30,
                   what="every message acknowledged")
        source = agent.metrics()["SOURCE.r1"]
        assert source["EventAcceptedCount"] == "300"
    finally:
        agent.stop()
