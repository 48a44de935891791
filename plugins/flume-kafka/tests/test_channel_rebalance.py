"""Two Kafka channels in one consumer group on a 4-partition topic, each drained by two real
sink runners (which back off after an empty take, as in an agent), while a third Kafka channel
keeps putting: the second channel joins mid-stream, then the first leaves mid-stream.

Nothing is lost, duplicates stay within a few take batches per rebalance, and both rebalances
complete although the runners do not poll while they back off (kafka-python stops heartbeating
for a join until a poll collects its result). The sinks deliver slowly and fail every second
batch, so a take is often open, and then rolled back, while the other runner's take rebalances
the channel: its records of the partitions the channel keeps must be read again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from flume_kafka import KafkaChannel
from flume_testkit.fakes import RecordingSink
from flume_testkit.servers.kafka import KafkaBroker

from flume_sdk import SYSTEM_CLOCK, Event, EventDeliveryException, SinkRunner
from flume_sdk.components.sink_processors import DefaultSinkProcessor

from ._rebalance import assert_lossless, join_then_leave
from .conftest import FAST_CONSUMER, FAST_PRODUCER, unique

_PARTITIONS = 4
_BATCH = 100
_SINKS = 2


def _channel(name: str, broker: KafkaBroker, topic: str, group: str) -> KafkaChannel:
    return KafkaChannel.from_config(name, {
        "kafka.bootstrap.servers": broker.bootstrap_servers, "kafka.topic": topic,
        "kafka.consumer.group.id": group, "pollTimeout": "200", "partitionIdHeader": "p",
        **FAST_CONSUMER, **FAST_PRODUCER})


class _Putter:
    """Puts numbered events through a put-only Kafka channel, ~1000/s round-robin over the
    partitions, until stopped; counts only the events of committed puts."""

    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self.channel = _channel("put", broker, topic, unique("unused"))
        self._stop = threading.Event()
        self.sent = 0
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="putter", daemon=True)

    def start(self) -> None:
        self.channel.start()
        self._thread.start()

    def stop(self) -> int:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(60)
        self.channel.stop()
        return self.sent

    def _run(self) -> None:
        try:
            while not self._stop.wait(0.05):  # pacing, so the takers rebalance mid-stream
                numbers = range(self.sent, self.sent + 50)
                with self.channel.transaction() as tx:
                    tx.put_batch([Event(str(i).encode(), {"p": str(i % _PARTITIONS)})
                                  for i in numbers])
                self.sent += len(numbers)
        except BaseException as exc:  # reported by the test
            self.failure = exc


class _FlakySink(RecordingSink):
    """Takes 20 ms to deliver a batch (a slow destination) and fails every second one."""

    def __init__(self, name: str) -> None:
        super().__init__(name, RecordingSink.Settings(batch_size=_BATCH))
        self._attempts = 0
        self._working = threading.Event()  # never set: the wait is the delivery's duration

    def deliver(self, events: Sequence[Event]) -> None:
        self._working.wait(0.02)
        self._attempts += 1
        if self._attempts % 2 == 0:
            msg = f"sink {self.name!r}: scripted failure of attempt {self._attempts}"
            raise EventDeliveryException(msg)
        super().deliver(events)


class _Taker:
    """One Kafka channel in the group, drained by two sink runners."""

    def __init__(self, name: str, broker: KafkaBroker, topic: str, group: str) -> None:
        self.name = name
        self.channel = _channel(name, broker, topic, group)
        self.sinks = [_FlakySink(f"{name}-k{i}") for i in range(_SINKS)]
        self._runners = []
        for sink in self.sinks:
            sink.set_channel(self.channel)
            self._runners.append(SinkRunner(sink.name, DefaultSinkProcessor([sink]), SYSTEM_CLOCK,
                                            error_backoff=0.05))
        self._running = False

    def received(self) -> int:
        return sum(len(sink.delivered) for sink in self.sinks)

    def bodies(self) -> list[str]:
        return [e.body.decode() for sink in self.sinks for e in list(sink.delivered)]

    def start(self) -> None:
        self.channel.start()
        for runner in self._runners:
            runner.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._running = False
            for runner in self._runners:
                runner.stop()
            self.channel.stop()


def test_takers_joining_and_leaving_mid_stream_lose_nothing(kafka_broker: KafkaBroker) -> None:
    topic, group = unique("chan-rebalance"), unique("group")
    kafka_broker.create_topic(topic, _PARTITIONS)
    putter = _Putter(kafka_broker, topic)
    first = _Taker("c1", kafka_broker, topic, group)
    second = _Taker("c2", kafka_broker, topic, group)
    total, bodies = join_then_leave(putter, first, second)
    assert putter.failure is None, putter.failure
    # per rebalance a member re-reads what its runners delivered above the lowest offset still
    # open or rolled back: the take open in the other runner, and what was committed past a
    # rolled-back take (a take fails at most twice in a row here)
    assert_lossless(bodies, total, partitions=_PARTITIONS,
                    duplicates_allowed=2 * (_SINKS + 1) * _BATCH)
