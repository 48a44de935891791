"""Two Kafka sources in one consumer group on a 4-partition topic while records keep coming:
the second member joins mid-stream, then the first leaves mid-stream. Nothing is lost and
duplicates stay within one batch per rebalance."""

from __future__ import annotations

import threading

from flume_kafka import KafkaSource
from flume_testkit import RecordingChannel
from flume_testkit.drivers import SourceDriver
from flume_testkit.servers.kafka import KafkaBroker

from ._rebalance import assert_lossless, join_then_leave
from .conftest import FAST_CONSUMER, unique

_PARTITIONS = 4
_BATCH = 100


class _Feeder:
    """Produces numbered records round-robin over the partitions, ~1000/s, until stopped."""

    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self._producer = broker.producer(linger_ms=5)
        self._topic = topic
        self._stop = threading.Event()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="feeder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> int:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(30)
            self._producer.flush(10)
            self._producer.close()
        return self.sent

    def _run(self) -> None:
        while not self._stop.wait(0.05):  # pacing, so the members rebalance mid-stream
            for _ in range(50):
                self._producer.send(self._topic, str(self.sent).encode(),
                                    partition=self.sent % _PARTITIONS)
                self.sent += 1


class _Member:
    """One Kafka source in the group, stepped by a driver in its own thread."""

    def __init__(self, name: str, broker: KafkaBroker, topic: str, group: str) -> None:
        self.name = name
        source = KafkaSource.from_config(name, {
            "kafka.bootstrap.servers": broker.bootstrap_servers, "kafka.topics": topic,
            "kafka.consumer.group.id": group, "batchSize": str(_BATCH),
            "batchDurationMillis": "300", **FAST_CONSUMER})
        self.channel = RecordingChannel(f"{name}-c", RecordingChannel.Settings(capacity=100_000))
        self._driver = SourceDriver(source, self.channel, record_logs=False)
        self._stop = threading.Event()
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"member-{name}", daemon=True)

    def received(self) -> int:
        return len(self.channel.committed)

    def bodies(self) -> list[str]:
        return [e.body.decode() for e in list(self.channel.committed)]

    def start(self) -> None:
        self._driver.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(60)
        self._driver.stop()

    def _run(self) -> None:
        try:
            self._driver.run_until(self._stop.is_set, timeout=240)
        except BaseException as exc:  # reported by the test
            self.failure = exc


def test_members_joining_and_leaving_mid_stream_lose_nothing(kafka_broker: KafkaBroker) -> None:
    topic, group = unique("rebalance"), unique("group")
    kafka_broker.create_topic(topic, _PARTITIONS)
    feeder = _Feeder(kafka_broker, topic)
    first = _Member("r1", kafka_broker, topic, group)
    second = _Member("r2", kafka_broker, topic, group)
    total, bodies = join_then_leave(feeder, first, second)
    assert first.failure is None and second.failure is None, (first.failure, second.failure)
    assert_lossless(bodies, total, partitions=_PARTITIONS,
                    duplicates_allowed=2 * _BATCH)  # one batch per rebalance
