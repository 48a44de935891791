"""Kafka throughput: generator -> memory -> kafka sink, then kafka source -> memory -> null.

Usage::

    python bench/bench_kafka.py [--count 200000] [--batch 1000] [--durable]

Runs in process against a private tansu broker (``flume_testkit.servers.kafka``),
200-byte bodies, one topic with one partition. Each leg is stepped directly
(no runner threads): the producer leg puts ``batch`` events into a memory
channel and calls ``KafkaSink.process()``; the consumer leg calls
``KafkaSource.process()`` and drains the memory channel into a ``null`` sink.
Reported per leg: events/s and this process's CPU µs/event (``time.process_time``,
all threads; the broker's CPU is not included). The consumer leg's time excludes
the first group join (~3 s on tansu with 6 s sessions).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from flume_kafka import KafkaSink, KafkaSource
from flume_testkit.servers.kafka import KafkaBroker

from flume_sdk import ChannelProcessor, ChannelSelector, Event
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.null_sink import NullSink

__all__ = ["Leg", "main"]

_BODY = 200


@dataclass(frozen=True)
class Leg:
    name: str
    events: int
    seconds: float
    cpu_seconds: float

    def line(self) -> str:
        rate = self.events / self.seconds if self.seconds else 0.0
        cpu = self.cpu_seconds * 1e6 / self.events if self.events else 0.0
        return f"{self.name:<32} {self.events:>9} events {rate:>11,.0f} events/s {cpu:>8.1f} CPU us/event"


def _memory(batch: int) -> MemoryChannel:
    return MemoryChannel.from_config("c1", {"capacity": str(batch * 4),
                                            "transactionCapacity": str(batch)})


def produce_leg(broker: KafkaBroker, topic: str, count: int, batch: int) -> Leg:
    channel = _memory(batch)
    sink = KafkaSink.from_config("k1", {"kafka.bootstrap.servers": broker.bootstrap_servers,
                                        "kafka.topic": topic, "flumeBatchSize": str(batch),
                                        "kafka.producer.linger.ms": "5",
                                        "kafka.producer.batch.size": "262144"})
    sink.set_channel(channel)
    channel.start()
    sink.start()
    pad = b"x" * _BODY
    began, cpu = time.perf_counter(), time.process_time()
    for start in range(0, count, batch):
        events = [Event(b"%010d" % i + pad[10:]) for i in range(start, min(start + batch, count))]
        with channel.transaction() as tx:
            tx.put_batch(events)
        sink.process()
    leg = Leg("generator -> memory -> kafka", count, time.perf_counter() - began,
              time.process_time() - cpu)
    sink.stop()
    channel.stop()
    return leg


def consume_leg(broker: KafkaBroker, topic: str, count: int, batch: int) -> Leg:
    channel = _memory(batch)
    source = KafkaSource.from_config("r1", {
        "kafka.bootstrap.servers": broker.bootstrap_servers, "kafka.topics": topic,
        "kafka.consumer.group.id": "bench", "batchSize": str(batch),
        "batchDurationMillis": "100", "kafka.consumer.session.timeout.ms": "6000",
        "kafka.consumer.max.partition.fetch.bytes": "4194304"})
    source.set_channel_processor(ChannelProcessor(ChannelSelector([channel])))
    sink = NullSink.from_config("n1", {"batchSize": str(batch)})
    sink.set_channel(channel)
    channel.start()
    source.start()
    sink.start()
    done = 0
    while done == 0:  # the first batch pays the group join; it is not timed
        source.process()
        done = channel.size
        while channel.size:
            sink.process()
    began, cpu = time.perf_counter(), time.process_time()
    timed = 0
    while done + timed < count:
        source.process()
        timed += channel.size
        while channel.size:
            sink.process()
    leg = Leg("kafka -> memory -> null", timed, time.perf_counter() - began,
              time.process_time() - cpu)
    source.stop()
    sink.stop()
    channel.stop()
    return leg


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--durable", action="store_true", help="s3:// storage over localbucket")
    args = parser.parse_args(argv)
    with KafkaBroker(durable=args.durable) as broker:
        broker.create_topic("bench", 1)
        print(produce_leg(broker, "bench", args.count, args.batch).line())
        print(consume_leg(broker, "bench", args.count, args.batch).line())


if __name__ == "__main__":
    main()
