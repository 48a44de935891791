"""spooldir -> memory channel -> file_roll (text) over 1,000,000 lines of 200 bytes.

Runs the real runner threads and prints events/s, CPU µs/event and peak RSS, median
of ``--repeat`` runs, beside the limit measured in the same run: a plain Python copy
of the same files into one output file (read, write; no events, no parsing). The
issue's target is >= 300,000 events/s. The input is written to
``var/bench_spooldir/`` (about 200 MB, removed afterwards).
Run: .venv/bin/python bench/bench_spooldir.py [--events N] [--batch B] [--files F]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from _harness import Measurement, median_of, print_table, run_pipeline

from flume_sdk.components.file_roll_sink import FileRollSink
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.spooldir_source import SpoolDirectorySource

__all__ = ["main", "run"]

ROOT = Path(__file__).resolve().parent.parent / "var" / "bench_spooldir"
LINE = 201


def write_input(spool: Path, events: int, files: int) -> None:
    """``events`` lines of 200 bytes (plus newline) spread over ``files`` files."""
    shutil.rmtree(ROOT, ignore_errors=True)
    spool.mkdir(parents=True)
    per_file = events // files
    for f in range(files):
        count = per_file if f < files - 1 else events - per_file * (files - 1)
        start = f * per_file
        lines = b"".join(b"%012d" % i + b"x" * 188 + b"\n" for i in range(start, start + count))
        (spool / f"in{f:03d}.log").write_bytes(lines)


def run(events: int, batch: int, files: int) -> Measurement:
    write_input(ROOT / "spool", events, files)
    channel = MemoryChannel.from_config("c1", {"capacity": str(batch * 20),
                                               "transactionCapacity": str(batch),
                                               "keep-alive": "0.1"})
    source = SpoolDirectorySource.from_config("r1", {"spoolDir": str(ROOT / "spool"),
                                                     "batchSize": str(batch), "pollDelay": "1"})
    source.max_backoff_sleep = 0.005
    sink = FileRollSink.from_config("k1", {"sink.directory": str(ROOT / "out"),
                                           "sink.rollInterval": "0",
                                           "sink.batchSize": str(batch)})
    result = run_pipeline(source, channel, sink, events)
    written = sum(p.stat().st_size for p in (ROOT / "out").iterdir())
    shutil.rmtree(ROOT, ignore_errors=True)
    assert written == events * LINE, f"file_roll wrote {written} bytes, expected {events * LINE}"
    return result


def plain_copy(events: int, files: int) -> Measurement:
    """The limit: the same files read and appended to one file by plain Python, 1 MiB at a time."""
    write_input(ROOT / "spool", events, files)
    (ROOT / "out").mkdir()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with open(ROOT / "out" / "copy", "wb") as out:
        for path in sorted((ROOT / "spool").iterdir()):
            with open(path, "rb") as src:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    shutil.rmtree(ROOT, ignore_errors=True)
    return {"eps": events / wall, "cpu_us": cpu / events * 1e6, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ours, copies = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine
        copies.append(plain_copy(args.events, args.files))
        ours.append(run(args.events, args.batch, args.files))
    print(f"{args.events:,} x 200-byte lines in {args.files} files, batch {args.batch}, "
          f"median of {args.repeat}")
    print_table([("plain Python copy of the files (the limit)", median_of(copies)),
                 ("spooldir -> memory -> file_roll(text)", median_of(ours))],
                note="(includes building one input file at a time) target >= 300,000 events/s")


if __name__ == "__main__":
    main()
