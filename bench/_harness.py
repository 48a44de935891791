"""What the pipeline benchmarks share: run real runner threads, time them, print a table.

A benchmark builds its source, channel and sink; :func:`run_pipeline` starts them
with the kernel's runners, waits until the sink drained ``events`` and returns
events/s and CPU µs/event (the whole process's CPU, every thread included).
The garbage collector is set as ``flume-ng agent`` sets it.
"""

from __future__ import annotations

import resource
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from flume_sdk import (
    SYSTEM_CLOCK,
    Channel,
    ChannelProcessor,
    Event,
    Sink,
    SinkRunner,
    Source,
    SourceRunner,
)
from flume_sdk._gc_tuning import tune_garbage_collector
from flume_sdk.components.selectors import ReplicatingSelector
from flume_sdk.components.sink_processors import DefaultSinkProcessor

__all__ = ["Measurement", "channel_throughput", "median_of", "peak_rss_mib", "print_table",
           "run_pipeline"]

Measurement = dict[str, float]

tune_garbage_collector()  # as flume-ng agent does


def run_pipeline(source: Source, channel: Channel, sink: Sink, events: int, *,
                 feeder: Callable[[], Any] | None = None) -> Measurement:
    """Run source -> channel -> sink on the kernel's runners until ``events`` were drained.

    ``feeder`` (optional) runs in its own thread from the moment the clock starts, for
    input that arrives while the pipeline runs (a growing log file).
    """
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    sink.set_channel(channel)
    sink_runner = SinkRunner(sink.name, DefaultSinkProcessor([sink]), SYSTEM_CLOCK,
                             max_backoff=0.001)
    source_runner = SourceRunner(source, SYSTEM_CLOCK)
    channel.start()
    feeding = threading.Thread(target=feeder, name="bench-feeder") if feeder else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    sink_runner.start()
    source_runner.start()
    if feeding:
        feeding.start()
    pause = threading.Event()
    while sink.counter.get("EventDrainSuccessCount") < events:
        pause.wait(0.005)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if feeding:
        feeding.join()
    source_runner.stop()
    sink_runner.stop()
    channel.stop()
    return {"eps": events / wall, "cpu_us": cpu / events * 1e6, "wall": wall}


def channel_throughput(channel: Channel, batch: int, total: int, event: Event) -> Measurement:
    """Start ``channel``; one putter and one taker thread move ``total`` copies of ``event``.

    This is a channel's path in an agent (a source thread putting, a sink thread taking)
    without the components' own costs. The channel is stopped afterwards.
    """
    channel.start()
    events = [Event(event.body, dict(event.headers)) for _ in range(batch)]
    taken = [0]
    pause = threading.Event()

    def putter() -> None:
        for _ in range(total // batch):
            with channel.transaction() as tx:
                tx.put_batch(events)

    def taker() -> None:
        while taken[0] < total:
            with channel.transaction() as tx:
                got = len(tx.take_batch(batch))
            taken[0] += got
            if not got:
                pause.wait(0.0005)

    wall0, cpu0 = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=putter), threading.Thread(target=taker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    channel.stop()
    return {"eps": total / wall, "cpu_us": cpu / total * 1e6, "wall": wall}


def median_of(runs: Sequence[Measurement]) -> Measurement:
    """Each figure's median over ``runs``."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(*groups: Sequence[tuple[str, Measurement]], note: str = "") -> None:
    """One line per row: name, events/s, CPU µs/event, and its ratio to its group's first row."""
    print(f"{'':<46} {'events/s':>12} {'CPU us/event':>13} {'ratio':>7}")
    for rows in groups:
        first = rows[0][1]["eps"]
        for name, row in rows:
            print(f"{name:<46} {row['eps']:>12,.0f} {row['cpu_us']:>13.2f} "
                  f"{row['eps'] / first:>7.2f}")
    print(f"peak RSS: {peak_rss_mib():.1f} MiB" + (f"   {note}" if note else ""))
