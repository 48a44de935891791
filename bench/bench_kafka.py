"""Kafka throughput: generator -> memory -> kafka sink, then kafka source -> memory -> null.

Usage::

    python bench/bench_kafka.py [--count 200000] [--batch 1000] [--repeat 3] [--durable]
                                [--baseline GITREF [--baseline-hides MODULE ...]]

Runs against a private tansu broker (``flume_testkit.servers.kafka``), 200-byte
bodies, one topic with one partition per run. Each leg is stepped directly (no
runner threads): the producer leg puts ``batch`` events into a memory channel
and calls ``KafkaSink.process()``; the consumer leg calls
``KafkaSource.process()`` and drains the memory channel into a ``null`` sink.
Reported per leg: events/s and the process's CPU µs/event (``time.process_time``,
all threads; the broker's CPU is not included), peak RSS of the process; the
consumer leg's time excludes the first group join (~3 s on tansu).

Every run is a fresh Python process, so ``--baseline GITREF`` can run the
flume_kafka package of another commit (exported with ``git archive`` and put
first on ``PYTHONPATH``) side by side with the working tree's, alternating
runs; the table gives medians over ``--repeat`` runs and the ratio.
``--baseline-hides crc32c`` makes that module unimportable for the baseline
runs only (a commit from before the plugin depended on it).
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

from flume_testkit.servers.kafka import KafkaBroker

__all__ = ["Leg", "main"]

_BODY = 200
_REPO = Path(__file__).resolve().parent.parent
_PLUGIN = "plugins/flume-kafka/flume_kafka"


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


def _memory(batch: int) -> object:
    from flume_sdk.components.memory_channel import MemoryChannel

    return MemoryChannel.from_config("c1", {"capacity": str(batch * 4),
                                            "transactionCapacity": str(batch)})


def produce_leg(servers: str, topic: str, count: int, batch: int) -> Leg:
    from flume_kafka import KafkaSink

    from flume_sdk import Event

    channel = _memory(batch)
    sink = KafkaSink.from_config("k1", {"kafka.bootstrap.servers": servers,
                                        "kafka.topic": topic, "flumeBatchSize": str(batch)})
    sink.set_channel(channel)
    channel.start()  # type: ignore[attr-defined]
    sink.start()
    pad = b"x" * _BODY
    began, cpu = time.perf_counter(), time.process_time()
    for start in range(0, count, batch):
        events = [Event(b"%010d" % i + pad[10:]) for i in range(start, min(start + batch, count))]
        with channel.transaction() as tx:  # type: ignore[attr-defined]
            tx.put_batch(events)
        sink.process()
    leg = Leg("generator -> memory -> kafka", count, time.perf_counter() - began,
              time.process_time() - cpu)
    sink.stop()
    channel.stop()  # type: ignore[attr-defined]
    return leg


def consume_leg(servers: str, topic: str, count: int, batch: int) -> Leg:
    from flume_kafka import KafkaSource

    from flume_sdk import ChannelProcessor, ChannelSelector
    from flume_sdk.components.null_sink import NullSink

    channel = _memory(batch)
    source = KafkaSource.from_config("r1", {
        "kafka.bootstrap.servers": servers, "kafka.topics": topic,
        "kafka.consumer.group.id": f"bench-{topic}", "batchSize": str(batch),
        "batchDurationMillis": "100", "kafka.consumer.session.timeout.ms": "6000"})
    source.set_channel_processor(ChannelProcessor(ChannelSelector([channel])))
    sink = NullSink.from_config("n1", {"batchSize": str(batch)})
    sink.set_channel(channel)
    channel.start()  # type: ignore[attr-defined]
    source.start()
    sink.start()

    def step() -> int:
        source.process()
        got = channel.size  # type: ignore[attr-defined]
        while channel.size:  # type: ignore[attr-defined]
            sink.process()
        return int(got)

    done = 0
    while done == 0:  # the first batch pays the group join; it is not timed
        done = step()
    began, cpu = time.perf_counter(), time.process_time()
    timed = 0
    while done + timed < count:
        timed += step()
    leg = Leg("kafka -> memory -> null", timed, time.perf_counter() - began,
              time.process_time() - cpu)
    source.stop()
    sink.stop()
    channel.stop()  # type: ignore[attr-defined]
    return leg


def _child(args: argparse.Namespace) -> None:
    """One run of both legs in this process; prints them as JSON lines."""
    for run in (produce_leg, consume_leg):
        leg = run(args.servers, args.topic, args.count, args.batch)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(asdict(leg) | {"peak_rss_kib": rss}), flush=True)


def _export(ref: str, into: Path, hidden: list[str]) -> Path:
    archive = subprocess.run(["git", "-C", str(_REPO), "archive", ref, _PLUGIN],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    path = into / "plugins" / "flume-kafka"
    for module in hidden:
        (path / f"{module}.py").write_text(f"raise ImportError('{module} hidden by the bench')\n")
    return path


def _run(broker: KafkaBroker, topic: str, args: argparse.Namespace,
         pythonpath: Path | None) -> list[Leg]:
    broker.create_topic(topic, 1)
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath),
                                                          env.get("PYTHONPATH", "")]))
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--servers", broker.bootstrap_servers,
         "--topic", topic, "--count", str(args.count), "--batch", str(args.batch)],
        env=env, check=True, capture_output=True, text=True, timeout=600).stdout
    return [Leg(**json.loads(line)) for line in out.splitlines() if line.startswith("{")]


def _median(legs: list[Leg], value: Callable[[Leg], float]) -> float:
    return statistics.median(value(leg) for leg in legs)


def _table(results: dict[str, list[list[Leg]]]) -> None:
    variants = list(results)
    print(f"{'leg':<30} {'variant':<10} {'events/s':>10} {'CPU us/ev':>10} {'RSS MiB':>8}"
          f"  (median of {len(results[variants[0]])})")
    for index in range(2):
        rates = {}
        for variant in variants:
            legs = [run[index] for run in results[variant]]
            rates[variant] = _median(legs, lambda leg: leg.rate)
            print(f"{legs[0].name:<30} {variant:<10} {rates[variant]:>10,.0f} "
                  f"{_median(legs, lambda leg: leg.cpu_us):>10.1f} "
                  f"{_median(legs, lambda leg: leg.peak_rss_kib) / 1024:>8.0f}")
        if len(variants) == 2:
            print(f"{'':<30} {'ratio':<10} {rates[variants[1]] / rates[variants[0]]:>9.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--durable", action="store_true", help="s3:// storage over localbucket")
    parser.add_argument("--baseline", metavar="GITREF",
                        help="also run flume_kafka as of this commit, side by side")
    parser.add_argument("--baseline-hides", metavar="MODULE", nargs="*", default=[],
                        help="modules the baseline runs cannot import")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--servers", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-kafka-") as tmp, \
            KafkaBroker(durable=args.durable) as broker:
        variants: dict[str, Path | None] = {}
        if args.baseline:
            variants[args.baseline[:10]] = _export(args.baseline, Path(tmp), args.baseline_hides)
        variants["current"] = None
        results: dict[str, list[list[Leg]]] = {name: [] for name in variants}
        for repeat in range(args.repeat):
            for number, (name, path) in enumerate(variants.items()):
                results[name].append(_run(broker, f"bench-{repeat}-{number}", args, path))
        _table(results)


if __name__ == "__main__":
    main()
