"""Benchmark of the durable file channel (not a timed test).

Prints one table: put+take throughput with fsync per transaction at batch 100 and 1000
(one source thread putting, one sink thread taking, as in an agent), CPU microseconds per
event, peak RSS, the disk's own write+fdatasync rate measured in the same run, and the
restart time with 1,000,000 queued events, with and without a recent checkpoint.

Each measurement runs in its own child process so peak RSS is per measurement.
Events are 200 bytes: a 180-byte body plus a ``timestamp`` header.

    python bench/bench_file_channel.py [--dir DIR] [--events N] [--replay-events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__: list[str] = []

BODY = b"x" * 180
HEADERS = {"timestamp": "1700000000000"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_sync_rate(work: Path, batch: int, seconds: float = 1.5) -> dict[str, Any]:
    """Append ``batch`` x 200 B then fdatasync, as fast as possible, on a preallocated file."""
    path = work / "disk-probe"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    chunk = b"d" * (200 * batch)
    os.posix_fallocate(fd, 0, 256 << 20)
    syncs, offset = 0, 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        os.pwrite(fd, chunk, offset)
        offset = (offset + len(chunk)) % (250 << 20)
        os.fdatasync(fd)
        syncs += 1
    elapsed = time.perf_counter() - start
    os.close(fd)
    path.unlink()
    return {"syncs_per_s": syncs / elapsed}


def _channel(work: Path, **extra: str) -> Any:
    from flume_channel_file import FileChannel

    props = {"checkpointDir": str(work / "ck"), "dataDirs": str(work / "data"),
             "capacity": "2000000", "transactionCapacity": "1000",
             "minimumRequiredSpace": "0", "checkpointInterval": "30000", **extra}
    return FileChannel.from_config("bench", props)


def throughput(work: Path, batch: int, total: int) -> dict[str, Any]:
    """One putter thread and one taker thread move ``total`` events through the channel."""
    from flume_sdk import Event

    channel = _channel(work, **{"keep-alive": "1"})
    channel.start()
    events = [Event(BODY, dict(HEADERS)) for _ in range(batch)]
    done = threading.Event()
    taken = [0]

    def putter() -> None:
        for _ in range(total // batch):
            with channel.transaction() as tx:
                tx.put_batch(events)

    def taker() -> None:
        while taken[0] < total:
            with channel.transaction() as tx:
                taken[0] += len(tx.take_batch(batch))
        done.set()

    cpu0, t0 = _cpu(), time.perf_counter()
    threads = [threading.Thread(target=putter), threading.Thread(target=taker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, cpu = time.perf_counter() - t0, _cpu() - cpu0
    stats = channel.engine.group_commit
    commits_per_sync = stats.commits / max(stats.syncs, 1)
    channel.stop()
    return {"events_per_s": total / elapsed, "cpu_us_per_event": cpu / total * 1e6,
            "peak_rss_mib": _peak_rss_mib(), "commits_per_sync": commits_per_sync}


def fill(work: Path, count: int) -> dict[str, Any]:
    """Put ``count`` events, checkpoint, put 1% more, then crash (no close)."""
    from flume_channel_file._log import Log
    from flume_channel_file._log_config import LogConfig

    from flume_sdk import Event

    config = LogConfig(checkpoint_dir=work / "ck", data_dirs=(work / "data",),
                       minimum_required_space=0, capacity=count * 2)
    log: Log[Event] = Log(config, Event)
    log.open()
    batch = [Event(BODY, dict(HEADERS)) for _ in range(1000)]
    for _ in range(count // 1000):
        log.put(batch)
    log.checkpoint()
    for _ in range(max(count // 100_000, 1)):
        log.put(batch)
    log.abandon()
    return {}


def restart(work: Path) -> dict[str, Any]:
    """Open the channel left by :func:`fill` and report the replay."""
    from flume_channel_file._log import Log
    from flume_channel_file._log_config import LogConfig

    from flume_sdk import Event

    config = LogConfig(checkpoint_dir=work / "ck", data_dirs=(work / "data",),
                       minimum_required_space=0, capacity=10_000_000)
    log: Log[Event] = Log(config, Event)
    t0 = time.perf_counter()
    report = log.open()
    elapsed = time.perf_counter() - t0
    log.abandon()
    return {"seconds": elapsed, "events": report.events, "from_checkpoint": report.from_checkpoint,
            "peak_rss_mib": _peak_rss_mib()}


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_child(argv: list[str]) -> None:
    kind, work = argv[0], Path(argv[1])
    if kind == "throughput":
        result = throughput(work, int(argv[2]), int(argv[3]))
    elif kind == "disk":
        result = disk_sync_rate(work, int(argv[2]))
    elif kind == "fill":
        result = fill(work, int(argv[2]))
    else:
        result = restart(work)
    print(json.dumps(result))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _run_child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="scratch directory (same disk)")
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--replay-events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-fc-", dir=args.dir))
    try:
        _report(base, args.events, args.replay_events, args.rounds)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _fresh(base: Path, name: str) -> Path:
    work = base / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    return work


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _report(base: Path, events: int, replay_events: int, rounds: int) -> None:
    # Disk probe and channel run back to back, ROUNDS times, so a neighbour's load hits
    # both sides of each ratio; the table shows medians over the rounds.
    results: dict[int, list[tuple[dict[str, Any], dict[str, Any]]]] = {100: [], 1000: []}
    for _ in range(rounds):
        for batch in (100, 1000):
            disk = _child(["disk", str(_fresh(base, f"disk{batch}")), str(batch)])
            total = events if batch == 1000 else events // 2
            tp = _child(["throughput", str(_fresh(base, f"tp{batch}")), str(batch), str(total)])
            results[batch].append((disk, tp))
    print(f"medians of {rounds} rounds; ceiling = batch x disk syncs/s / 2 (one sync per put "
          "commit and one per take commit)")
    print(f"{'put+take, fsync per tx':24} {'disk syncs/s':>12} {'ceiling ev/s':>13} "
          f"{'channel ev/s':>13} {'% ceiling':>9} {'commits/sync':>12} {'CPU us/ev':>9} "
          f"{'RSS MiB':>7}")
    for batch, runs in results.items():
        syncs = _median([d["syncs_per_s"] for d, _ in runs])
        ratio = _median([100 * t["events_per_s"] / (batch * d["syncs_per_s"] / 2)
                         for d, t in runs])
        print(f"{f'batch {batch}':24} {syncs:>12,.0f} {batch * syncs / 2:>13,.0f} "
              f"{_median([t['events_per_s'] for _, t in runs]):>13,.0f} {ratio:>8.0f}% "
              f"{_median([t['commits_per_sync'] for _, t in runs]):>12.2f} "
              f"{_median([t['cpu_us_per_event'] for _, t in runs]):>9.2f} "
              f"{max(t['peak_rss_mib'] for _, t in runs):>7.0f}")
    print()
    print(f"{'restart':44} {'value':>14}  notes")
    work = _fresh(base, "replay")
    _child(["fill", str(work), str(replay_events)])
    warm = _child(["restart", str(work)])
    label = f"restart, {warm['events']:,} events, recent checkpoint"
    print(f"{label:44} "
          f"{warm['seconds']:>12.2f} s  peak RSS {warm['peak_rss_mib']:.0f} MiB")
    work = _fresh(base, "replay-full")
    _child(["fill", str(work), str(replay_events)])
    for slot in (work / "ck").glob("checkpoint.*"):
        slot.unlink()
    full = _child(["restart", str(work)])
    label = f"restart, {full['events']:,} events, no checkpoint"
    print(f"{label:44} "
          f"{full['seconds']:>12.2f} s  peak RSS {full['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
