"""Kernel throughput: Flume's stress source -> memory channel -> null sink, 200-byte bodies.

Runs the real runners (a source thread and a sink thread) for each batch size
and prints events/s, CPU µs/event and peak RSS, beside the limit measured in the
same run: two plain Python threads handing the same events over a bounded queue. The issue's target is
>= 1,000,000 events/s at batch 1000 (floor 500,000) and RSS under 100 MiB
with a 100k-event channel. Run: .venv/bin/python bench/bench_kernel.py
"""

from __future__ import annotations

import argparse
import queue
import threading
import time

from _harness import Measurement, median_of, print_table, run_pipeline

from flume_sdk import Event
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.null_sink import NullSink
from flume_sdk.components.stress_source import StressSource

BODY = b"x" * 200


def run(batch: int, total: int, capacity: int) -> Measurement:
    channel = MemoryChannel.from_config("c1", {"capacity": str(capacity),
                                               "transactionCapacity": str(batch),
                                               "keep-alive": "0.1"})
    source = StressSource.from_config("r1", {"size": str(len(BODY)), "batchSize": str(batch),
                                             "maxTotalEvents": str(total)})
    source.backoff_sleep_increment = 0.001
    source.max_backoff_sleep = 0.001
    sink = NullSink.from_config("k1", {"batchSize": str(batch)})
    return run_pipeline(source, channel, sink, total)


def plain_handoff(batch: int, total: int, capacity: int) -> Measurement:
    """The limit: two plain Python threads hand the same events over a bounded queue of batches."""
    handoff: queue.Queue[list[Event]] = queue.Queue(maxsize=max(1, capacity // batch))

    def produce() -> None:
        for start in range(0, total, batch):
            handoff.put([Event(BODY) for _ in range(min(batch, total - start))])

    producer = threading.Thread(target=produce, name="bench-producer")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    producer.start()
    taken = 0
    while taken < total:
        taken += len(handoff.get())
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    producer.join()
    return {"eps": total / wall, "cpu_us": cpu / total * 1e6, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--capacity", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{args.events:,} events of 200 bytes, channel capacity {args.capacity:,}, "
          f"median of {args.repeat}")
    groups = []
    for batch in (100, 1000):
        ours, plain = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine
            plain.append(plain_handoff(batch, args.events, args.capacity))
            ours.append(run(batch, args.events, args.capacity))
        groups.append([(f"batch {batch}: plain queue handoff (the limit)", median_of(plain)),
                       (f"batch {batch}: stress -> memory -> null", median_of(ours))])
    print_table(*groups, note="target >= 1,000,000 events/s at batch 1000 (floor 500k); "
                "RSS < 100 MiB")


if __name__ == "__main__":
    main()
