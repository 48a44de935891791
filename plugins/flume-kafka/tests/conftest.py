"""Shared helpers for the flume-kafka tests: unique names and fast-joining client settings."""

from __future__ import annotations

import itertools
import os

from flume_kafka._format import headers_from_record
from flume_testkit.servers.kafka import KafkaBroker

from flume_sdk import Event

__all__ = ["FAST_CONSUMER", "FAST_PRODUCER", "LARGE_RECORDS", "read_topic", "unique"]

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
    "kafka.producer.bootstrap.timeout.ms": "2000",
}

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
