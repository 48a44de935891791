"""taildir on one growing file -> memory channel -> file_roll (text), 1,000,000 200-byte lines.

A writer thread appends the lines in chunks of 10,000 while the source tails the
file; the clock starts when the writer starts. Prints events/s and CPU µs/event
(process CPU time, the writer's small share included). Files live in
``var/bench_taildir/`` and are removed afterwards.
Run: .venv/bin/python bench/bench_taildir.py [--events N] [--batch B]
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
from flume_sdk.components.taildir_source import TaildirSource

__all__ = ["main", "run"]

ROOT = Path(__file__).resolve().parent.parent / "var" / "bench_taildir"
CHUNK = 10_000


def chunks(events: int) -> list[bytes]:
    """The input, pre-built so the writer thread only makes write() calls."""
    out = []
    for start in range(0, events, CHUNK):
        stop = min(start + CHUNK, events)
        out.append(b"".join(b"%012d" % i + b"x" * 188 + b"\n" for i in range(start, stop)))
    return out


def write(path: Path, data: list[bytes]) -> None:
    with open(path, "ab") as out:
        for chunk in data:
            out.write(chunk)
            out.flush()


def run(events: int, batch: int) -> dict[str, float]:
    shutil.rmtree(ROOT, ignore_errors=True)
    (ROOT / "logs").mkdir(parents=True)
    log = ROOT / "logs" / "app.log"
    log.touch()
    data = chunks(events)
    channel = MemoryChannel.from_config("c1", {"capacity": str(batch * 20),
                                               "transactionCapacity": str(batch),
                                               "keep-alive": "0.1"})
    source = TaildirSource.from_config("r1", {
        "filegroups": "g1", "filegroups.g1": str(ROOT / "logs" / r"app\.log"),
        "positionFile": str(ROOT / "pos.json"), "batchSize": str(batch),
        "backoffSleepIncrement": "1", "maxBackoffSleep": "5"})
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    sink = FileRollSink.from_config("k1", {"sink.directory": str(ROOT / "out"),
                                           "sink.rollInterval": "0",
                                           "sink.batchSize": str(batch)})
    sink.set_channel(channel)
    sink_runner = SinkRunner("k1", DefaultSinkProcessor([sink]), SYSTEM_CLOCK, max_backoff=0.001)
    source_runner = SourceRunner(source, SYSTEM_CLOCK)
    channel.start()
    sink_runner.start()
    source_runner.start()
    writer = threading.Thread(target=write, args=(log, data), name="bench-writer")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    writer.start()
    pause = threading.Event()
    while sink.counter.get("EventDrainSuccessCount") < events:
        pause.wait(0.005)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    writer.join()
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
    args = parser.parse_args()
    result = run(args.events, args.batch)
    print(f"taildir (one growing file) -> memory -> file_roll(text): {args.events:,} x 200-byte "
          f"lines, batch {args.batch}")
    print(f"  {result['eps']:,.0f} events/s   {result['cpu_us']:.2f} CPU us/event   "
          f"{result['wall']:.2f} s   (target >= 300,000 events/s)")


if __name__ == "__main__":
    main()
