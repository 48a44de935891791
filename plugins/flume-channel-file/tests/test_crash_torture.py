"""Kill a seq -> file channel -> file sink process at random moments, hundreds of times.

The CI variant runs ``FLUME_TORTURE_ITERATIONS`` kills (default 150, about 70 s on 2 cores); set
it higher for a longer run.  At the end every acknowledged event must have been delivered,
and every duplicate must be explained by one unacknowledged put batch or one uncommitted
take batch per kill.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

DRIVER = Path(__file__).with_name("torture_driver.py")
ITERATIONS = int(os.environ.get("FLUME_TORTURE_ITERATIONS", "150"))
BATCH = 50


def _start(work: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), str(work), mode], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"driver did not start (exit {proc.poll()})"
    return proc


def _run_and_kill(work: Path, rng: random.Random) -> None:
    proc = _start(work, "run")
    try:
        proc.wait(timeout=rng.uniform(0.01, 0.3))
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    _close(proc)
    assert proc.returncode == -signal.SIGKILL, f"driver died on its own: {proc.returncode}"


def _close(proc: subprocess.Popen[str]) -> None:
    if proc.stdout is not None:
        proc.stdout.close()


def _acked_ids(work: Path) -> set[int]:
    ids: set[int] = set()
    for line in (work / "acked.log").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            ids.update(range(int(parts[0]), int(parts[1]) + 1))
    return ids


def _delivered(work: Path) -> Counter[int]:
    lines = (work / "delivered.log").read_text().splitlines()
    return Counter(int(x) for x in lines if x.isdigit())


def test_every_acknowledged_event_survives_hundreds_of_kill_9(tmp_path: Path) -> None:
    rng = random.Random(1234)
    for _ in range(ITERATIONS):
        _run_and_kill(tmp_path, rng)
    drain = _start(tmp_path, "drain")
    code = drain.wait(timeout=120)
    _close(drain)
    assert code == 0
    acked, delivered = _acked_ids(tmp_path), _delivered(tmp_path)
    assert len(acked) > ITERATIONS
    assert not acked - set(delivered), "acknowledged events were lost"
    duplicates = sum(n - 1 for n in delivered.values())
    assert duplicates <= ITERATIONS * 2 * BATCH
    assert max(delivered) <= max(acked) + BATCH
