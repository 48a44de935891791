"""Avro RPC throughput: our AvroSink -> our AvroSource, and Java client -> our AvroSource.

Run: ``python bench/bench_avro.py [--events 100000] [--body 500]``. Prints one table with
events/s and CPU microseconds per event at batch sizes 100 and 1000, side by side.

- "ours": an AvroSink draining a memory channel, sending to an AvroSource on 127.0.0.1
  in the same process; CPU is this process's CPU time (both ends) per event.
- "java": the testkit's Java peer (Avro 1.8.2 NettyTransceiver, like Flume's AvroSink)
  sending to our AvroSource; events/s from the Java client's own elapsed time, CPU is
  this process's (the source's) CPU time per event. Skipped when java/javac are missing.

The source hands batches to a counting channel processor, so the numbers are the RPC
path (framing, Avro decoding, event construction), not a channel's.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flume_rpc_avro.sink import AvroSink
from flume_rpc_avro.source import AvroSource

from flume_sdk import Event, Status
from flume_sdk.components.memory_channel import MemoryChannel

__all__ = ["main"]

BATCHES = (100, 1000)


class _CountingProcessor:
    """Stands in for the channel processor: counts events, keeps nothing."""

    transaction_limit = 1 << 62  # Source.deliver slices to it: no channel limits this one

    def __init__(self) -> None:
        self.events = 0

    def process_batch(self, events: Sequence[Event]) -> None:
        self.events += len(events)

    def process_event(self, event: Event) -> None:
        self.events += 1


def _start_source() -> tuple[AvroSource, _CountingProcessor]:
    source = AvroSource.from_config("r1", {"bind": "127.0.0.1", "port": "0"})
    processor = _CountingProcessor()
    source.set_channel_processor(processor)  # type: ignore[arg-type]
    source.start()
    return source, processor


def _filled_channel(count: int, body: bytes, batch: int) -> MemoryChannel:
    channel = MemoryChannel.from_config(
        "c1", {"capacity": str(count), "transactionCapacity": str(batch), "keep-alive": "0"})
    channel.start()
    headers = {"timestamp": "1700000000000", "host": "bench"}
    for start in range(0, count, batch):
        with channel.transaction() as tx:
            tx.put_batch([Event(body=body, headers=dict(headers))
                          for _ in range(min(batch, count - start))])
    return channel


def bench_ours(count: int, body_size: int, batch: int) -> dict[str, float]:
    """Our sink -> our source in one process."""
    source, processor = _start_source()
    channel = _filled_channel(count, b"x" * body_size, batch)
    sink = AvroSink.from_config("k1", {"hostname": "127.0.0.1", "port": str(source.port),
                                       "batch-size": str(batch)})
    sink.set_channel(channel)
    sink.start()
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        while sink.process() is Status.READY:
            pass
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        sink.stop()
        source.stop()
        channel.stop()
    assert processor.events == count, (processor.events, count)
    return {"events_per_s": count / wall, "cpu_us_per_event": cpu / count * 1e6}


def bench_java(peer: Any, count: int, body_size: int, batch: int) -> dict[str, float]:
    """The Java peer's client -> our source."""
    source, processor = _start_source()
    try:
        cpu = time.process_time()
        result = peer.run_client("127.0.0.1", source.port, count, batch,
                                 body_size=body_size, timeout=300)
        cpu = time.process_time() - cpu
    finally:
        source.stop()
    if not result.ok:
        msg = f"Java client failed: {result.error or result.output[-500:]}"
        raise RuntimeError(msg)
    elapsed = float(result.summary.get("elapsed_ms", 0)) / 1000 or float("nan")
    assert processor.events == count, (processor.events, count)
    return {"events_per_s": count / elapsed, "cpu_us_per_event": cpu / count * 1e6}


def _java_peer() -> Any:
    try:
        from flume_testkit.servers.avro_peer import AvroJavaPeer

        return AvroJavaPeer.build(Path("var/bench-avro").resolve())
    except Exception as exc:
        print(f"(Java peer unavailable, Java column skipped: {exc})")
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--body", type=int, default=500, help="body bytes per event")
    args = parser.parse_args(argv)
    peer = _java_peer()
    print(f"{args.events} events of {args.body} B, 2 headers\n")
    print(f"{'batch':>6} | {'ours ev/s':>11} {'ours CPU us/ev':>15} | "
          f"{'java ev/s':>11} {'src CPU us/ev':>14}")
    for batch in BATCHES:
        ours = bench_ours(args.events, args.body, batch)
        java = bench_java(peer, args.events, args.body, batch) if peer else None
        java_cols = (f"{java['events_per_s']:>11,.0f} {java['cpu_us_per_event']:>14.1f}"
                     if java else f"{'-':>11} {'-':>14}")
        print(f"{batch:>6} | {ours['events_per_s']:>11,.0f} {ours['cpu_us_per_event']:>15.1f} | "
              f"{java_cols}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
