"""Flume's pre-1.7 Kafka keys: read as today's keys with one warning each, or rejected."""

from __future__ import annotations

import pytest
from flume_kafka import KafkaChannel, KafkaSink, KafkaSource

from flume_sdk import Component, ConfigurationError, Location

_SERVERS = {"kafka.bootstrap.servers": "127.0.0.1:9"}


def _warnings(component: Component) -> list[str]:
    return [str(p) for p in component.config_warnings if p.severity == "warning"]


def test_old_sink_keys_map_to_new_keys_with_one_warning_each() -> None:
    sink = KafkaSink.from_config("k1", {"brokerList": "h:1", "topic": "t", "batchSize": "7",
                                        "requiredAcks": "1"}, component="a1.sinks.k1")
    settings = sink.settings
    assert (settings.bootstrap_servers, settings.topic, settings.batch_size,
            settings.producer) == ("h:1", "t", 7, {"acks": "1"})
    assert sorted(_warnings(sink)) == [
        "a1.sinks.k1.batchSize: deprecated key read as flumeBatchSize; rename it",
        "a1.sinks.k1.brokerList: deprecated key read as kafka.bootstrap.servers; rename it",
        "a1.sinks.k1.requiredAcks: deprecated key read as kafka.producer.acks; rename it",
        "a1.sinks.k1.topic: deprecated key read as kafka.topic; rename it",
    ]


def test_old_source_keys_map_to_new_keys() -> None:
    source = KafkaSource.from_config("r1", {**_SERVERS, "topic": "a,b", "groupId": "g"})
    assert (source.settings.topics, source.group_id) == (("a", "b"), "g")
    assert len(_warnings(source)) == 2


def test_old_channel_keys_map_to_new_keys_read_smallest_offset_to_offset_reset() -> None:
    channel = KafkaChannel.from_config("c1", {"brokerList": "h:1", "topic": "t", "groupId": "g",
                                              "readSmallestOffset": "false"})
    settings = channel.settings
    assert (settings.bootstrap_servers, settings.topic, settings.consumer) == (
        "h:1", "t", {"group.id": "g", "auto.offset.reset": "latest"})


def test_new_key_wins_over_its_deprecated_spelling() -> None:
    sink = KafkaSink.from_config("k1", {**_SERVERS, "kafka.topic": "new", "topic": "old"})
    assert sink.settings.topic == "new"
    assert _warnings(sink) == [
        "k1.topic: deprecated key ignored because kafka.topic is set too; remove it"]


def test_zookeeper_connect_is_rejected_with_the_fix_and_the_file_line() -> None:
    where = Location("flume.conf", 12)
    with pytest.raises(ConfigurationError) as caught:
        KafkaSource.from_config("r1", {**_SERVERS, "kafka.topics": "t",
                                       "zookeeperConnect": "zk:2181"},
                                component="a1.sources.r1", locations={"zookeeperConnect": where})
    [problem] = caught.value.problems
    assert (problem.component, problem.key, problem.location) == (
        "a1.sources.r1", "zookeeperConnect", where)
    assert "set kafka.bootstrap.servers" in str(problem)


def test_rejected_key_is_reported_together_with_other_problems() -> None:
    with pytest.raises(ConfigurationError) as caught:
        KafkaChannel.from_config("c1", {"zookeeperConnect": "zk:2181"})
    assert {p.key for p in caught.value.problems} == {"zookeeperConnect",
                                                      "kafka.bootstrap.servers"}


def test_bad_value_of_a_deprecated_key_names_the_old_key() -> None:
    with pytest.raises(ConfigurationError, match=r"c1\.readSmallestOffset: must be true or false"):
        KafkaChannel.from_config("c1", {**_SERVERS, "readSmallestOffset": "maybe"})


def test_migrate_zookeeper_offsets_is_accepted_with_a_warning() -> None:
    source = KafkaSource.from_config("r1", {**_SERVERS, "kafka.topics": "t",
                                   "migrateZookeeperOffsets": "true"})
    [warning] = _warnings(source)
    assert "migrateZookeeperOffsets: deprecated key has no effect" in warning
