"""The syslog race: one TCP connection of 200-byte lines into a file, three receivers side by side.

Usage::

    python bench/bench_syslog.py [--count 1000000] [--format 3164|5424|both]
                                 [--receivers flume,rsyslog,syslog-ng] [--batch 1000]
                                 [--repeat 3]

Receivers, each a private child process on 127.0.0.1 with its own config and directory:

* ``flume-sdk``: ``flume-ng agent`` with syslogtcp -> memory -> file_roll (text serializer).
* ``rsyslog``: ``rsyslogd -n`` with imtcp -> omfile (``flume_testkit.servers.syslog_peers``).
* ``syslog-ng``: network() -> file() with flow control and the tuned windows of
  perf-baselines §2.3 (RFC 5424 runs use ``flags(syslog-protocol)``).

The same sender feeds all three: a separate Python process that streams pre-generated lines
(each with a sequence number ``seq: NNNNNNNN``) in 256 KiB ``sendall`` calls, as in
perf-baselines §2.3. Reported per receiver and format: events/s (sender start until the
receiver's output file holds every line), the receiver process's CPU µs/event (utime+stime of
its ``/proc/<pid>/stat``, all threads), its peak RSS (``VmHWM``), and an all-arrived check
(every sequence number exactly once in the output). With ``--repeat N`` the receivers take
turns N times (round 1: all receivers, round 2: all again, ...) so that load from other work
on the machine falls on all of them alike, and a table of medians and ratios follows.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flume_testkit.servers._process import free_port, wait_until
from flume_testkit.servers.syslog_peers import (
    PeerUnavailableError,
    Rsyslog,
    SyslogNg,
)

__all__ = ["Result", "main", "make_lines"]

RECEIVERS = ("flume", "rsyslog", "syslog-ng")
_LINE_BYTES = 200
_DEADLINE_S = 600.0
_SEQ = re.compile(rb"seq: (\d{8})")

_SENDER = r"""
import socket, sys
path, port = sys.argv[1], int(sys.argv[2])
with open(path, "rb") as f, socket.create_connection(("127.0.0.1", port)) as s:
    while chunk := f.read(262144):
        s.sendall(chunk)
"""


@dataclass(frozen=True)
class Result:
    """One receiver's run."""

    receiver: str
    fmt: str
    events_per_s: float
    cpu_us_per_event: float
    peak_rss_mib: float
    all_arrived: bool
    note: str = ""


def make_lines(path: Path, count: int, fmt: str) -> None:
    """Write ``count`` 200-byte lines (199 + newline) with sequence numbers."""
    with path.open("wb") as out:
        for i in range(count):
            if fmt == "3164":
                head = b"<38>Nov 21 05:26:28 localhost prg00000[1234]: seq: %08d " % i
            else:
                head = (b"<38>1 2026-11-21T05:26:28.%06dZ localhost prg00000 1234 - - seq: %08d "
                        % (i % 1_000_000, i))
            out.write(head + b"x" * (_LINE_BYTES - 1 - len(head)) + b"\n")


# ----------------------------------------------------------------------------- /proc


def cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    """``VmHWM`` of process ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ----------------------------------------------------------------------------- output checks


class LineCounter:
    """Counts newlines in every file of a directory (or one file), reading only what is new."""

    def __init__(self, target: Path) -> None:
        self._target = target
        self._seen: dict[Path, int] = {}
        self._lines = 0

    def count(self) -> int:
        files = (sorted(self._target.iterdir()) if self._target.is_dir()
                 else [self._target] if self._target.exists() else [])
        for file in files:
            with file.open("rb") as f:
                f.seek(self._seen.get(file, 0))
                while chunk := f.read(1 << 22):
                    self._lines += chunk.count(b"\n")
                    self._seen[file] = self._seen.get(file, 0) + len(chunk)
        return self._lines


def all_arrived(target: Path, count: int) -> bool:
    """Every sequence number below ``count`` exactly once, and nothing else with one."""
    seen = bytearray(count)
    total = 0
    files = sorted(target.iterdir()) if target.is_dir() else [target]
    for file in files:
        data = file.read_bytes()
        for match in _SEQ.finditer(data):
            seq = int(match[1])
            if seq >= count or seen[seq]:
                return False
            seen[seq] = 1
            total += 1
    return total == count


# ----------------------------------------------------------------------------- receivers


@dataclass
class Running:
    """A started receiver: where it listens, its pid, where its output goes."""

    port: int
    pid: int
    output: Path
    stop: Callable[[], None]


@contextmanager
def flume_receiver(work: Path, fmt: str, batch: int) -> Iterator[Running]:
    """``flume-ng agent``: syslogtcp -> memory -> file_roll, as a child process."""
    port = free_port()
    out_dir = work / "out"
    conf = work / "agent.properties"
    conf.write_text("\n".join([
        "a.sources = r1", "a.channels = c1", "a.sinks = k1",
        "a.sources.r1.type = syslogtcp", "a.sources.r1.host = 127.0.0.1",
        f"a.sources.r1.port = {port}", f"a.sources.r1.batchSize = {batch}",
        "a.sources.r1.channels = c1",
        "a.channels.c1.type = memory", "a.channels.c1.capacity = 20000",
        f"a.channels.c1.transactionCapacity = {batch}",
        "a.sinks.k1.type = file_roll", "a.sinks.k1.channel = c1",
        f"a.sinks.k1.sink.directory = {out_dir}", "a.sinks.k1.sink.rollInterval = 0",
        "a.sinks.k1.sink.serializer = text", f"a.sinks.k1.sink.batchSize = {batch}",
    ]) + "\n")
    log = (work / "agent.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "flume_sdk.cli", "agent", "-n", "a", "-f", str(conf),
         "--no-reload-conf"], stdout=log, stderr=subprocess.STDOUT)

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        log.close()

    try:
        wait_until(lambda: _accepts(port, proc), timeout=60, interval=0.05,
                   what=f"flume agent listening on {port}")
        yield Running(port, proc.pid, out_dir, stop)
    finally:
        stop()


def _accepts(port: int, proc: subprocess.Popen[bytes]) -> bool:
    import socket

    if proc.poll() is not None:
        msg = f"flume agent exited early with {proc.returncode}; see its agent.log"
        raise RuntimeError(msg)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def rsyslog_receiver(work: Path, fmt: str, batch: int) -> Iterator[Running]:
    """rsyslogd: imtcp -> omfile (Debian's traditional file format)."""
    peer = Rsyslog.receiver(work).start()
    try:
        assert peer.pid is not None and peer.output is not None
        yield Running(peer.port, peer.pid, peer.output, peer.stop)
    finally:
        peer.stop()


@contextmanager
def syslog_ng_receiver(work: Path, fmt: str, batch: int) -> Iterator[Running]:
    """syslog-ng: network() -> file(), flow control, tuned windows."""
    peer = SyslogNg(work, tuned=True, rfc5424=fmt == "5424").start()
    try:
        assert peer.pid is not None and peer.output is not None
        yield Running(peer.port, peer.pid, peer.output, peer.stop)
    finally:
        peer.stop()


_STARTERS = {"flume": flume_receiver, "rsyslog": rsyslog_receiver,
             "syslog-ng": syslog_ng_receiver}
_LABELS = {"flume": "flume-sdk syslogtcp -> memory -> file_roll",
           "rsyslog": "rsyslog imtcp -> omfile",
           "syslog-ng": "syslog-ng network() -> file(), flow-control"}


# ----------------------------------------------------------------------------- one run


def run(receiver: str, fmt: str, count: int, batch: int, data: Path, work: Path) -> Result:
    """Start ``receiver``, send ``data`` over one connection, wait for every line in its file."""
    work.mkdir(parents=True)
    with _STARTERS[receiver](work, fmt, batch) as target:
        counter = LineCounter(target.output)
        cpu0, t0 = cpu_seconds(target.pid), time.monotonic()
        sender = subprocess.Popen([sys.executable, "-c", _SENDER, str(data), str(target.port)])
        try:
            wait_until(lambda: counter.count() >= count, timeout=_DEADLINE_S, interval=0.01,
                       what=f"{count} lines from {receiver}")
            elapsed = time.monotonic() - t0
            cpu = cpu_seconds(target.pid) - cpu0
            rss = peak_rss_mib(target.pid)
        finally:
            sender.wait(60)
        target.stop()
    return Result(_LABELS[receiver], fmt, count / elapsed, cpu / count * 1e6, rss,
                  all_arrived(target.output, count))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("3164", "5424", "both"), default="both")
    parser.add_argument("--receivers", default=",".join(RECEIVERS),
                        help=f"comma-separated subset of {', '.join(RECEIVERS)}")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds; each runs every receiver once per format, interleaved")
    args = parser.parse_args(argv)
    formats = ("3164", "5424") if args.format == "both" else (args.format,)
    receivers = [r.strip() for r in args.receivers.split(",") if r.strip()]
    unknown = [r for r in receivers if r not in RECEIVERS]
    if unknown:
        parser.error(f"unknown receiver(s) {unknown}; choose from {', '.join(RECEIVERS)}")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-syslog-") as tmp:
        print(f"{args.count:,} x {_LINE_BYTES}-byte lines, one TCP connection, "
              f"{os.cpu_count()} CPUs, {args.repeat} round(s)")
        print("| round | receiver | format | events/s | CPU µs/event | peak RSS MiB | all arrived |")
        print("|---|---|---|---|---|---|---|")
        for fmt in formats:
            make_lines(Path(tmp) / f"lines-{fmt}.txt", args.count, fmt)
        for round_ in range(1, args.repeat + 1):
            for fmt in formats:
                for receiver in receivers:
                    work = Path(tmp) / f"{receiver}-{fmt}-{round_}"
                    try:
                        r = run(receiver, fmt, args.count, args.batch,
                                Path(tmp) / f"lines-{fmt}.txt", work)
                    except PeerUnavailableError as exc:
                        print(f"| {round_} | {_LABELS[receiver]} | {fmt} | skipped: {exc} "
                              "| | | |", flush=True)
                        continue
                    results.append(r)
                    print(f"| {round_} | {r.receiver} | {fmt} | {r.events_per_s:,.0f} | "
                          f"{r.cpu_us_per_event:.2f} | {r.peak_rss_mib:.0f} | "
                          f"{r.all_arrived} |", flush=True)
                    shutil.rmtree(work, ignore_errors=True)
    if args.repeat > 1:
        print_medians(results, formats)
    return 0


def print_medians(results: list[Result], formats: tuple[str, ...]) -> None:
    """Median events/s per receiver and format, and flume-sdk's ratio to each peer."""
    print("\nMedians (flume-sdk / peer: ratio of the medians; per round: min..max)")
    print("| format | receiver | median events/s | median CPU µs/event | flume-sdk / it |")
    print("|---|---|---|---|---|")
    for fmt in formats:
        ours = [r for r in results if r.fmt == fmt and r.receiver == _LABELS["flume"]]
        for label in _LABELS.values():
            runs = [r for r in results if r.fmt == fmt and r.receiver == label]
            if not runs:
                continue
            rate = statistics.median(r.events_per_s for r in runs)
            cpu = statistics.median(r.cpu_us_per_event for r in runs)
            ratio = ""
            if ours and label != _LABELS["flume"] and len(ours) == len(runs):
                per_round = [o.events_per_s / r.events_per_s for o, r in zip(ours, runs, strict=True)]
                median = statistics.median(o.events_per_s for o in ours) / rate
                ratio = f"{median:.2f} ({min(per_round):.2f}..{max(per_round):.2f})"
            print(f"| {fmt} | {label} | {rate:,.0f} | {cpu:.2f} | {ratio} |")


if __name__ == "__main__":
    raise SystemExit(main())
