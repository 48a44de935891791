"""What health bookkeeping costs on the sink path: stress -> memory -> null, per ``process()``.

Every ``process()`` of a sink goes through ``SinkProcessor.process_sink`` (outcome recorded in
the sink's health, a check cleared when it works) and the runner's status callback (progress
time for the stall check). The peer, measured in the same run with interleaved rounds, is the
same pipeline whose processor calls ``sink.process()`` directly, with no bookkeeping.
Batch 1 shows the per-call cost at its worst. Run: .venv/bin/python bench/bench_health_overhead.py
"""

from __future__ import annotations

import argparse
import threading
import time

from _harness import Measurement, median_of, print_table

from flume_sdk import SYSTEM_CLOCK, ChannelProcessor, SinkProcessor, SinkRunner, SourceRunner
from flume_sdk import Status as SinkStatus
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.null_sink import NullSink
from flume_sdk.components.selectors import ReplicatingSelector
from flume_sdk.components.sink_processors import DefaultSinkProcessor
from flume_sdk.components.stress_source import StressSource


class DirectProcessor(SinkProcessor):
    """The peer: ``sink.process()`` with no health bookkeeping."""

    def process(self) -> SinkStatus:
        return self.sinks[0].process()


def run(batch: int, total: int, processor_cls: type[SinkProcessor]) -> Measurement:
    channel = MemoryChannel.from_config("c1", {"capacity": str(max(10_000, batch * 10)),
                                               "transactionCapacity": str(batch),
                                               "keep-alive": "0.1"})
    source = StressSource.from_config("r1", {"size": "200", "batchSize": str(batch),
                                             "maxTotalEvents": str(total)})
    source.backoff_sleep_increment = source.max_backoff_sleep = 0.001
    sink = NullSink.from_config("k1", {"batchSize": str(batch)})
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    sink.set_channel(channel)
    sink_runner = SinkRunner("k1", processor_cls([sink]), SYSTEM_CLOCK, max_backoff=0.001)
    source_runner = SourceRunner(source, SYSTEM_CLOCK)
    channel.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    sink_runner.start()
    source_runner.start()
    pause = threading.Event()
    while sink.counter.get("EventDrainSuccessCount") < total:
        pause.wait(0.005)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    source_runner.stop()
    sink_runner.stop()
    channel.stop()
    return {"eps": total / wall, "cpu_us": cpu / total * 1e6, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    groups = []
    for batch in (1, 100):
        total = args.events if batch > 1 else args.events // 5
        direct, kernel = [], []
        for _ in range(args.rounds):  # interleaved: the peer and the kernel take turns
            direct.append(run(batch, total, DirectProcessor))
            kernel.append(run(batch, total, DefaultSinkProcessor))
        groups.append([(f"batch {batch}: peer, sink.process() directly", median_of(direct)),
                       (f"batch {batch}: kernel, with health bookkeeping", median_of(kernel))])
    print_table(*groups, note=f"medians of {args.rounds} interleaved rounds")


if __name__ == "__main__":
    main()
