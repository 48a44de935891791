"""Flume's ``kafka.producer.sasl.jaas.config`` through a real agent, on each client library,
against a broker that demands SASL (tansu ``--authentication``).

tansu offers SCRAM-SHA-256 and this build keeps no users, so no login can succeed: the proof
is the client's handshake reaching the broker's user check with the mechanism and the user
name from the JAAS line (librdkafka logs the broker's ``unknown-user`` answer; kafka-python's
SCRAM module logs its exchange), the sink failing its batches instead of writing, and the
password appearing nowhere in the agent's log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers.kafka import KafkaBroker, kafka_missing_reason

from ._agents import AgentProcess

_PASSWORD = "pw-must-not-leak-7d1f"
_EVIDENCE = {
    "confluent": "SASL SCRAM authentication failed: broker responded with unknown-user",
    "kafka-python": "kafka.net.sasl.scram",
}


@pytest.fixture
def sasl_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    reason = kafka_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    broker = KafkaBroker(data_dir=tmp_path / "kafka-sasl", authentication=True)
    try:
        broker.start()
        yield broker
    finally:
        broker.kill()
        broker.stop()


@pytest.mark.parametrize("client", list(_EVIDENCE))
def test_an_agent_with_a_jaas_config_loads_and_logs_in_with_scram_without_leaking_it(
    sasl_broker: KafkaBroker, tmp_path: Path, client: str,
) -> None:
    jaas = ('org.apache.kafka.common.security.scram.ScramLoginModule required '
            f'username="flume" password="{_PASSWORD}";')
    agent = AgentProcess("a1", tmp_path, [
        "a1.sources = r1", "a1.channels = c1", "a1.sinks = k1",
        "a1.sources.r1.type = seq", "a1.sources.r1.totalEvents = 10", "a1.sources.r1.channels = c1",
        "a1.channels.c1.type = memory",
        "a1.sinks.k1.type = kafka", "a1.sinks.k1.channel = c1", "a1.sinks.k1.kafka.topic = t",
        f"a1.sinks.k1.kafka.bootstrap.servers = {sasl_broker.bootstrap_servers}",
        f"a1.sinks.k1.kafka.client = {client}",
        "a1.sinks.k1.kafka.producer.security.protocol = SASL_PLAINTEXT",
        "a1.sinks.k1.kafka.producer.sasl.mechanism = SCRAM-SHA-256",
        f"a1.sinks.k1.kafka.producer.sasl.jaas.config = {jaas}",
        "a1.sinks.k1.kafka.producer.delivery.timeout.ms = 2000",
        "a1.sinks.k1.kafka.producer.request.timeout.ms = 1000",
        "a1.sinks.k1.kafka.producer.max.block.ms = 2000",
    ])
    try:
        agent.start()
        wait_until(lambda: agent.counter("SINK.k1", "EventWriteFail") >= 1, timeout=40,
                   what="the sink failing a batch on the broker that knows no user")
        wait_until(lambda: _EVIDENCE[client] in agent.log.read_text(errors="replace"),
                   timeout=20, what=f"the SCRAM handshake in the agent log ({_EVIDENCE[client]})")
        assert agent.counter("SINK.k1", "EventDrainSuccessCount") == 0
    finally:
        agent.stop()
    assert _PASSWORD not in agent.log.read_text(errors="replace")
