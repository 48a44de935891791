"""Kill a real agent (seq source -> file channel -> file_roll sink) hundreds of times.

Each run starts ``flume-ng agent`` with a config of its own: the ``seq`` source (counting
from 0 again in every run) gets a ``static`` interceptor header ``run=<n>``, the
``file_roll`` sink writes ``header_and_text`` lines into a directory of that run.  The
run is SIGKILLed after a random delay, or as soon as a checkpoint is being written
(``checkpointInterval`` is 50 ms); then ``check_channel`` (the code behind ``flume-ng
channel check --events``) records what the channel holds, and the next run starts on the
same directories.  A last run drains the channel and stops cleanly.

Proved at the end:

- per run, the delivered sequence numbers are exactly ``0..m-1`` (a contiguous prefix:
  no committed batch missing, no uncommitted put half-visible);
- nothing committed is lost: every event the source had acknowledged (its
  ``EventAcceptedCount``, read over the monitoring port before the kill) and every event
  the channel held after a kill was delivered;
- duplicates only come from the last uncommitted take batch: what a run writes again is
  a prefix of its output, at most one sink batch long, and the same events, in the same
  order, that ended the output before it.

``FLUME_TORTURE_KILLS`` sets the number of kills (default 120, about 1.5 minutes on two
cores); e.g. ``FLUME_TORTURE_KILLS=1000`` for a long run.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

import attrs
import pytest
from flume_channel_file import check_channel
from flume_testkit import wait_until

KILLS = int(os.environ.get("FLUME_TORTURE_KILLS", "120"))
SINK_BATCH = 100
FLUME_NG = Path(sys.executable).with_name("flume-ng")
_PORT = re.compile(r"monitoring (?:\(\w+\) )?on http://127\.0\.0\.1:(\d+)/metrics")
_LINE = re.compile(r"\{run=(\d+)\} (\d+)")

Key = tuple[int, int]  # (run, sequence number)


@attrs.define
class Torture:
    """The runs so far and what each kill left behind."""

    work: Path
    rng: random.Random
    acked: dict[int, int] = attrs.Factory(dict)
    held: set[Key] = attrs.Factory(set)
    mid_checkpoint_kills: int = 0
    backlog: list[int] = attrs.Factory(list)

    @property
    def dirs(self) -> list[Path]:
        return [self.work / "ck", self.work / "d1", self.work / "d2"]

    def config(self, run: int, total_events: int, source_batch: int) -> Path:
        path = self.work / "conf" / f"run-{run}.properties"
        path.parent.mkdir(exist_ok=True)
        ck, d1, d2 = self.dirs
        path.write_text(f"""
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.batchSize = {source_batch}
a1.sources.r1.totalEvents = {total_events}
a1.sources.r1.channels = c1
a1.sources.r1.interceptors = i1
a1.sources.r1.interceptors.i1.type = static
a1.sources.r1.interceptors.i1.key = run
a1.sources.r1.interceptors.i1.value = {run}
a1.channels.c1.type = file
a1.channels.c1.checkpointDir = {ck}
a1.channels.c1.dataDirs = {d1},{d2}
a1.channels.c1.checkpointInterval = 50
a1.channels.c1.maxFileSize = 65536
a1.channels.c1.minimumRequiredSpace = 0
a1.channels.c1.keep-alive = 1
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = {self.work / "out" / str(run)}
a1.sinks.k1.sink.serializer = header_and_text
a1.sinks.k1.sink.batchSize = {SINK_BATCH}
""")
        return path

    def start(self, run: int, total_events: int) -> tuple[subprocess.Popen[bytes], int]:
        conf = self.config(run, total_events, self.rng.randint(1, 200))
        log = self.work / "logs" / f"run-{run}.log"
        log.parent.mkdir(exist_ok=True)
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                [str(FLUME_NG), "agent", "-n", "a1", "-f", str(conf), "--no-reload-conf",
                 "-Dflume.monitoring.type=http", "-Dflume.monitoring.host=127.0.0.1",
                 "-Dflume.monitoring.port=0"],
                stdout=subprocess.DEVNULL, stderr=err)
        ports: list[int] = []

        def listening() -> bool:
            assert proc.poll() is None, f"agent run {run} exited: {log.read_text()[-2000:]}"
            found = _PORT.search(log.read_text())
            if found:
                ports.append(int(found.group(1)))
            return bool(found)

        wait_until(listening, timeout=60, interval=0.01, what=f"agent run {run} started")
        return proc, ports[0]

    def run_and_kill(self, run: int) -> None:
        proc, port = self.start(run, self.rng.randint(0, 20_000))
        try:
            if self.rng.random() < 0.25:
                self._kill_mid_checkpoint(proc, run, port)
            else:
                self._kill_after(proc, run, port, self.rng.uniform(0.0, 0.4))
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, f"agent run {run} died on its own"
        if any(self.dirs[0].glob("*.tmp")):
            self.mid_checkpoint_kills += 1
        self._record_channel(run)

    def _kill_after(self, proc: subprocess.Popen[bytes], run: int, port: int,
                    delay: float) -> None:
        # Read the source's acknowledged count until the kill: a lower bound of what was
        # committed, seen from outside the channel.
        polls = max(int(delay / 0.03), 1)
        for _ in range(polls):
            self._read_acked(run, port)
            try:
                proc.wait(timeout=delay / polls)
            except subprocess.TimeoutExpired:
                continue
        proc.send_signal(signal.SIGKILL)

    def _kill_mid_checkpoint(self, proc: subprocess.Popen[bytes], run: int, port: int) -> None:
        self._read_acked(run, port)
        ck = self.dirs[0]
        for _ in range(20_000):  # bounded: about a second of polling
            if any(name.endswith(".tmp") for name in os.listdir(ck)):
                break
        proc.send_signal(signal.SIGKILL)

    def _read_acked(self, run: int, port: int) -> None:
        url = f"http://127.0.0.1:{port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                metrics = json.load(response)
        except OSError:
            return  # the agent is busy; the previous reading stands
        accepted = int(metrics["SOURCE.r1"]["EventAcceptedCount"])
        self.acked[run] = max(self.acked.get(run, 0), accepted)

    def _record_channel(self, run: int) -> None:
        report = check_channel(self.dirs, list_events=True)
        lost = [d.describe() for d in report.damage if d.lost_events]
        assert not lost, f"after killing run {run}: {lost}"
        assert report.events is not None
        self.backlog.append(len(report.events))
        self.held.update((int(h["run"]), int(b)) for h, b in report.events)
        if run % 20 == 0:  # the command line tool on a freshly killed channel, now and then
            out = subprocess.run(
                [str(FLUME_NG), "channel", "check", "--events",
                 *(f"--dir={d}" for d in self.dirs)],
                capture_output=True, text=True, timeout=60, check=False)
            listed = [ln for ln in out.stdout.splitlines() if _LINE.fullmatch(ln)]
            assert len(listed) == len(report.events), out.stdout[-2000:]

    def drain(self, run: int) -> None:
        proc, port = self.start(run, 0)

        def empty() -> bool:
            url = f"http://127.0.0.1:{port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)["CHANNEL.c1"]["ChannelSize"] == "0"

        try:
            wait_until(empty, timeout=120, what="the drain run empties the channel")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        assert check_channel(self.dirs).queued_events == 0

    def outputs(self, runs: int) -> list[list[Key]]:
        """Each run's delivered events in file order; a torn last line is dropped."""
        result: list[list[Key]] = []
        for run in range(runs):
            directory = self.work / "out" / str(run)
            files = sorted(directory.iterdir(), key=lambda p: int(p.name.rsplit("-", 1)[1])) \
                if directory.is_dir() else []
            lines: list[str] = []
            for i, path in enumerate(files):
                text = path.read_text()
                complete, _, torn = text.rpartition("\n")
                assert not torn or i == len(files) - 1, f"torn line inside {path}"
                lines.extend(complete.splitlines())
            keys = []
            for line in lines:
                match = _LINE.fullmatch(line)
                assert match, f"run {run} wrote an unexpected line: {line!r}"
                keys.append((int(match.group(1)), int(match.group(2))))
            result.append(keys)
        return result


def _check_no_loss(torture: Torture, delivered: Counter[Key]) -> None:
    per_run: dict[int, set[int]] = {}
    for run, seq in delivered:
        per_run.setdefault(run, set()).add(seq)
    for run, seqs in per_run.items():
        gaps = sorted(set(range(max(seqs) + 1)) - seqs)
        assert not gaps, f"run {run}: sequence numbers missing before {max(seqs)}: {gaps[:10]}"
    for run, acked in torture.acked.items():
        got = len(per_run.get(run, ()))
        assert got >= acked, f"run {run}: source acknowledged {acked}, delivered {got}"
    missing = sorted(torture.held - set(delivered))
    assert not missing, f"held by the channel after a kill, never delivered: {missing[:10]}"


def _check_duplicates(outputs: list[list[Key]], kills: int) -> int:
    earlier: list[Key] = []
    seen: set[Key] = set()
    duplicates = 0
    for run, out in enumerate(outputs):
        again = [key for key in out if key in seen]
        assert out[: len(again)] == again, f"run {run}: a re-delivery not at its start"
        assert len(again) <= SINK_BATCH, f"run {run}: {len(again)} re-delivered > one batch"
        assert not again or earlier[-len(again):] == again, \
            f"run {run}: re-delivered events are not the end of the output before"
        duplicates += len(again)
        seen.update(out)
        earlier.extend(out)
    assert duplicates <= kills * SINK_BATCH
    return duplicates


@pytest.mark.timeout(max(300, KILLS * 2))  # the long variant outlives the suite's 300 s
def test_killing_a_real_agent_hundreds_of_times_loses_nothing_committed(tmp_path: Path) -> None:
    torture = Torture(tmp_path, random.Random(20_261_121))
    for run in range(KILLS):
        torture.run_and_kill(run)
    torture.drain(KILLS)
    outputs = torture.outputs(KILLS + 1)
    delivered = Counter(key for out in outputs for key in out)
    _check_no_loss(torture, delivered)
    duplicates = _check_duplicates(outputs, KILLS)
    assert sum(torture.acked.values()) > KILLS * 100, "the source hardly ran; the test proves little"
    print(f"\n{KILLS} kills ({torture.mid_checkpoint_kills} mid-checkpoint), "
          f"{len(delivered)} events delivered, {duplicates} re-delivered, "
          f"{sum(torture.acked.values())} acknowledged before a kill, "
          f"most held after a kill {max(torture.backlog)}")
