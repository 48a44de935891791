"""Broker crashes against a durable broker (tansu on s3:// over localbucket): nothing lost,
duplicates bounded by one batch, recovery without intervention."""

from __future__ import annotations

import collections
import threading

from flume_kafka import KafkaSink, KafkaSource
from flume_testkit import EventFactory, RecordingChannel
from flume_testkit.drivers import SinkDriver, SourceDriver
from flume_testkit.events import event_ids
from flume_testkit.fakes import RecordingTransaction
from flume_testkit.servers.kafka import KafkaBroker

from .conftest import FAST_CONSUMER, FAST_PRODUCER, unique

_BATCH = 50
_OUTAGE = 2.0


def _restart_later(broker: KafkaBroker) -> threading.Timer:
    timer = threading.Timer(_OUTAGE, broker.start)
    timer.start()
    return timer


def test_sink_loses_nothing_when_the_broker_dies_mid_run(kafka_broker_durable: KafkaBroker) -> None:
    broker, topic = kafka_broker_durable, unique("fault-sink")
    broker.create_topic(topic, 1)
    sink = KafkaSink.from_config("k1", {"kafka.bootstrap.servers": broker.bootstrap_servers,
                                        "kafka.topic": topic, "flumeBatchSize": str(_BATCH),
                                        **FAST_PRODUCER})
    channel = RecordingChannel("c1", RecordingChannel.Settings(capacity=1000))
    timers: list[threading.Timer] = []

    def crash_after_second_batch(tx: RecordingTransaction) -> None:
        if len(channel.taken) + len(tx.takes) == 2 * _BATCH and not timers:
            broker.kill()
            timers.append(_restart_later(broker))

    channel.commit_hooks.append(crash_after_second_batch)
    events = EventFactory().batch(4 * _BATCH)
    with SinkDriver(sink, channel) as driver:
        driver.start()
        driver.feed(events)
        driver.run_until_empty(timeout=40)
    timers[0].join()
    got = collections.Counter(r.headers and dict(r.headers)["testkit.id"].decode()
                              for r in broker.read_all(topic, len(events), timeout=20, settle=0.5))
    assert set(got) == set(event_ids(events))
    assert sum(got.values()) - len(events) <= _BATCH


def test_source_resumes_by_itself_after_a_broker_outage(kafka_broker_durable: KafkaBroker) -> None:
    broker, topic, group = kafka_broker_durable, unique("fault-src"), unique("group")
    broker.create_topic(topic, 1)
    producer = broker.producer()
    for i in range(2 * _BATCH):
        producer.send(topic, str(i).encode())
    producer.flush(10)
    producer.close()
    source = KafkaSource.from_config("r1", {
        "kafka.bootstrap.servers": broker.bootstrap_servers, "kafka.topics": topic,
        "kafka.consumer.group.id": group, "batchSize": str(_BATCH), "batchDurationMillis": "300",
        **FAST_CONSUMER})
    channel = RecordingChannel("c1", RecordingChannel.Settings(capacity=1000))
    with SourceDriver(source, channel) as driver:
        driver.start()
        driver.run_until(lambda: len(channel.committed) >= _BATCH, timeout=20)
        broker.kill()
        timer = _restart_later(broker)
        driver.process(times=2)  # back off (or raise) while the broker is down
        timer.join()
        driver.run_until(lambda: len(channel.committed) >= 2 * _BATCH, timeout=40)
    bodies = [int(e.body) for e in channel.committed]
    assert sorted(set(bodies)) == list(range(2 * _BATCH))
    assert len(bodies) - 2 * _BATCH <= _BATCH
