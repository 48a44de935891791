"""The Kafka source keeps the source contract against a real broker (tansu).

"Acknowledged" for a Kafka source means committed consumer offsets.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flume_kafka import KafkaSource
from flume_testkit import SourceContract
from flume_testkit.drivers import SourceDriver
from flume_testkit.servers.kafka import KafkaBroker

from flume_sdk import Source

from .conftest import FAST_CONSUMER, unique

__all__ = ["TestKafkaSourceContract"]

_DRIVE_TIMEOUT = 12.0  # covers the first group join (~3 s on tansu with 6 s sessions)


def committed_total(broker: KafkaBroker, group: str) -> int:
    """Sum of the group's committed offsets (every test topic has one partition)."""
    return sum(broker.committed_offsets(group).values())


class TestKafkaSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self, kafka_broker: KafkaBroker) -> Callable[..., Source]:
        topic = unique("source")
        kafka_broker.create_topic(topic, partitions=1)
        group = unique("group")

        def make(**overrides: str) -> Source:
            props = {"kafka.bootstrap.servers": kafka_broker.bootstrap_servers,
                     "kafka.topics": topic, "kafka.consumer.group.id": group,
                     "batchDurationMillis": "200", **FAST_CONSUMER, **overrides}
            return KafkaSource.from_config("r1", props)

        return make

    @pytest.fixture
    def drive_source(self, kafka_broker: KafkaBroker) -> Callable[[SourceDriver, int], int]:
        def drive(driver: SourceDriver, count: int) -> int:
            source = driver.source
            assert isinstance(source, KafkaSource)
            topic = source.settings.topics[0]
            before = committed_total(kafka_broker, source.group_id)
            producer = kafka_broker.producer()
            for i in range(count):
                producer.send(topic, f"event-{i}".encode())
            producer.flush(10)
            producer.close()
            refusals = driver.counters.get("ChannelWriteFail", 0)
            deadline = time.monotonic() + _DRIVE_TIMEOUT
            while time.monotonic() < deadline:
                driver.process()
                acked = committed_total(kafka_broker, source.group_id) - before
                if acked >= count or driver.counters.get("ChannelWriteFail", 0) > refusals:
                    return acked
            return committed_total(kafka_broker, source.group_id) - before

        return drive
