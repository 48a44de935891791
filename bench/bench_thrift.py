"""Thrift RPC throughput: our ThriftSink -> our ThriftSource, and clients -> our ThriftSource.

Run: ``python bench/bench_thrift.py [--events 100000] [--body 200] [--rounds 3]``. Prints one
table per batch size (100 and 1000) with events/s and CPU µs/event, medians of the rounds,
side by side, and this process's peak RSS.

- "sink -> source": a ThriftSink draining a memory channel, sending to a ThriftSource on
  127.0.0.1 in the same process; CPU is this process's (both ends) per event.
- "our client -> source" and "thrift lib client -> source": a client in a child process
  (our ThriftRpcClient, or the Apache Thrift library's framed client with its
  C-accelerated compact protocol) sends ``appendBatch`` calls to the ThriftSource in this
  process. events/s is the client's own elapsed time; "src CPU" is this process's CPU
  (the source alone), "client CPU" the child's.

The source hands batches to a counting channel processor, so the numbers are the RPC path
(framing, Thrift decoding, event construction), not a channel's.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from flume_rpc_thrift import ThriftRpcClient
from flume_rpc_thrift.sink import ThriftSink
from flume_rpc_thrift.source import ThriftSource

from flume_sdk import Event, Status
from flume_sdk._gc_tuning import tune_garbage_collector
from flume_sdk.components.memory_channel import MemoryChannel

__all__ = ["main"]

BATCHES = (100, 1000)
HEADERS = {"timestamp": "1700000000000", "host": "bench"}
_PEER = Path(__file__).resolve().parent.parent / "plugins" / "flume-rpc-thrift" / "tests"

Row = dict[str, float]


class _CountingProcessor:
    """Stands in for the channel processor: counts events, keeps nothing."""

    transaction_limit = 1 << 62  # Source.deliver slices to it: no channel limits this one

    def __init__(self) -> None:
        self.events = 0

    def process_batch(self, events: Sequence[Event]) -> None:
        self.events += len(events)


def _start_source() -> tuple[ThriftSource, _CountingProcessor]:
    source = ThriftSource.from_config("r1", {"bind": "127.0.0.1", "port": "0"})
    processor = _CountingProcessor()
    source.set_channel_processor(processor)  # type: ignore[arg-type]
    source.start()
    return source, processor


def _filled_channel(count: int, body: bytes, batch: int) -> MemoryChannel:
    channel = MemoryChannel.from_config(
        "c1", {"capacity": str(count), "transactionCapacity": str(batch), "keep-alive": "0"})
    channel.start()
    for start in range(0, count, batch):
        with channel.transaction() as tx:
            tx.put_batch([Event(body=body, headers=dict(HEADERS))
                          for _ in range(min(batch, count - start))])
    return channel


def bench_sink(count: int, body_size: int, batch: int) -> Row:
    """Our sink -> our source in one process."""
    source, processor = _start_source()
    channel = _filled_channel(count, b"x" * body_size, batch)
    sink = ThriftSink.from_config("k1", {"hostname": "127.0.0.1", "port": str(source.port),
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
    return {"eps": count / wall, "cpu_us": cpu / count * 1e6, "client_us": float("nan")}


def bench_client(kind: str, count: int, body_size: int, batch: int) -> Row:
    """A client of ``kind`` (ours | lib) in a child process -> our source here."""
    source, processor = _start_source()
    try:
        cpu = time.process_time()
        child = subprocess.run(
            [sys.executable, __file__, "--client", kind, "--port", str(source.port),
             "--events", str(count), "--body", str(body_size), "--batch", str(batch)],
            check=True, capture_output=True, text=True, timeout=600)
        cpu = time.process_time() - cpu
    finally:
        source.stop()
    result = json.loads(child.stdout)
    assert processor.events == count, (processor.events, count)
    return {"eps": count / result["elapsed"], "cpu_us": cpu / count * 1e6,
            "client_us": result["cpu"] / count * 1e6}


def run_client(kind: str, port: int, count: int, body_size: int, batch: int) -> dict[str, float]:
    """The child's side: send ``count`` events in ``batch``-sized calls, time it."""
    body = b"x" * body_size
    wall, cpu = time.perf_counter(), time.process_time()
    if kind == "lib":
        sys.path.insert(0, str(_PEER))
        from _library_peer import LibraryClient  # type: ignore[import-not-found]

        with LibraryClient(port, accelerated=True, timeout=60) as lib:
            for start in range(0, count, batch):
                n = min(batch, count - start)
                assert lib.append_batch([(dict(HEADERS), body)] * n) == 0
    else:
        with ThriftRpcClient("127.0.0.1", port) as ours:
            for start in range(0, count, batch):
                n = min(batch, count - start)
                ours.append_batch([Event(body=body, headers=dict(HEADERS)) for _ in range(n)])
    return {"elapsed": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def _median(rows: list[Row]) -> Row:
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--body", type=int, default=200, help="body bytes per event")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client", choices=["ours", "lib"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=100, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    tune_garbage_collector()  # as flume-ng agent does
    if args.client:
        print(json.dumps(run_client(args.client, args.port, args.events, args.body, args.batch)))
        return 0
    print(f"{args.events} events of {args.body} B, 2 headers, compact protocol, "
          f"median of {args.rounds} rounds\n")
    print(f"{'batch':>6} {'path':<30} {'events/s':>10} {'ratio':>6} {'src CPU us/ev':>14} "
          f"{'client CPU us/ev':>17}")
    for batch in BATCHES:
        rows = {
            "sink -> source (1 process)": _median(
                [bench_sink(args.events, args.body, batch) for _ in range(args.rounds)]),
            "our client -> source": _median(
                [bench_client("ours", args.events, args.body, batch) for _ in range(args.rounds)]),
            "thrift lib client -> source": _median(
                [bench_client("lib", args.events, args.body, batch) for _ in range(args.rounds)]),
        }
        lib_eps = rows["thrift lib client -> source"]["eps"]
        for name, row in rows.items():
            print(f"{batch:>6} {name:<30} {row['eps']:>10,.0f} {row['eps'] / lib_eps:>6.2f} "
                  f"{row['cpu_us']:>14.2f} {row['client_us']:>17.2f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the source process: {rss:.1f} MiB (ratio: events/s / the lib client's)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
