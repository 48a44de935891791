"""The Kafka channel keeps the channel contract against a real broker (tansu)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flume_kafka import KafkaChannel
from flume_testkit import ChannelContract
from flume_testkit.servers.kafka import KafkaBroker

from flume_sdk import Channel

from .conftest import FAST_CONSUMER, FAST_PRODUCER, LARGE_RECORDS, unique

__all__ = ["TestKafkaChannelContract"]

_NO_CAPACITY = "the Kafka channel has no capacity limit (as in Flume): the topic is the buffer"
_BACKLOG = ("size counts the records fetched and not yet taken, not the topic's backlog (that "
            "needs a broker round trip per call); the events are durable in Kafka, so the "
            "agent's reload and stop, which read size only for non-durable channels, lose nothing")


class TestKafkaChannelContract(ChannelContract):
    skip_contract = {
        "test_commit_beyond_capacity_raises_channel_full_exception": _NO_CAPACITY,
        "test_capacity_is_freed_after_a_take_commits": _NO_CAPACITY,
        "test_capacity_is_freed_after_a_put_rolls_back": _NO_CAPACITY,
        "test_capacity_is_freed_after_a_take_rolls_back_and_is_retaken": _NO_CAPACITY,
        "test_refused_put_leaves_nothing_of_its_batch_behind": _NO_CAPACITY,
        "test_size_counts_committed_untaken_events": _BACKLOG,
    }
    events_per_putter = 100
    # a take may keep polling through a group join for up to the session timeout + 5 s
    # (11 s with FAST_CONSUMER), longer than the driver's default 10 s
    call_timeout = 30.0

    @pytest.fixture
    def make_channel(self, kafka_broker: KafkaBroker) -> Callable[..., Channel]:
        topic = unique("channel")
        kafka_broker.create_topic(topic, partitions=1)  # Kafka is FIFO per partition only
        group = unique("group")

        def make(**overrides: str) -> Channel:
            overrides.pop("capacity", None)
            props = {"kafka.bootstrap.servers": kafka_broker.bootstrap_servers,
                     "kafka.topic": topic, "kafka.consumer.group.id": group,
                     "pollTimeout": "200", **FAST_CONSUMER, **FAST_PRODUCER, **LARGE_RECORDS,
                     **overrides}
            return KafkaChannel.from_config("c1", props)

        return make
