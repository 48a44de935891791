"""What the Kafka components promise beyond the contracts, against a real broker (tansu)."""

from __future__ import annotations

import io

import fastavro
from flume_kafka import AVRO_FLUME_EVENT_SCHEMA, KafkaChannel, KafkaSink, KafkaSource, encode_avro_event
from flume_testkit import EventFactory, RecordingChannel
from flume_testkit.drivers import ChannelDriver, SinkDriver, SourceDriver
from flume_testkit.events import event_ids
from flume_testkit.fakes import ChannelFailure
from flume_testkit.servers.kafka import KafkaBroker

from flume_sdk import Event

from .conftest import FAST_CONSUMER, FAST_PRODUCER, read_topic, unique


def _sink(broker: KafkaBroker, **props: str) -> KafkaSink:
    return KafkaSink.from_config("k1", {"kafka.bootstrap.servers": broker.bootstrap_servers,
                                        **FAST_PRODUCER, **props})


def _source(broker: KafkaBroker, topic: str, group: str, **props: str) -> KafkaSource:
    return KafkaSource.from_config("r1", {
        "kafka.bootstrap.servers": broker.bootstrap_servers, "kafka.topics": topic,
        "kafka.consumer.group.id": group, "batchDurationMillis": "300", **FAST_CONSUMER, **props})


def _deliver(sink: KafkaSink, events: list[Event]) -> None:
    with SinkDriver(sink) as driver:
        driver.start()
        driver.feed(events)
        driver.run_until_empty(timeout=10)


# -- sink ---------------------------------------------------------------------------------


def test_sink_topic_escape_routes_by_header(kafka_broker: KafkaBroker) -> None:
    kafka_broker.create_topic("logs-web", 1)
    _deliver(_sink(kafka_broker, **{"kafka.topic": "logs-%{app}"}), [Event(b"x", {"app": "web"})])
    assert [e.body for e in read_topic(kafka_broker, "logs-web")] == [b"x"]


def test_sink_topic_header_overrides_the_configured_topic(kafka_broker: KafkaBroker) -> None:
    kafka_broker.create_topic("override", 1)
    _deliver(_sink(kafka_broker, **{"kafka.topic": "unused"}), [Event(b"y", {"topic": "override"})])
    assert [e.body for e in read_topic(kafka_broker, "override")] == [b"y"]


def test_sink_partition_comes_from_the_partition_header(kafka_broker: KafkaBroker) -> None:
    topic = unique("parts")
    kafka_broker.create_topic(topic, 3)
    _deliver(_sink(kafka_broker, **{"kafka.topic": topic, "partitionIdHeader": "p"}),
             [Event(b"z", {"p": "2"})])
    records = kafka_broker.read_all(topic, 1, timeout=10)
    assert [(r.partition, r.value) for r in records] == [(2, b"z")]


def test_sink_flume_event_format_writes_avro_records_java_flume_reads(
    kafka_broker: KafkaBroker,
) -> None:
    topic = unique("avro")
    kafka_broker.create_topic(topic, 1)
    _deliver(_sink(kafka_broker, **{"kafka.topic": topic, "useFlumeEventFormat": "true"}),
             [Event(b"body", {"h": "v"})])
    value = kafka_broker.read_all(topic, 1, timeout=10)[0].value
    schema = fastavro.parse_schema(AVRO_FLUME_EVENT_SCHEMA)
    assert fastavro.schemaless_reader(io.BytesIO(value), schema, None) == {
        "headers": {"h": "v"}, "body": b"body"}


# -- source -------------------------------------------------------------------------------


def test_source_resumes_at_committed_offsets_after_dropping_an_uncommitted_batch(
    kafka_broker: KafkaBroker,
) -> None:
    topic, group = unique("resume"), unique("group")
    kafka_broker.create_topic(topic, 1)
    producer = kafka_broker.producer()
    for i in range(6):
        producer.send(topic, f"m{i}".encode())
    producer.flush(10)
    channel = RecordingChannel("c1", RecordingChannel.Settings(capacity=1000))
    first = SourceDriver(_source(kafka_broker, topic, group, batchSize="3"), channel).start()
    first.run_until(lambda: len(channel.committed) >= 3, timeout=15)
    channel.script_failure(ChannelFailure.FAIL_ON_PUT)
    first.process()  # polls m3..m5, the channel refuses them: no commit
    first.stop()  # a crash as far as Kafka knows: nothing more is committed
    again = RecordingChannel("c2", RecordingChannel.Settings(capacity=1000))
    second = SourceDriver(_source(kafka_broker, topic, group, batchSize="10"), again).start()
    try:
        second.run_until(lambda: len(again.committed) >= 3, timeout=15)
    finally:
        second.stop()
    assert [e.body for e in channel.committed + again.committed] == [
        b"m0", b"m1", b"m2", b"m3", b"m4", b"m5"]


def test_source_reads_flume_avro_records_and_adds_kafka_headers(kafka_broker: KafkaBroker) -> None:
    topic, group = unique("avro-in"), unique("group")
    kafka_broker.create_topic(topic, 1)
    producer = kafka_broker.producer()
    producer.send(topic, encode_avro_event(Event(b"b", {"origin": "java"})), key=b"k1")
    producer.flush(10)
    with SourceDriver(_source(kafka_broker, topic, group, useFlumeEventFormat="true")) as driver:
        driver.start()
        driver.run_until(lambda: len(driver.events) == 1, timeout=15)
        event = driver.events[0]
    assert event.body == b"b" and event.headers["origin"] == "java"
    assert (event.headers["topic"], event.headers["key"], event.headers["partition"]) == (
        topic, "k1", "0")


# -- channel ------------------------------------------------------------------------------


def _channel(broker: KafkaBroker, topic: str, group: str) -> KafkaChannel:
    return KafkaChannel.from_config("c1", {
        "kafka.bootstrap.servers": broker.bootstrap_servers, "kafka.topic": topic,
        "kafka.consumer.group.id": group, "pollTimeout": "200", **FAST_CONSUMER, **FAST_PRODUCER})


def test_channel_takes_what_other_producers_wrote_without_a_source(
    kafka_broker: KafkaBroker,
) -> None:
    topic = unique("fed")
    kafka_broker.create_topic(topic, 1)
    events = EventFactory().batch(4)
    producer = kafka_broker.producer()
    for event in events:
        producer.send(topic, encode_avro_event(event))
    producer.flush(10)
    with ChannelDriver(_channel(kafka_broker, topic, unique("group"))) as driver:
        driver.start()
        assert event_ids(driver.drain()) == event_ids(events)


def test_channel_commits_offsets_at_take_commit_only(kafka_broker: KafkaBroker) -> None:
    topic, group = unique("offsets"), unique("group")
    kafka_broker.create_topic(topic, 1)
    with ChannelDriver(_channel(kafka_broker, topic, group)) as driver:
        driver.start()
        driver.put(EventFactory().batch(5))
        tx = driver.channel.get_transaction()
        tx.begin()
        taken = tx.take_batch(3)
        before_commit = kafka_broker.committed_offsets(group)
        tx.commit()
        tx.close()
        after_commit = kafka_broker.committed_offsets(group)
    assert len(taken) == 3
    assert (before_commit.get(0, -1), after_commit) == (-1, {0: 3})


# -- Flume 1.11 header mapping ------------------------------------------------------------


def test_sink_header_keys_choose_and_rename_the_kafka_record_headers(
    kafka_broker: KafkaBroker,
) -> None:
    topic = unique("hdr-out")
    kafka_broker.create_topic(topic, 1)
    _deliver(_sink(kafka_broker, **{"kafka.topic": topic, "useFlumeEventFormat": "true",
                                    "header.app": "X-App", "header.absent": "X-None",
                                    "timestampHeader": "ts"}),
             [Event(b"b", {"app": "web", "host": "h1", "ts": "1234"})])
    [record] = kafka_broker.read_all(topic, 1, timeout=10)
    assert (record.headers, record.timestamp) == ([("X-App", b"web")], 1234)


def test_source_header_keys_choose_and_rename_kafka_headers_and_copy_the_timestamp(
    kafka_broker: KafkaBroker,
) -> None:
    topic, group = unique("hdr-in"), unique("group")
    kafka_broker.create_topic(topic, 1)
    producer = kafka_broker.producer()
    producer.send(topic, b"v", headers=[("X-Origin", b"java"), ("other", b"z")], timestamp_ms=99)
    producer.flush(10)
    source = _source(kafka_broker, topic, group, **{"header.origin": "X-Origin",
                                                    "timestampHeader": "kafka.ts"})
    with SourceDriver(source) as driver:
        driver.start()
        driver.run_until(lambda: len(driver.events) == 1, timeout=15)
        headers = driver.events[0].headers
    assert (headers["origin"], headers["kafka.ts"], headers["timestamp"]) == ("java", "99", "99")
    assert "other" not in headers and "X-Origin" not in headers


def test_source_commits_the_offsets_of_the_slices_the_channel_took_before_refusing_the_rest(
    kafka_broker: KafkaBroker,
) -> None:
    topic, group = unique("partial"), unique("group")
    kafka_broker.create_topic(topic, 1)
    producer = kafka_broker.producer()
    for i in range(5):
        producer.send(topic, f"m{i}".encode())
    producer.flush(10)
    # slices of 2 (transactionCapacity); the second one finds the channel full (capacity 3)
    channel = RecordingChannel("c1", RecordingChannel.Settings(capacity=3, transaction_capacity=2))
    driver = SourceDriver(_source(kafka_broker, topic, group, batchSize="5"), channel).start()
    try:
        driver.run_until(lambda: len(channel.committed) >= 2, timeout=15)
        committed = kafka_broker.committed_offsets(group)
    finally:
        driver.stop()
    assert [e.body for e in channel.committed] == [b"m0", b"m1"]
    assert committed == {0: 2}
