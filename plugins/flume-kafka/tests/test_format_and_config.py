"""Broker-free behaviour: the Avro event format, pass-through options, topic escapes."""

from __future__ import annotations

import io

import fastavro
import pytest
from flume_kafka import (
    AVRO_FLUME_EVENT_SCHEMA,
    CLIENTS,
    KafkaSink,
    KafkaSource,
    client_config,
    decode_avro_event,
    encode_avro_event,
)

from flume_sdk import ConfigurationError, Event, escape_string

_SERVERS = {"kafka.bootstrap.servers": "127.0.0.1:9"}


def test_avro_event_is_plain_schemaless_avroflumeevent() -> None:
    event = Event(b"\x00body\xff", {"h": "v\u00e9", "empty": ""})
    record = fastavro.schemaless_reader(io.BytesIO(encode_avro_event(event)),
                                        fastavro.parse_schema(AVRO_FLUME_EVENT_SCHEMA), None)
    assert record == {"headers": {"h": "v\u00e9", "empty": ""}, "body": b"\x00body\xff"}


def test_avro_event_round_trips() -> None:
    event = Event(b"x" * 1000, {"a": "1"})
    assert decode_avro_event(encode_avro_event(event)) == event


def test_undecodable_avro_value_names_the_fix() -> None:
    with pytest.raises(ValueError, match="useFlumeEventFormat"):
        decode_avro_event(b"\x07")


def _producer(client: str, **raw: str) -> dict[str, object]:
    return client_config(client, "producer", raw, "127.0.0.1:9").options


def test_java_spelled_options_become_typed_kafka_python_options() -> None:
    options = _producer("kafka-python", **{"linger.ms": "5", "acks": "1",
                                           "compression.type": "gzip"})
    assert (options["linger_ms"], options["acks"], options["compression_type"]) == (5, 1, "gzip")


def test_java_names_librdkafka_spells_differently_are_renamed() -> None:
    options = _producer("confluent", **{"max.request.size": "4194304", "linger.ms": "5",
                                        "buffer.memory": "33554432"})
    assert (options["message.max.bytes"], options["linger.ms"],
            options["queue.buffering.max.kbytes"]) == ("4194304", "5", "32768")
    assert "max.request.size" not in options


@pytest.mark.parametrize(("client", "key"), [("kafka-python", "enable_idempotence"),
                                             ("confluent", "enable.idempotence")])
def test_acks_below_all_turns_idempotence_off(client: str, key: str) -> None:
    assert str(_producer(client, acks="1")[key]).lower() == "false"


@pytest.mark.parametrize(("client", "key"), [("kafka-python", "heartbeat_interval_ms"),
                                             ("confluent", "heartbeat.interval.ms")])
def test_consumer_heartbeat_follows_a_short_session(client: str, key: str) -> None:
    options = client_config(client, "consumer", {"session.timeout.ms": "6000", "group.id": "g"},
                            "127.0.0.1:9").options
    assert int(options[key]) == 2000


@pytest.mark.parametrize("client", CLIENTS)
def test_unknown_pass_through_key_is_a_configuration_error_with_a_suggestion(client: str) -> None:
    with pytest.raises(ConfigurationError, match=r"did you mean kafka\.producer\.linger\.ms"):
        KafkaSink.from_config("k1", {**_SERVERS, "kafka.client": client,
                                     "kafka.producer.linger.mss": "5"})


def test_a_value_librdkafka_refuses_is_a_configuration_error_naming_the_key() -> None:
    with pytest.raises(ConfigurationError, match=r"k1\.kafka\.consumer\.fetch\.min\.bytes: "
                                                  r"librdkafka refused it"):
        KafkaSource.from_config("k1", {**_SERVERS, "kafka.client": "confluent",
                                       "kafka.topics": "t", "kafka.consumer.fetch.min.bytes": "x"})


def test_unknown_client_library_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"kafka\.client"):
        KafkaSink.from_config("k1", {**_SERVERS, "kafka.client": "java"})


def test_confluent_is_the_default_client_where_it_is_installed() -> None:
    assert KafkaSink.from_config("k1", _SERVERS).settings.client == "confluent"


def test_source_without_topics_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"kafka\.topics"):
        KafkaSource.from_config("r1", _SERVERS)


def test_sink_accepts_kafka_flume_batch_size_as_an_alias() -> None:
    sink = KafkaSink.from_config("k1", {**_SERVERS, "kafka.flumeBatchSize": "7"})
    assert sink.batch_size == 7


def test_header_escape_substitutes_and_blanks_missing_headers() -> None:
    assert escape_string("logs-%{app}-%{none}", {"app": "web"}) == "logs-web-"


def test_java_assignor_classes_map_to_librdkafka_and_cooperative_is_refused() -> None:
    options = client_config("confluent", "consumer", {
        "group.id": "g", "partition.assignment.strategy":
            "org.apache.kafka.clients.consumer.RoundRobinAssignor"}, "127.0.0.1:9").options
    assert options["partition.assignment.strategy"] == "roundrobin"
    with pytest.raises(ConfigurationError, match="eager rebalancing"):
        KafkaSource.from_config("r1", {**_SERVERS, "kafka.client": "confluent", "kafka.topics": "t",
                                       "kafka.consumer.partition.assignment.strategy":
                                           "cooperative-sticky"})
