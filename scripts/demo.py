"""The README's demo: run a real agent process on local files, show what it delivered, stop it.

The demo agent (examples/demo.conf) reads a spooling directory into a memory
channel and rolls files into an output directory; ``${DEMO_DIR}`` in the
config comes from the environment, as in Flume.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "demo"


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    spool, out = WORK / "spool", WORK / "out"
    spool.mkdir(parents=True)
    out.mkdir()
    conf_path = ROOT / "examples" / "demo.conf"
    args = ["agent", "-n", "demo", "-f", str(conf_path.relative_to(ROOT)),
            "-Dflume.monitoring.type=http", "-Dflume.monitoring.host=127.0.0.1",
            "-Dflume.monitoring.port=0"]
    # A command a user can copy and run from the repository (Ctrl-C stops it).
    print("$", shlex.join([f"DEMO_DIR={WORK.relative_to(ROOT)}", ".venv/bin/flume-ng", *args]))
    agent = subprocess.Popen([sys.executable, "-m", "flume_sdk.cli", *args], cwd=ROOT,
                             env={**os.environ, "DEMO_DIR": str(WORK)})
    try:
        (spool / "access.log.tmp").write_text("".join(f"demo line {i}\n" for i in range(1000)))
        (spool / "access.log.tmp").rename(spool / "access.log")
        delivered = _wait_for_lines(out, 1000, timeout=30)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
    print(f"\ndelivered {delivered} of 1000 lines into {out}")
    for path in sorted(out.iterdir())[:3]:
        print(f"  {path.name}: {path.read_text().splitlines()[:2]} ...")
    print("spool directory now:", sorted(p.name for p in spool.iterdir()))
    return 0 if delivered == 1000 else 1


def _wait_for_lines(out: Path, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        count = sum(len(p.read_bytes().splitlines()) for p in out.iterdir() if p.is_file())
        if count >= expected:
            break
        time.sleep(0.2)
    return count


if __name__ == "__main__":
    raise SystemExit(main())
