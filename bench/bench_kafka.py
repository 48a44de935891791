"""Kafka throughput: our sink, source and channel on each client library, next to that
library's raw client with the same settings, plus syslogtcp -> kafka channel -> file_roll.

Usage::

    python bench/bench_kafka.py [--count 200000] [--batch 1000] [--repeat 3]
                                [--clients confluent,kafka-python] [--no-e2e] [--durable]
                                [--legs sink,raw-producer,source,raw-consumer,channel,e2e]

Runs against a private tansu broker (``flume_testkit.servers.kafka``), 200-byte bodies,
one topic with one partition per leg. Every leg runs in a fresh Python process, so its
peak RSS is its own; rounds interleave the legs (ours, then the raw client, for each
library) and the tables give medians over ``--repeat`` rounds.

Legs (``client`` is ``kafka.client``, the raw peer is built from the options our client
layer gives that library, so the settings are the same):

* sink: generator -> memory -> kafka sink, each batch ``process()``-ed directly;
  raw producer: ``batch`` produce/send calls, then flush, delivery reports / futures
  checked, per batch. One record goes first, untimed: the idempotent producer's start
  (InitProducerId, ~0.5 s) is paid once per producer, not per batch.
* source: kafka source -> memory -> null sink; raw consumer: ``consume(batch)`` /
  ``poll(max_records=batch)``, every value touched, offsets committed synchronously per
  batch (what the source promises). The first batch (the group join, ~3 s on tansu) is
  not timed.
* channel: a Kafka channel's put transaction of ``batch`` events, then take transactions
  until they came back (put + take through the broker), after one untimed round trip.
* e2e: ``flume-ng agent`` with syslogtcp -> kafka channel -> file_roll, one TCP
  connection streaming 200-byte lines, timed from the first byte until the file holds
  every line (after one line went through, so the join is not timed); the agent's CPU and
  peak RSS (``/proc``).

Reported: events/s, CPU µs/event (the process's ``time.process_time``, every thread of it,
librdkafka's included; the broker's CPU is not), peak RSS, and ours / raw.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flume_testkit.servers.kafka import KafkaBroker

__all__ = ["Leg", "main"]

_BODY = 200
_HERE = Path(__file__).resolve().parent
_JOIN = {"kafka.consumer.session.timeout.ms": "6000"}


@dataclass(frozen=True)
class Leg:
    name: str
    events: int
    seconds: float
    cpu_seconds: float
    peak_rss_kib: int = 0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu_seconds * 1e6 / self.events if self.events else 0.0


class _Timer:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def leg(self, name: str, events: int) -> Leg:
        return Leg(name, events, time.perf_counter() - self.wall, time.process_time() - self.cpu)


def _bodies(start: int, stop: int) -> list[bytes]:
    pad = b"x" * (_BODY - 10)
    return [b"%010d" % i + pad for i in range(start, stop)]


def _memory(batch: int) -> Any:
    from flume_sdk.components.memory_channel import MemoryChannel

    return MemoryChannel.from_config("c1", {"capacity": str(batch * 4),
                                            "transactionCapacity": str(batch)})


def _options(client: str, kind: str, servers: str, raw: dict[str, str]) -> dict[str, Any]:
    from flume_kafka import client_config

    return client_config(client, kind, raw, servers).options  # type: ignore[arg-type]


# -- sink and raw producer ------------------------------------------------------------------


def sink_leg(client: str, servers: str, topic: str, count: int, batch: int) -> Leg:
    from flume_kafka import KafkaSink

    from flume_sdk import Event

    channel = _memory(batch)
    sink = KafkaSink.from_config("k1", {"kafka.bootstrap.servers": servers, "kafka.client": client,
                                        "kafka.topic": topic, "flumeBatchSize": str(batch)})
    sink.set_channel(channel)
    channel.start()
    sink.start()
    with channel.transaction() as tx:  # the producer's start (idempotent: ~0.5 s) is not timed
        tx.put(Event(b"warm-up"))
    sink.process()
    timer = _Timer()
    for start in range(0, count, batch):
        events = [Event(body) for body in _bodies(start, min(start + batch, count))]
        with channel.transaction() as tx:
            tx.put_batch(events)
        sink.process()
    leg = timer.leg(f"sink [{client}]", count)
    sink.stop()
    channel.stop()
    return leg


def raw_producer_leg(client: str, servers: str, topic: str, count: int, batch: int) -> Leg:
    options = _options(client, "producer", servers, {})
    if client == "confluent":
        import confluent_kafka
        from flume_kafka._confluent import PLUGIN_KEYS

        conf = {k: v for k, v in options.items() if k not in PLUGIN_KEYS}
        producer = confluent_kafka.Producer({**conf, "delivery.report.only.error": True})
        producer.produce(topic, b"warm-up")
        producer.flush(60)
        failed: list[Any] = []

        def report(error: Any, _message: Any) -> None:
            if error is not None:
                failed.append(error)

        timer = _Timer()
        for start in range(0, count, batch):
            for body in _bodies(start, min(start + batch, count)):
                producer.produce(topic, body, on_delivery=report)
            if producer.flush(60) or failed:
                raise RuntimeError(f"raw producer: {failed[:1]}")
        return timer.leg("raw confluent_kafka.Producer", count)
    from kafka import KafkaProducer

    kp = KafkaProducer(**options)
    kp.send(topic, b"warm-up").get(60)
    timer = _Timer()
    for start in range(0, count, batch):
        futures = [kp.send(topic, body) for body in _bodies(start, min(start + batch, count))]
        kp.flush(60)
        for future in futures:
            future.get(0)
    leg = timer.leg("raw kafka.KafkaProducer", count)
    kp.close()
    return leg


# -- source and raw consumer ----------------------------------------------------------------


def source_leg(client: str, servers: str, topic: str, count: int, batch: int) -> Leg:
    from flume_kafka import KafkaSource

    from flume_sdk import ChannelProcessor
    from flume_sdk.components.null_sink import NullSink
    from flume_sdk.components.selectors import ReplicatingSelector

    channel = _memory(batch)
    source = KafkaSource.from_config("r1", {
        "kafka.bootstrap.servers": servers, "kafka.client": client, "kafka.topics": topic,
        "kafka.consumer.group.id": f"ours-{topic}", "batchSize": str(batch),
        "batchDurationMillis": "100", **_JOIN})
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    sink = NullSink.from_config("n1", {"batchSize": str(batch)})
    sink.set_channel(channel)
    channel.start()
    source.start()
    sink.start()

    def step() -> int:
        source.process()
        got = channel.size
        while channel.size:
            sink.process()
        return int(got)

    done = 0
    while done == 0:  # the first batch pays the group join; it is not timed
        done = step()
    timer, timed = _Timer(), 0
    while done + timed < count:
        timed += step()
    leg = timer.leg(f"source [{client}]", timed)
    source.stop()
    sink.stop()
    channel.stop()
    return leg


def raw_consumer_leg(client: str, servers: str, topic: str, count: int, batch: int) -> Leg:
    raw = {"group.id": f"raw-{topic}", "session.timeout.ms": "6000"}
    options = _options(client, "consumer", servers, raw)
    if client == "confluent":
        import confluent_kafka

        consumer = confluent_kafka.Consumer(options)
        consumer.subscribe([topic])

        def step() -> int:
            messages = consumer.consume(batch, 1.0)
            last: dict[tuple[str, int], int] = {}
            for m in messages:
                if m.error() is None:
                    m.value()
                    last[(m.topic(), m.partition())] = m.offset()
            if last:
                consumer.commit(offsets=[confluent_kafka.TopicPartition(t, p, o + 1)
                                         for (t, p), o in last.items()], asynchronous=False)
            return len(last) and len(messages)

        name = "raw confluent_kafka.Consumer"
    else:
        from kafka import KafkaConsumer, TopicPartition
        from kafka.structs import OffsetAndMetadata

        consumer = KafkaConsumer(topic, **options)

        def step() -> int:
            polled = consumer.poll(timeout_ms=1000, max_records=batch)
            n = 0
            for tp, records in polled.items():
                for r in records:
                    r.value  # noqa: B018 - touched, as the source does
                n += len(records)
                consumer.commit({TopicPartition(tp.topic, tp.partition):
                                 OffsetAndMetadata(records[-1].offset + 1, "", -1)})
            return n

        name = "raw kafka.KafkaConsumer"
    done = 0
    while done == 0:
        done = step()
    timer, timed = _Timer(), 0
    while done + timed < count:
        timed += step()
    leg = timer.leg(name, timed)
    consumer.close()
    return leg


# -- channel --------------------------------------------------------------------------------


def channel_leg(client: str, servers: str, topic: str, count: int, batch: int) -> Leg:
    from flume_kafka import KafkaChannel

    from flume_sdk import Event

    channel = KafkaChannel.from_config("c1", {
        "kafka.bootstrap.servers": servers, "kafka.client": client, "kafka.topic": topic,
        "kafka.consumer.group.id": f"chan-{topic}", "parseAsFlumeEvent": "false", **_JOIN})
    channel.start()

    def round_trip(start: int, stop: int) -> None:
        with channel.transaction() as tx:
            tx.put_batch([Event(body) for body in _bodies(start, stop)])
        left = stop - start
        while left:
            with channel.transaction() as tx:
                left -= len(tx.take_batch(left))

    round_trip(0, 1)  # the group join is not timed
    timer = _Timer()
    for start in range(1, count + 1, batch):
        round_trip(start, min(start + batch, count + 1))
    leg = timer.leg(f"kafka channel put+take [{client}]", count)
    channel.stop()
    return leg


# -- end to end -----------------------------------------------------------------------------


def e2e_leg(client: str, servers: str, topic: str, count: int, batch: int) -> Leg:
    """syslogtcp -> kafka channel -> file_roll in a real agent; this process only feeds it."""
    sys.path.insert(0, str(_HERE))
    from bench_syslog import _SENDER, LineCounter, _accepts, cpu_seconds, make_lines, peak_rss_mib
    from flume_testkit.servers._process import free_port, wait_until

    with tempfile.TemporaryDirectory(prefix="bench-kafka-e2e-") as tmp:
        work, port = Path(tmp), free_port()
        (work / "out").mkdir()
        make_lines(work / "warm.txt", 1, "3164")
        make_lines(work / "lines.txt", count, "3164")
        conf = work / "agent.properties"
        conf.write_text("\n".join([
            "a.sources = r1", "a.channels = c1", "a.sinks = k1",
            "a.sources.r1.type = syslogtcp", "a.sources.r1.host = 127.0.0.1",
            f"a.sources.r1.port = {port}", f"a.sources.r1.batchSize = {batch}",
            "a.sources.r1.channels = c1",
            "a.channels.c1.type = kafka", f"a.channels.c1.kafka.bootstrap.servers = {servers}",
            f"a.channels.c1.kafka.client = {client}", f"a.channels.c1.kafka.topic = {topic}",
            "a.channels.c1.kafka.consumer.session.timeout.ms = 6000",
            "a.sinks.k1.type = file_roll", "a.sinks.k1.channel = c1",
            f"a.sinks.k1.sink.directory = {work / 'out'}", "a.sinks.k1.sink.rollInterval = 0",
            f"a.sinks.k1.sink.batchSize = {batch}",
        ]) + "\n")
        with (work / "agent.log").open("wb") as log:
            agent = subprocess.Popen([sys.executable, "-m", "flume_sdk.cli", "agent", "-n", "a",
                                      "-f", str(conf), "--no-reload-conf"],
                                     stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: _accepts(port, agent), timeout=60, interval=0.05, what="agent")
            counter = LineCounter(work / "out")

            def send(path: Path) -> subprocess.Popen[bytes]:
                return subprocess.Popen([sys.executable, "-c", _SENDER, str(path), str(port)])

            send(work / "warm.txt").wait(30)
            wait_until(lambda: counter.count() >= 1, timeout=60, interval=0.05, what="warm-up")
            cpu0, t0 = cpu_seconds(agent.pid), time.perf_counter()
            sender = send(work / "lines.txt")
            wait_until(lambda: counter.count() >= count + 1, timeout=600, interval=0.01,
                       what=f"{count} lines through the kafka channel")
            leg = Leg(f"syslogtcp -> kafka channel -> file_roll [{client}]", count,
                      time.perf_counter() - t0, cpu_seconds(agent.pid) - cpu0,
                      int(peak_rss_mib(agent.pid) * 1024))
            sender.wait(60)
        finally:
            agent.terminate()
            try:
                agent.wait(30)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait(10)
    return leg


_LEGS: dict[str, Callable[[str, str, str, int, int], Leg]] = {
    "sink": sink_leg, "raw-producer": raw_producer_leg, "source": source_leg,
    "raw-consumer": raw_consumer_leg, "channel": channel_leg, "e2e": e2e_leg,
}


def _child(args: argparse.Namespace) -> None:
    from flume_sdk._gc_tuning import tune_garbage_collector

    tune_garbage_collector()  # as flume-ng agent does (the raw clients' legs get it too)
    leg = _LEGS[args.child](args.client, args.servers, args.topic, args.count, args.batch)
    if not leg.peak_rss_kib:
        leg = Leg(**{**asdict(leg), "peak_rss_kib":
                     resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
    print(json.dumps(asdict(leg)), flush=True)


def _run(leg: str, client: str, broker: KafkaBroker, topic: str, args: argparse.Namespace) -> Leg:
    out = subprocess.run(
        [sys.executable, __file__, "--child", leg, "--client", client, "--servers",
         broker.bootstrap_servers, "--topic", topic, "--count", str(args.count),
         "--batch", str(args.batch)], check=False, capture_output=True, text=True, timeout=900)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        raise RuntimeError(f"leg {leg} [{client}] failed:\n{out.stderr[-3000:]}")
    return Leg(**json.loads(lines[-1]))


def _print(rows: list[tuple[str, list[Leg]]], peers: dict[str, str]) -> None:
    print("\n| leg | events/s | CPU µs/event | peak RSS MiB | ours / raw (per round) |")
    print("|---|---:|---:|---:|---|")
    medians = {name: statistics.median(leg.rate for leg in legs) for name, legs in rows}
    by_name = dict(rows)
    for name, legs in rows:
        ratio = ""
        peer = peers.get(name)
        if peer in by_name:
            per_round = [o.rate / r.rate for o, r in zip(legs, by_name[peer], strict=True)]
            ratio = (f"{medians[name] / medians[peer]:.2f} "
                     f"({min(per_round):.2f}..{max(per_round):.2f})")
        print(f"| {name} | {medians[name]:,.0f} | "
              f"{statistics.median(leg.cpu_us for leg in legs):.2f} | "
              f"{statistics.median(leg.peak_rss_kib for leg in legs) / 1024:.0f} | {ratio} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", default="confluent,kafka-python")
    parser.add_argument("--no-e2e", action="store_true", help="skip the agent leg")
    parser.add_argument("--legs", default="sink,raw-producer,source,raw-consumer,channel,e2e",
                        help="which legs to run (comma-separated, in this order)")
    parser.add_argument("--durable", action="store_true", help="s3:// storage over localbucket")
    parser.add_argument("--child", choices=list(_LEGS), help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--servers", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    wanted = {leg.strip() for leg in args.legs.split(",")} - ({"e2e"} if args.no_e2e else set())
    # consumers read what the other side's producer wrote in this round: a producer leg not
    # asked for still runs first, to fill its topic, and is not reported
    source_of = {"source": "raw-producer", "raw-consumer": "sink"}
    legs = [leg for leg in _LEGS if leg in wanted or leg in
            {source_of.get(name) for name in wanted}]
    results: dict[str, list[Leg]] = {}
    print(f"{args.count:,} events of {_BODY} bytes, batch {args.batch}, {os.cpu_count()} CPUs, "
          f"{args.repeat} interleaved round(s); tansu {'s3://' if args.durable else 'memory://'}")
    with KafkaBroker(durable=args.durable) as broker:
        for round_ in range(args.repeat):
            for client in clients:
                for leg_name in legs:
                    topic = f"bench-{round_}-{client}-{source_of.get(leg_name, leg_name)}"
                    if leg_name not in source_of:
                        broker.create_topic(topic, 1)
                    leg = _run(leg_name, client, broker, topic, args)
                    if leg_name not in wanted:
                        continue
                    results.setdefault(leg.name, []).append(leg)
                    print(f"round {round_ + 1}: {leg.name:<48} {leg.rate:>10,.0f} ev/s "
                          f"{leg.cpu_us:6.2f} µs/ev {leg.peak_rss_kib / 1024:5.0f} MiB",
                          flush=True)
    peers = {f"sink [{c}]": "raw confluent_kafka.Producer" if c == "confluent"
             else "raw kafka.KafkaProducer" for c in clients}
    peers |= {f"source [{c}]": "raw confluent_kafka.Consumer" if c == "confluent"
              else "raw kafka.KafkaConsumer" for c in clients}
    _print(list(results.items()), peers)


if __name__ == "__main__":
    main()
