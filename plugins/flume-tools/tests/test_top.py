"""``flume-ng top`` through a pseudo-terminal against real agents: rates, fill, keys, quitting."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flume_testkit.servers import FlumeAgentProcess, trickle_config

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>78]")
_STATUS = "flume-ng top ·"


class Terminal:
    """``flume-ng top`` on a 40x170 pseudo-terminal that is its controlling terminal."""

    def __init__(self, *args: str) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 170, 0, 0))

        def controlling_terminal() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flume_sdk.cli", "top", *args], stdin=slave, stdout=slave,
            stderr=slave, env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "170", "LINES": "40"},
            preexec_fn=controlling_terminal)
        os.close(slave)
        self.raw = b""

    def _pump(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.raw += os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                time.sleep(timeout)

    def frames(self) -> list[str]:
        text = _ANSI.sub(b"", self.raw).decode(errors="replace")
        return [_STATUS + f for f in text.split(_STATUS)[1:]]

    def wait_frame(self, check: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        """The first complete frame (status line to key line) after now that passes ``check``."""
        seen = len(self.frames())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._pump(0.1)
            for frame in self.frames()[max(seen - 1, 0):]:
                if ("q quit" in frame or "filter:" in frame) and check(frame):
                    return frame
        last = self.frames()[-1:] or [_ANSI.sub(b"", self.raw[-3000:]).decode(errors="replace")]
        msg = f"no frame where {what} within {timeout}s; last:\n{last[0]}"
        raise AssertionError(msg)

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_exit(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._pump(0.1)
        return self.proc.wait(timeout=1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self.master)


def rows(frame: str, name: str) -> list[list[str]]:
    """The table cells of the rows whose COMPONENT is ``name``."""
    out = []
    for line in frame.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line)]
        if len(cells) > 3 and cells[2] == name:
            out.append(cells[1:])
    return out


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[list[FlumeAgentProcess]]:
    started = []
    for name, monitoring in (("east", "http"), ("west", "prometheus")):
        conf = tmp_path / f"{name}.conf"
        conf.write_text(trickle_config(name))
        agent = FlumeAgentProcess(name, conf, tmp_path, monitoring=monitoring)
        started.append(agent)
        agent.start_and_wait()
    yield started
    for agent in started:
        agent.stop()


@pytest.fixture
def terminal(agents: list[FlumeAgentProcess]) -> Iterator[Terminal]:
    term = Terminal(*(a.url for a in agents), "--interval", "0.5")
    yield term
    term.close()


def _flowing(frame: str) -> bool:
    sinks = rows(frame, "SINK.k1")
    return len(sinks) == 2 and all(float(r[3].replace(",", "")) > 0 for r in sinks)


def test_shows_rates_fill_and_health_of_every_agent_and_quits_on_q(
        agents: list[FlumeAgentProcess], terminal: Terminal) -> None:
    frame = terminal.wait_frame(_flowing, "both sinks deliver events")
    assert "2 agents" in frame
    channels = rows(frame, "CHANNEL.c1")
    assert {r[0] for r in channels} == {a.url.removeprefix("http://") for a in agents}
    assert all("/1000" in r[5] and "%" in r[5] for r in channels)
    assert all(r[8] == "ok" for r in rows(frame, "SOURCE.r1"))
    terminal.press("q")
    assert terminal.wait_exit() == 0
    assert b"\x1b[?1049l" in terminal.raw  # left the alternate screen: the terminal is restored


def test_keys_sort_filter_by_kind_and_text(agents: list[FlumeAgentProcess], terminal: Terminal) -> None:
    terminal.wait_frame(_flowing, "both sinks deliver events")
    terminal.press("kk")
    frame = terminal.wait_frame(lambda f: "kind CHANNEL" in f, "the kind filter is CHANNEL")
    assert rows(frame, "CHANNEL.c1")
    assert not rows(frame, "SINK.k1")
    assert not rows(frame, "SOURCE.r1")
    west = agents[1].url.removeprefix("http://")
    terminal.press("k")  # back to all kinds
    terminal.press("/" + west.split(":")[1])
    terminal.wait_frame(lambda f: f"filter: {west.split(':')[1]}" in f, "the typed filter is shown")
    terminal.press("\r")
    frame = terminal.wait_frame(lambda f: "filter '" in f, "the text filter applies")
    assert {r[0] for r in rows(frame, "SINK.k1")} == {west}
    terminal.press("s")
    frame = terminal.wait_frame(lambda f: "sort in/s ↓" in f, "sorting by in/s")
    rates = [float(cells[3].replace(",", "")) for line in frame.splitlines()
             if len(cells := [c.strip() for c in re.split(r"[│┃]", line)]) > 3 and cells[1] == west]
    assert rates == sorted(rates, reverse=True)
    terminal.press("q")
    assert terminal.wait_exit() == 0


def test_ctrl_c_exits_cleanly(agents: list[FlumeAgentProcess], terminal: Terminal) -> None:
    terminal.wait_frame(lambda f: "SINK.k1" in f, "the first frame")
    terminal.press("\x03")
    assert terminal.wait_exit() == 0
    assert b"Traceback" not in terminal.raw


def test_an_unreachable_agent_is_a_row_and_the_others_keep_updating(
        agents: list[FlumeAgentProcess]) -> None:
    term = Terminal(agents[0].url, "http://127.0.0.1:9", "--interval", "0.5")
    try:
        frame = term.wait_frame(lambda f: "unreachable" in f and bool(rows(f, "SINK.k1")),
                                "one agent is unreachable, the other shown")
        assert "Connection refused" in frame
        os.kill(term.proc.pid, signal.SIGINT)
        assert term.wait_exit() == 0
    finally:
        term.close()


def test_once_prints_one_view_without_a_terminal(agents: list[FlumeAgentProcess]) -> None:
    done = subprocess.run([sys.executable, "-m", "flume_sdk.cli", "top", agents[0].url, "--once",
                           "--interval", "0.5"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "150"}, check=False)
    assert done.returncode == 0, done.stderr
    assert "SINK.k1" in done.stdout
    assert "CHANNEL.c1" in done.stdout
