"""Crash-torture driver: a seq source -> file channel -> file sink loop in one process.

Run as ``python torture_driver.py WORKDIR run|drain``.  ``acked.log`` gets a line per put
batch after its commit returned (what a source would acknowledge); ``delivered.log`` is
the file sink's output, written and flushed before each take commit.  The test kills
this process with SIGKILL at random moments and restarts it.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

from flume_channel_file import FileChannel

from flume_sdk import Event

__all__: list[str] = []

BATCH = 50


def _last_acked(path: Path) -> int:
    last = 0
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():  # a torn last line is ignored
                last = max(last, int(parts[1]))
    return last


def _channel(work: Path) -> FileChannel:
    return FileChannel.from_config(
        "torture",
        {
            "checkpointDir": str(work / "checkpoint"),
            "dataDirs": f"{work / 'data1'},{work / 'data2'}",
            "capacity": "100000",
            "transactionCapacity": "1000",
            "checkpointInterval": "20",
            "maxFileSize": "65536",
            "minimumRequiredSpace": "0",
            "keep-alive": "0",
        },
    )


def _put(channel: FileChannel, next_id: int, n: int, acked: object) -> int:
    batch = [Event(f"event-{i}".encode(), {"id": str(i)}) for i in range(next_id, next_id + n)]
    with channel.transaction() as tx:
        tx.put_batch(batch)
    acked.write(f"{next_id} {next_id + n - 1}\n")  # type: ignore[attr-defined]
    acked.flush()  # type: ignore[attr-defined]
    return next_id + n


def _take(channel: FileChannel, n: int, delivered: object) -> int:
    with channel.transaction() as tx:
        events = tx.take_batch(n)
        for event in events:
            assert event.body == f"event-{event.headers['id']}".encode()
        delivered.write("".join(f"{e.headers['id']}\n" for e in events))  # type: ignore[attr-defined]
        delivered.flush()  # type: ignore[attr-defined]
    return len(events)


def main(argv: list[str]) -> int:
    work, mode = Path(argv[0]), argv[1]
    channel = _channel(work)
    channel.start()
    next_id = _last_acked(work / "acked.log") + 1
    with open(work / "acked.log", "a") as acked, open(work / "delivered.log", "a") as delivered:
        print("ready", flush=True)
        if mode == "drain":
            while _take(channel, BATCH, delivered):
                pass
            channel.stop()
            return 0
        rng = random.Random(os.getpid())
        while True:
            if channel.size < 2000 and rng.random() < 0.55:
                next_id = _put(channel, next_id, rng.randint(1, BATCH), acked)
            else:
                _take(channel, rng.randint(1, BATCH), delivered)
            if rng.random() < 0.02:
                channel.checkpoint()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
