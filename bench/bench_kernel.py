"""Kernel throughput: seq -> memory channel -> null sink, with 200-byte bodies.

Runs the real runners (a source thread and a sink thread) for each batch size
and prints events/s, CPU µs/event and peak RSS. The issue's target is
>= 1,000,000 events/s at batch 1000 (floor 500,000) and RSS under 100 MiB
with a 100k-event channel. Run: .venv/bin/python bench/bench_kernel.py
"""

from __future__ import annotations

import argparse
import resource
import statistics
import threading
import time
from typing import Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    ChannelException,
    ChannelProcessor,
    Event,
    PollableSource,
    Status,
    setting,
)
from flume_sdk._runners import SinkRunner, SourceRunner
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.null_sink import NullSink
from flume_sdk.components.selectors import ReplicatingSelector
from flume_sdk.components.sink_processors import DefaultSinkProcessor

BODY = b"x" * 200


@attrs.frozen(kw_only=True)
class _GenSettings:
    batch_size: int = setting(default=1000)
    total_events: int = setting(default=1_000_000)


class Generator(PollableSource):
    """An in-process generator: seq's loop with a fixed 200-byte body."""

    Settings: ClassVar[type] = _GenSettings

    def __init__(self, name: str, settings: Any = None, **kw: Any) -> None:
        super().__init__(name, settings, **kw)
        self.sent = 0

    def process(self) -> Status:
        remaining = self.settings.total_events - self.sent
        if remaining <= 0:
            return Status.BACKOFF
        count = min(self.settings.batch_size, remaining)
        events = [Event(BODY) for _ in range(count)]
        try:
            self.channel_processor.process_batch(events)
        except ChannelException:
            return Status.BACKOFF
        self.sent += count
        self.counter.incr("EventAcceptedCount", count)
        return Status.READY


def run(batch: int, total: int, capacity: int) -> dict[str, float]:
    channel = MemoryChannel.from_config("c1", {"capacity": str(capacity),
                                               "transactionCapacity": str(batch),
                                               "keep-alive": "0.1"})
    source = Generator.from_config("r1", {"batchSize": str(batch), "totalEvents": str(total)})
    source.backoff_sleep_increment = 0.001
    source.max_backoff_sleep = 0.001
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    sink = NullSink.from_config("k1", {"batchSize": str(batch)})
    sink.set_channel(channel)
    sink_runner = SinkRunner("k1", DefaultSinkProcessor([sink]), SYSTEM_CLOCK, max_backoff=0.001)
    source_runner = SourceRunner(source, SYSTEM_CLOCK)
    channel.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    sink_runner.start()
    source_runner.start()
    done = threading.Event()
    while sink.counter.get("EventDrainSuccessCount") < total:
        done.wait(0.005)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    source_runner.stop()
    sink_runner.stop()
    channel.stop()
    return {"eps": total / wall, "cpu_us": cpu / total * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--capacity", type=int, default=100_000)
    args = parser.parse_args()
    print(f"seq-style generator -> memory (capacity {args.capacity}) -> null, 200-byte bodies, "
          f"{args.events:,} events, median of {args.repeat}")
    print(f"{'batch':>6} {'events/s':>12} {'CPU us/event':>13} {'target':>22}")
    for batch in (100, 1000):
        runs = [run(batch, args.events, args.capacity) for _ in range(args.repeat)]
        eps = statistics.median(r["eps"] for r in runs)
        cpu = statistics.median(r["cpu_us"] for r in runs)
        target = ">= 1,000,000 (floor 500k)" if batch == 1000 else "-"
        print(f"{batch:>6} {eps:>12,.0f} {cpu:>13.2f} {target:>22}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.1f} MiB (target < 100 MiB with a {args.capacity:,}-event channel)")


if __name__ == "__main__":
    main()
