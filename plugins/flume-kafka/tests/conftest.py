"""Shared helpers for the flume-kafka tests: unique names, fast-joining client settings, and
every broker test run once per client library (``kafka.client``)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from flume_kafka import CLIENTS
from flume_kafka._format import headers_from_record
from flume_testkit.servers.kafka import KafkaBroker

from flume_sdk import Event

__all__ = ["FAST_CONSUMER", "FAST_PRODUCER", "LARGE_RECORDS", "kafka_broker", "kafka_broker_durable",
           "kafka_client", "read_topic", "unique"]

_counter = itertools.count()

#: tansu holds each JoinGroup for session/2 (test-infra.md §1.1): 6 s sessions join in ~3 s.
FAST_CONSUMER: dict[str, str] = {
    "kafka.consumer.session.timeout.ms": "6000",
    "kafka.consumer.heartbeat.interval.ms": "1000",
}

#: Producer timeouts short enough that a dead broker fails a batch within seconds.
FAST_PRODUCER: dict[str, str] = {
    "kafka.producer.max.block.ms": "2000",
    "kafka.producer.request.timeout.ms": "2000",
    "kafka.producer.delivery.timeout.ms": "3000",
}

#: kafka-python only: its producer waits this long for the first broker connection.
_KAFKA_PYTHON_PRODUCER = {"kafka.producer.bootstrap.timeout.ms": "2000"}

#: The testkit's edge cases include a 1 MiB body: above Kafka's 1 MB default request size.
LARGE_RECORDS: dict[str, str] = {
    "kafka.producer.max.request.size": "4194304",
    "kafka.consumer.max.partition.fetch.bytes": "4194304",
}


def read_topic(broker: KafkaBroker, topic: str, idle: float = 0.5) -> list[Event]:
    """Every record of ``topic`` from the beginning (no group), as events with their headers.

    Stops at the first poll that brings nothing for ``idle`` seconds.
    """
    from kafka import TopicPartition

    consumer = broker.consumer(None, None, max_partition_fetch_bytes=4194304)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        events: list[Event] = []
        while batch := consumer.poll(timeout_ms=int(idle * 1000)):
            for records in batch.values():
                events.extend(Event(r.value or b"", headers_from_record(r.headers))
                              for r in records)
        return events
    finally:
        consumer.close()


def unique(prefix: str) -> str:
    """A topic or group name no other test in this process uses."""
    return f"{prefix}-{os.getpid()}-{next(_counter)}"


@pytest.fixture(params=CLIENTS)
def kafka_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each backend in turn: ``FAST_CONSUMER`` / ``FAST_PRODUCER`` name it in ``kafka.client``."""
    client = str(request.param)
    for props in (FAST_CONSUMER, FAST_PRODUCER):
        monkeypatch.setitem(props, "kafka.client", client)
    if client == "kafka-python":
        for key, value in _KAFKA_PYTHON_PRODUCER.items():
            monkeypatch.setitem(FAST_PRODUCER, key, value)
    return client


@pytest.fixture
def kafka_broker(kafka_broker: KafkaBroker, kafka_client: str) -> Iterator[KafkaBroker]:
    """The testkit's broker, once per client library."""
    yield kafka_broker


@pytest.fixture
def kafka_broker_durable(kafka_broker_durable: KafkaBroker,
                         kafka_client: str) -> Iterator[KafkaBroker]:
    """The testkit's durable broker, once per client library."""
    yield kafka_broker_durable
