"""file_roll throughput: a memory channel drained by the file_roll sink into local files.

Run: ``python bench/bench_file_roll.py [--events 1000000] [--body 200] [--dir DIR]``.
Prints one row per (serializer, batch size): events/s, CPU microseconds per event and
the process's peak RSS, after the limit measured in the same run: plain Python writing
the same lines to one file in the same batches (join, write, flush; no channel).

A producer thread puts pre-built 200-byte events into the memory channel (capacity
100,000) in transactions of ``batch`` while the main thread runs the sink's
``process()`` loop, as a SinkRunner would. Events/s is wall time from the first put
to the last commit; CPU is the whole process's (producer and sink) CPU time.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

from flume_sdk import ChannelException, Event, PluginInfo, PluginKind, PluginRegistry, Status
from flume_sdk.components.file_roll_sink import FileRollSink
from flume_sdk.components.memory_channel import MemoryChannel

__all__ = ["main", "run_once"]

_SERIALIZERS = "flume_sdk.components.serializers"
REGISTRY = PluginRegistry([
    PluginInfo(PluginKind.SERIALIZER, name, f"{_SERIALIZERS}:{cls}", "flume-sdk", "bench")
    for name, cls in [("text", "TextSerializer"), ("header_and_text", "HeaderAndTextSerializer"),
                      ("avro_event", "AvroEventSerializer")]
])


def _produce(channel: MemoryChannel, events: list[Event], total: int, batch: int) -> None:
    sent = 0
    while sent < total:
        chunk = events[: min(batch, total - sent)]
        while True:
            try:
                with channel.transaction() as tx:
                    tx.put_batch(chunk)
                break
            except ChannelException:  # full: the sink is behind, retry
                time.sleep(0.0005)
        sent += len(chunk)


def run_once(total: int, body_size: int, batch: int, serializer: str,
             directory: Path) -> dict[str, float]:
    """One measured run; returns events/s, CPU µs/event and peak RSS in MiB."""
    shutil.rmtree(directory, ignore_errors=True)
    channel = MemoryChannel.from_config("c1", {"capacity": "100000",
                                               "transactionCapacity": str(batch),
                                               "keep-alive": "0.01"})
    channel.start()
    sink = FileRollSink.from_config("k1", {"sink.directory": str(directory),
                                           "sink.serializer": serializer,
                                           "sink.batchSize": str(batch),
                                           "sink.rollInterval": "0"}, registry=REGISTRY)
    sink.set_channel(channel)
    sink.start()
    events = [Event(b"x" * body_size, {"timestamp": "1700000000000", "host": "bench"})
              for _ in range(batch)]
    producer = threading.Thread(target=_produce, args=(channel, events, total, batch))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    producer.start()
    drained = 0
    while drained < total:
        if sink.process() is Status.READY:
            drained = sink.counter.get("EventDrainSuccessCount")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    producer.join()
    sink.stop()
    channel.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"events_per_s": total / wall, "cpu_us_per_event": cpu * 1e6 / total, "rss_mib": rss}


def plain_write(total: int, body_size: int, batch: int, directory: Path) -> dict[str, float]:
    """The limit: the same text lines written by plain Python, one write and flush per batch."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    chunk = b"".join(b"x" * body_size + b"\n" for _ in range(batch))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with open(directory / "plain", "wb") as out:
        for start in range(0, total, batch):
            out.write(chunk if total - start >= batch else chunk[: (total - start) * (body_size + 1)])
            out.flush()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"events_per_s": total / wall, "cpu_us_per_event": cpu * 1e6 / total, "rss_mib": rss}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--body", type=int, default=200)
    parser.add_argument("--batches", default="100,1000")
    parser.add_argument("--serializers", default="text,avro_event")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args(argv)
    base = args.dir or Path(tempfile.mkdtemp(prefix="bench_file_roll_"))
    print(f"{'serializer':<12} {'batch':>6} {'events/s':>10} {'CPU us/ev':>10} {'peak RSS':>10}")
    try:
        for batch in map(int, args.batches.split(",")):
            row = plain_write(args.events, args.body, batch, base / "out")
            print(f"{'plain write':<12} {batch:>6} {row['events_per_s']:>10,.0f} "
                  f"{row['cpu_us_per_event']:>10.2f} {row['rss_mib']:>8.0f} MiB  (the limit)",
                  flush=True)
        for serializer in args.serializers.split(","):
            for batch in map(int, args.batches.split(",")):
                row = run_once(args.events, args.body, batch, serializer, base / "out")
                print(f"{serializer:<12} {batch:>6} {row['events_per_s']:>10,.0f} "
                      f"{row['cpu_us_per_event']:>10.2f} {row['rss_mib']:>8.0f} MiB", flush=True)
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
