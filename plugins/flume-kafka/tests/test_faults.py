"""Broker crashes against a durable broker (tansu on s3:// over localbucket): nothing lost,
duplicates bounded by one batch, recovery without intervention."""

from __future__ import annotations

import collections
import threading
from pathlib import Path

from flume_kafka import KafkaSink, KafkaSource
from flume_testkit import EventFactory, RecordingChannel, wait_until
from flume_testkit.drivers import SinkDriver, SourceDriver
from flume_testkit.events import event_ids
from flume_testkit.fakes import RecordingTransaction
from flume_testkit.servers.kafka import KafkaBroker

from ._agents import AgentProcess, output_lines
from .conftest import FAST_CONSUMER, FAST_PRODUCER, unique

_BATCH = 50
_OUTAGE = 2.0


def _restart_later(broker: KafkaBroker, outage: float = _OUTAGE) -> threading.Timer:
    timer = threading.Timer(outage, broker.start)
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


# -- a 30 s outage under two real agents ------------------------------------------------------

_LONG_OUTAGE = 30.0
_HOP_BATCH = 100
_CAPACITY = 300


def _producer_agent(work: Path, spool: Path, broker: KafkaBroker, topic: str) -> AgentProcess:
    return AgentProcess("p", work, [
        "p.sources = r1", "p.channels = c1", "p.sinks = k1",
        "p.sources.r1.type = spooldir", f"p.sources.r1.spoolDir = {spool}",
        f"p.sources.r1.batchSize = {_HOP_BATCH}", "p.sources.r1.pollDelay = 100",
        "p.sources.r1.channels = c1",
        "p.channels.c1.type = memory", f"p.channels.c1.capacity = {_CAPACITY}",
        f"p.channels.c1.transactionCapacity = {_HOP_BATCH}",
        "p.sinks.k1.type = kafka", "p.sinks.k1.channel = c1",
        f"p.sinks.k1.kafka.bootstrap.servers = {broker.bootstrap_servers}",
        f"p.sinks.k1.kafka.topic = {topic}", f"p.sinks.k1.flumeBatchSize = {_HOP_BATCH}",
        f"p.sinks.k1.kafka.client = {FAST_PRODUCER['kafka.client']}",
        "p.sinks.k1.kafka.producer.max.block.ms = 2000",
        "p.sinks.k1.kafka.producer.request.timeout.ms = 2000",
        "p.sinks.k1.kafka.producer.delivery.timeout.ms = 4000",
    ])


def _consumer_agent(work: Path, out: Path, broker: KafkaBroker, topic: str) -> AgentProcess:
    return AgentProcess("c", work, [
        "c.sources = r1", "c.channels = c1", "c.sinks = k1",
        "c.sources.r1.type = kafka", "c.sources.r1.channels = c1",
        f"c.sources.r1.kafka.bootstrap.servers = {broker.bootstrap_servers}",
        f"c.sources.r1.kafka.topics = {topic}", "c.sources.r1.kafka.consumer.group.id = outage",
        f"c.sources.r1.batchSize = {_HOP_BATCH}", "c.sources.r1.batchDurationMillis = 500",
        f"c.sources.r1.kafka.client = {FAST_CONSUMER['kafka.client']}",
        "c.sources.r1.kafka.consumer.session.timeout.ms = 6000",
        "c.sources.r1.kafka.consumer.heartbeat.interval.ms = 1000",
        "c.channels.c1.type = memory", "c.channels.c1.capacity = 1000",
        "c.sinks.k1.type = file_roll", "c.sinks.k1.channel = c1",
        f"c.sinks.k1.sink.directory = {out}", "c.sinks.k1.sink.rollInterval = 0",
        f"c.sinks.k1.sink.batchSize = {_HOP_BATCH}",
    ])


def _spool(spool: Path, name: str, numbers: range) -> None:
    staged = spool.parent / name
    staged.write_text("".join(f"{i}\n" for i in numbers))
    staged.rename(spool / name)  # spooldir files must appear complete


def _outage_sample(producer: AgentProcess, consumer: AgentProcess) -> dict[str, int]:
    return {"fails": producer.counter("SINK.k1", "EventWriteFail"),
            "stuck": producer.counter("CHANNEL.c1", "ChannelSize"),
            "polls": consumer.counter("SOURCE.r1", "KafkaEmptyCount")}


def test_agents_ride_out_a_30s_broker_outage_and_resume_by_themselves(
    kafka_broker_durable: KafkaBroker, tmp_path: Path,
) -> None:
    """spooldir -> memory -> kafka sink => broker => kafka source -> memory -> file_roll.

    While the broker is down for 30 s: the sink fails a batch only every few seconds (its
    producer timeouts plus the runner's error backoff; no busy loop) and keeps the events in
    its channel; the full channel pushes back on the spooldir source; the Kafka source polls
    and backs off. Once the broker is back, everything arrives with no one's help: nothing
    lost, duplicates within one batch per hop.
    """
    broker, topic = kafka_broker_durable, unique("outage")
    broker.create_topic(topic, 1)
    spool, out = tmp_path / "spool", tmp_path / "out"
    spool.mkdir()
    out.mkdir()
    producer, consumer = (_producer_agent(tmp_path, spool, broker, topic),
                          _consumer_agent(tmp_path, out, broker, topic))
    total = 3000
    try:
        producer.start()
        consumer.start()
        _spool(spool, "first.log", range(1000))
        wait_until(lambda: len(output_lines(out)) >= 1000, timeout=60, what="first 1000 delivered")

        broker.kill()
        before = _outage_sample(producer, consumer)
        during: dict[str, int] = {}

        def end_outage() -> None:
            try:
                during.update(_outage_sample(producer, consumer))
            finally:
                broker.start()

        timer = threading.Timer(_LONG_OUTAGE, end_outage)
        timer.start()
        _spool(spool, "second.log", range(1000, total))
        wait_until(lambda: producer.counter("SOURCE.r1", "ChannelWriteFail") > 0,
                   timeout=20, what="spooldir pushed back by the full channel")
        timer.join()
        wait_until(lambda: len(set(output_lines(out))) >= total, timeout=120, interval=0.5,
                   what="all events delivered after the outage")
    finally:
        consumer.stop()
        producer.stop()
    fails = during["fails"] - before["fails"]
    polls = during["polls"] - before["polls"]
    # each failed attempt costs the delivery timeout (4 s) plus the runner's error backoff (5 s)
    assert 2 <= fails <= _LONG_OUTAGE, f"sink attempts during a 30 s outage: {fails}"
    # each empty poll costs batchDurationMillis (0.5 s) plus a growing backoff (1 s .. 5 s)
    assert 1 <= polls <= _LONG_OUTAGE * 2, f"Kafka source polls during a 30 s outage: {polls}"
    # the channel stays full; only the batch the sink is retrying is out of its queue
    assert during["stuck"] >= _CAPACITY - _HOP_BATCH, f"channel size at the end: {during}"
    lines = collections.Counter(output_lines(out))
    assert set(lines) == {str(i) for i in range(total)}
    assert sum(lines.values()) - total <= 2 * _HOP_BATCH, "more duplicates than a batch per hop"
