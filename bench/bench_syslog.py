"""Syslog over one TCP connection into a file: our syslogtcp -> memory -> file_roll, timed.

Usage::

    python bench/bench_syslog.py [--count 1000000] [--format 3164|5424|both] [--batch 1000]

A separate "blast" sender process streams pre-generated 200-byte lines (each with a sequence
number) in 256 KiB ``send()`` calls, as in ../shared/reference/perf-baselines.md §2.3. The
receiver is the agent pipeline *in this process*: ``SyslogTcpSource`` -> ``MemoryChannel``
-> ``FileRollSink`` driven by a sink thread. Reported: events/s (sender start until the sink has
committed every event), receiver CPU µs/event (utime+stime of this process), peak RSS (VmHWM),
and an all-arrived check (every sequence number present exactly once in the output).

Not yet here: the rsyslog and syslog-ng rows of the race. The testkit's
``flume_testkit.servers.syslog_peers`` (Rsyslog, SyslogNg) is meant to run them side by side;
wiring them in is left to a follow-up (see the plugin README).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from flume_source_syslog import SyslogTcpSource

from flume_sdk import ChannelProcessor, ChannelSelector, Status
from flume_sdk.components.file_roll_sink import FileRollSink
from flume_sdk.components.memory_channel import MemoryChannel

__all__ = ["main"]

_SENDER = r"""
import socket, sys
path, port = sys.argv[1], int(sys.argv[2])
with open(path, "rb") as f, socket.create_connection(("127.0.0.1", port)) as s:
    while chunk := f.read(262144):
        s.sendall(chunk)
"""


def make_lines(path: Path, count: int, fmt: str) -> None:
    """Write ``count`` 200-byte lines (199 + newline) with sequence numbers."""
    with path.open("wb") as out:
        for i in range(count):
            if fmt == "3164":
                head = b"<38>Nov 21 05:26:28 localhost prg00000[1234]: seq: %08d " % i
            else:
                head = b"<38>1 2026-11-21T05:26:28.%06dZ localhost prg00000 1234 - - seq: %08d " % (
                    i % 1_000_000, i)
            out.write(head + b"x" * (199 - len(head)) + b"\n")


def _cpu_seconds() -> float:
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _sink_loop(sink: FileRollSink, stop: threading.Event) -> None:
    while not stop.is_set():
        if sink.process() is Status.BACKOFF:
            stop.wait(0.001)


def _check(directory: Path, count: int) -> bool:
    seen = bytearray(count)
    total = 0
    for file in directory.iterdir():
        with file.open("rb") as f:
            for line in f:
                at = line.find(b"seq: ")
                seq = int(line[at + 5 : at + 13])
                seen[seq] += 1
                total += 1
    return total == count and all(v == 1 for v in seen)


def run(count: int, fmt: str, batch: int, work: Path) -> dict[str, float | bool]:
    """One timed run; returns the measurements."""
    data = work / f"lines-{fmt}.txt"
    if not data.exists():
        make_lines(data, count, fmt)
    out_dir = work / f"out-{fmt}-{time.monotonic_ns()}"
    channel = MemoryChannel.from_config("c1", {"capacity": "10000",
                                               "transactionCapacity": str(batch)})
    source = SyslogTcpSource.from_config("r1", {"host": "127.0.0.1", "port": "0",
                                                "batchSize": str(batch)})
    sink = FileRollSink.from_config("k1", {"sink.directory": str(out_dir),
                                           "sink.rollInterval": "0",
                                           # the kernel does not register its serializers yet
                                           "sink.serializer":
                                               "flume_sdk.components.serializers:TextSerializer",
                                           "sink.batchSize": str(batch)})
    source.set_channel_processor(ChannelProcessor(ChannelSelector([channel])))
    sink.set_channel(channel)
    for component in (channel, sink, source):
        component.start()
    stop = threading.Event()
    drainer = threading.Thread(target=_sink_loop, args=(sink, stop), daemon=True)
    drainer.start()
    cpu0, t0 = _cpu_seconds(), time.monotonic()
    sender = subprocess.Popen([sys.executable, "-c", _SENDER, str(data), str(source.ports[0])])
    deadline = t0 + 600
    while sink.counter.get("EventDrainSuccessCount") < count and time.monotonic() < deadline:
        time.sleep(0.005)
    elapsed, cpu = time.monotonic() - t0, _cpu_seconds() - cpu0
    sender.wait(30)
    stop.set()
    drainer.join(10)
    for component in (source, sink, channel):
        component.stop()
    return {
        "events_per_s": count / elapsed,
        "cpu_us_per_event": cpu / count * 1e6,
        "peak_rss_mib": _peak_rss_mib(),
        "all_arrived": _check(out_dir, count),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("3164", "5424", "both"), default="both")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args(argv)
    formats = ("3164", "5424") if args.format == "both" else (args.format,)
    with tempfile.TemporaryDirectory(prefix="bench-syslog-") as tmp:
        print("| receiver | format | events/s | CPU µs/event | peak RSS MiB | all arrived |")
        print("|---|---|---|---|---|---|")
        for fmt in formats:
            r = run(args.count, fmt, args.batch, Path(tmp))
            print(f"| flume-sdk syslogtcp -> memory -> file_roll (in-process) | {fmt} | "
                  f"{r['events_per_s']:,.0f} | {r['cpu_us_per_event']:.2f} | "
                  f"{r['peak_rss_mib']:.0f} | {r['all_arrived']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
