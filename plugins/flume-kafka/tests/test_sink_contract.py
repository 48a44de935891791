"""The Kafka sink keeps the sink contract against a real broker (tansu)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from flume_kafka import KafkaSink
from flume_testkit import SinkContract
from flume_testkit.servers.kafka import KafkaBroker
from kafka.errors import TopicAlreadyExistsError

from flume_sdk import Event, Sink

from .conftest import FAST_PRODUCER, LARGE_RECORDS, read_topic, unique

__all__ = ["TestKafkaSinkContract"]


class TestKafkaSinkContract(SinkContract):
    batch_size_key = "flumeBatchSize"

    @pytest.fixture
    def make_sink(self, kafka_broker: KafkaBroker) -> Callable[..., Sink]:
        topic = unique("sink")
        kafka_broker.create_topic(topic, partitions=1)

        def make(**overrides: str) -> Sink:
            props = {"kafka.bootstrap.servers": kafka_broker.bootstrap_servers,
                     "kafka.topic": topic, **FAST_PRODUCER, **overrides,
                     "kafka.producer.max.request.size": LARGE_RECORDS[
                         "kafka.producer.max.request.size"]}
            return KafkaSink.from_config("k1", props)

        return make

    @pytest.fixture
    def delivered(self, kafka_broker: KafkaBroker) -> Callable[[Sink], list[Event]]:
        return lambda sink: read_topic(kafka_broker, sink.settings.topic, idle=0.3)

    @pytest.fixture
    def break_destination(self, kafka_broker: KafkaBroker) -> Callable[[Sink], None]:
        return lambda sink: kafka_broker.stop()

    @pytest.fixture
    def heal_destination(self, kafka_broker: KafkaBroker) -> Callable[[Sink], None]:
        def heal(sink: Sink) -> None:
            kafka_broker.start()  # in-memory: the topic comes back empty, auto-created on produce
            with contextlib.suppress(TopicAlreadyExistsError):  # a retrying producer was first
                kafka_broker.create_topic(sink.settings.topic, partitions=1)
        return heal
