"""SPILLABLEMEMORY beside the memory and file channels, all measured in the same run.

One putter and one taker thread move 200-byte events (180-byte body, ``timestamp``
header) at batch 100 and 1000. The spillable channel runs twice: with room in memory
(nothing spills; its cost over the memory channel is the drain-order bookkeeping) and
with a memory of one batch while the putter runs ahead (most batches spill into the
file channel's log, which syncs each commit). Interleaved rounds, medians.

    python bench/bench_spillable_channel.py [--events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from _harness import Measurement, channel_throughput, peak_rss_mib
from flume_channel_file import FileChannel, SpillableMemoryChannel

from flume_sdk import Channel, Event
from flume_sdk.components.memory_channel import MemoryChannel

EVENT = Event(b"x" * 180, {"timestamp": "1700000000000"})


def _file_keys(work: Path, batch: int) -> dict[str, str]:
    return {"checkpointDir": str(work / "ck"), "dataDirs": str(work / "data"),
            "minimumRequiredSpace": "0", "transactionCapacity": str(batch)}


def channels(batch: int) -> dict[str, Callable[[Path], Channel]]:
    return {
        "memory": lambda w: MemoryChannel.from_config("bench", {
            "capacity": "100000", "transactionCapacity": str(batch), "keep-alive": "1"}),
        "file": lambda w: FileChannel.from_config("bench", {
            **_file_keys(w, batch), "capacity": "2000000", "keep-alive": "0.01"}),
        "spillable, fits in memory": lambda w: SpillableMemoryChannel.from_config("bench", {
            **_file_keys(w, batch), "memoryCapacity": "100000", "overflowTimeout": "1"}),
        "spillable, memory of one batch": lambda w: SpillableMemoryChannel.from_config("bench", {
            **_file_keys(w, batch), "memoryCapacity": str(batch), "overflowTimeout": "0"}),
    }


def one_round(batch: int, total: int) -> dict[str, Measurement]:
    results = {}
    for name, make in channels(batch).items():
        work = Path(tempfile.mkdtemp(prefix="bench-spill-"))
        try:
            channel = make(work)
            results[name] = channel_throughput(channel, batch, total, EVENT)
            if isinstance(channel, SpillableMemoryChannel):
                results[name]["spilled"] = channel.counter.get("SpilledEventCount") / total
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.events:,} events of 200 bytes per measurement, median of {args.rounds} "
          "interleaved rounds")
    print(f"{'channel':<44} {'events/s':>12} {'CPU us/event':>13} {'vs memory':>10} {'spilled':>8}")
    for batch in (100, 1000):
        rounds = [one_round(batch, args.events) for _ in range(args.rounds)]
        for name in rounds[0]:
            row = {k: statistics.median(r[name][k] for r in rounds) for k in rounds[0][name]}
            memory = statistics.median(r["memory"]["eps"] for r in rounds)
            spilled = f"{row['spilled']:.0%}" if "spilled" in row else ""
            print(f"{f'batch {batch}: {name}':<44} {row['eps']:>12,.0f} {row['cpu_us']:>13.2f} "
                  f"{row['eps'] / memory:>10.2f} {spilled:>8}")
    print(f"peak RSS: {peak_rss_mib():.1f} MiB")


if __name__ == "__main__":
    main()
