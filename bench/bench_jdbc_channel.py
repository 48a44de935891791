"""The jdbc channel on SQLite and on PostgreSQL, beside the file channel in the same run.

One putter thread and one taker thread move 200-byte events (a 180-byte body and a
``timestamp`` header) through each channel at batch 100 and 1000, as a source and a sink
do in an agent. Every channel syncs each commit: the file channel ``fdatasync``s, SQLite
runs WAL with ``synchronous = FULL``, PostgreSQL (a private cluster started here, as the
tests start it) keeps ``fsync = on`` and ``synchronous_commit = on``. Rounds are
interleaved and the table shows medians.

    python bench/bench_jdbc_channel.py [--events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _harness import channel_throughput, peak_rss_mib
from flume_channel_file import FileChannel
from flume_channel_jdbc import JdbcChannel
from flume_testkit.servers.postgres import PostgresServer, running_postgres

from flume_sdk import Channel, Event

EVENT = Event(b"x" * 180, {"timestamp": "1700000000000"})


def _file(work: Path, batch: int) -> Channel:
    return FileChannel.from_config("bench", {
        "checkpointDir": str(work / "ck"), "dataDirs": str(work / "data"), "capacity": "2000000",
        "transactionCapacity": str(batch), "minimumRequiredSpace": "0", "keep-alive": "0.01"})


def _sqlite(work: Path, batch: int) -> Channel:
    return JdbcChannel.from_config("bench", {"db.type": "SQLITE",
                                             "driver.url": str(work / "bench.sqlite"),
                                             "transactionCapacity": str(batch)})


def one_round(server: PostgresServer, batch: int, total: int, round_no: int) -> dict[str, Any]:
    results = {}
    work = Path(tempfile.mkdtemp(prefix="bench-jdbc-"))
    try:
        results["file"] = channel_throughput(_file(work, batch), batch, total, EVENT)
        results["sqlite"] = channel_throughput(_sqlite(work, batch), batch, total, EVENT)
        url = server.create_database(f"bench_{batch}_{round_no}")
        pg = JdbcChannel.from_config("bench", {"db.type": "POSTGRESQL", "driver.url": url,
                                               "transactionCapacity": str(batch)})
        results["postgresql"] = channel_throughput(pg, batch, total, EVENT)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.events:,} events of 200 bytes per measurement, median of {args.rounds} "
          "interleaved rounds")
    print(f"{'channel':<34} {'events/s':>12} {'CPU us/event':>13} {'vs file':>8}")
    with running_postgres("bench-pg-") as server:
        for batch in (100, 1000):
            rounds = [one_round(server, batch, args.events, r) for r in range(args.rounds)]
            medians = {kind: {k: statistics.median(r[kind][k] for r in rounds)
                              for k in ("eps", "cpu_us")} for kind in rounds[0]}
            for kind, row in medians.items():
                print(f"{f'batch {batch}: {kind}':<34} {row['eps']:>12,.0f} "
                      f"{row['cpu_us']:>13.2f} {row['eps'] / medians['file']['eps']:>8.2f}")
    print(f"peak RSS: {peak_rss_mib():.1f} MiB (this process; PostgreSQL runs in its own)")


if __name__ == "__main__":
    main()
