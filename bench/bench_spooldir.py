"""spooldir -> memory channel -> file_roll (text) over 1,000,000 lines of 200 bytes.

Runs the real runner threads and prints events/s and CPU µs/event (process CPU
time over events). The issue's target is >= 300,000 events/s. The input is
written to ``var/bench_spooldir/`` (about 200 MB, removed afterwards).
Run: .venv/bin/python bench/bench_spooldir.py [--events N] [--batch B] [--files F]
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from pathlib import Path

from flume_sdk import SYSTEM_CLOCK, ChannelProcessor
from flume_sdk._runners import SinkRunner, SourceRunner
from flume_sdk.components.file_roll_sink import FileRollSink
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.selectors import ReplicatingSelector
from flume_sdk.components.sink_processors import DefaultSinkProcessor
from flume_sdk.components.spooldir_source import SpoolDirectorySource

__all__ = ["main", "run"]

ROOT = Path(__file__).resolve().parent.parent / "var" / "bench_spooldir"


def write_input(spool: Path, events: int, files: int) -> None:
    """``events`` lines of 200 bytes (plus newline) spread over ``files`` files."""
    spool.mkdir(parents=True)
    per_file = events // files
    for f in range(files):
        count = per_file if f < files - 1 else events - per_file * (files - 1)
        start = f * per_file
        lines = b"".join(b"%012d" % i + b"x" * 188 + b"\n" for i in range(start, start + count))
        (spool / f"in{f:03d}.log").write_bytes(lines)


def run(events: int, batch: int, files: int) -> dict[str, float]:
    shutil.rmtree(ROOT, ignore_errors=True)
    write_input(ROOT / "spool", events, files)
    channel = MemoryChannel.from_config("c1", {"capacity": str(batch * 20),
                                               "transactionCapacity": str(batch),
                                               "keep-alive": "0.1"})
    source = SpoolDirectorySource.from_config("r1", {"spoolDir": str(ROOT / "spool"),
                                                     "batchSize": str(batch), "pollDelay": "1"})
    source.max_backoff_sleep = 0.005
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    sink = FileRollSink.from_config("k1", {"sink.directory": str(ROOT / "out"),
                                           "sink.rollInterval": "0",
                                           "sink.batchSize": str(batch)})
    sink.set_channel(channel)
    sink_runner = SinkRunner("k1", DefaultSinkProcessor([sink]), SYSTEM_CLOCK, max_backoff=0.001)
    source_runner = SourceRunner(source, SYSTEM_CLOCK)
    channel.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    sink_runner.start()
    source_runner.start()
    pause = threading.Event()
    while sink.counter.get("EventDrainSuccessCount") < events:
        pause.wait(0.005)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    source_runner.stop()
    sink_runner.stop()
    channel.stop()
    written = sum(p.stat().st_size for p in (ROOT / "out").iterdir())
    shutil.rmtree(ROOT, ignore_errors=True)
    assert written == events * 201, f"file_roll wrote {written} bytes, expected {events * 201}"
    return {"eps": events / wall, "cpu_us": cpu / events * 1e6, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10)
    args = parser.parse_args()
    result = run(args.events, args.batch, args.files)
    print(f"spooldir -> memory -> file_roll(text): {args.events:,} x 200-byte lines, "
          f"batch {args.batch}, {args.files} files")
    print(f"  {result['eps']:,.0f} events/s   {result['cpu_us']:.2f} CPU us/event   "
          f"{result['wall']:.2f} s   (target >= 300,000 events/s)")


if __name__ == "__main__":
    main()
