"""``flume-ng top URL [URL...]``: a live view of running agents, drawn with rich.

Each URL is an agent's monitoring address (``-Dflume.monitoring.type=http`` or
``prometheus``; Flume's own agents work too). Per component: events per second
in and out, the total delivered, channel fill with a bar, errors (and their
rate), connections and health from ``/health``. The table refreshes in place
every ``--interval`` seconds. Keys (no mouse, fine over SSH)::

    s  next sort column        r  reverse the sort
    k  next kind (all, sources, channels, sinks)
    e  only rows with errors or failing health
    /  filter by text (Enter applies, Esc clears)
    q  quit (Ctrl-C too)

Without a terminal on stdin, or with ``--once``, it prints one view (rates
over one interval) and exits.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import termios
import time
import tty
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich.bar import Bar
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from flume_tools.sampling import AgentSample, ComponentRow, rows_between, sample

__all__ = ["ViewState", "main", "render"]

SORTS: dict[str, Callable[[ComponentRow], object]] = {
    "component": lambda r: (r.agent, r.kind != "SOURCE", r.kind != "CHANNEL", r.name),
    "in/s": lambda r: r.rate_in,
    "out/s": lambda r: r.rate_out,
    "fill": lambda r: r.fill if r.fill is not None else -1.0,
    "errors": lambda r: (r.health != "ok", r.errors),
}
KINDS = ("all", "SOURCE", "CHANNEL", "SINK")
_KEYS = "s sort · r reverse · k kind · e errors only · / filter · q quit"


@dataclass
class ViewState:
    """What the keys change: sort column and order, kind and text filters."""

    sort: str = "component"
    reverse: bool = False
    kind: str = "all"
    text: str = ""
    errors_only: bool = False
    typing: str | None = None

    def press(self, key: str) -> bool:
        """Apply one key; return ``False`` when it asks to quit."""
        if self.typing is not None:
            return self._type(key)
        if key in ("q", "Q", "\x03"):
            return False
        if key == "s":
            names = list(SORTS)
            self.sort = names[(names.index(self.sort) + 1) % len(names)]
            self.reverse = self.sort != "component"
        elif key == "r":
            self.reverse = not self.reverse
        elif key == "k":
            self.kind = KINDS[(KINDS.index(self.kind) + 1) % len(KINDS)]
        elif key == "e":
            self.errors_only = not self.errors_only
        elif key == "/":
            self.typing = ""
        return True

    def _type(self, key: str) -> bool:
        assert self.typing is not None
        if key in ("\r", "\n"):
            self.text, self.typing = self.typing, None
        elif key == "\x1b":
            self.text, self.typing = "", None
        elif key in ("\x7f", "\b"):
            self.typing = self.typing[:-1]
        elif key.isprintable():
            self.typing += key
        return True

    def select(self, rows: list[ComponentRow]) -> list[ComponentRow]:
        shown = [r for r in rows if self.kind in ("all", r.kind) or r.kind == "AGENT"]
        if self.text:
            shown = [r for r in shown if self.text.lower() in f"{r.agent} {r.key}".lower()]
        if self.errors_only:
            shown = [r for r in shown if r.errors or r.health != "ok"]
        return sorted(shown, key=SORTS[self.sort], reverse=self.reverse)  # type: ignore[arg-type]


def _rate(value: float) -> str:
    return f"{value:,.1f}" if value else "0"


def _fill(row: ComponentRow) -> RenderableType:
    if row.fill is None:
        return ""
    grid = Table.grid()
    colour = "red" if row.fill >= 80 else "yellow" if row.fill >= 50 else "green"
    grid.add_row(Bar(100, 0, row.fill, width=10, color=colour), Text(f" {row.fill:3.0f}% {row.size}"))
    return grid


def _errors(row: ComponentRow) -> Text:
    if not row.errors:
        return Text("0", style="dim")
    rate = f" (+{row.error_rate:.1f}/s)" if row.error_rate else ""
    return Text(f"{row.errors}{rate}", style="bold red")


def render(rows: list[ComponentRow], state: ViewState, interval: float, agents: int) -> RenderableType:
    """The whole screen: a status line, the table, the keys."""
    shown = state.select(rows)
    table = Table(expand=True, header_style="bold", pad_edge=False)
    for name, justify in (("AGENT", "left"), ("COMPONENT", "left"), ("IN/s", "right"),
                          ("OUT/s", "right"), ("TOTAL", "right"), ("FILL", "left"),
                          ("ERRORS", "right"), ("CONN", "right"), ("HEALTH", "left")):
        table.add_column(name, justify=justify, no_wrap=name != "HEALTH")  # type: ignore[arg-type]
    for row in shown:
        healthy = row.health == "ok"
        table.add_row(row.agent, row.key or row.name, _rate(row.rate_in), _rate(row.rate_out),
                      f"{row.total:,}" if row.kind != "AGENT" else "", _fill(row), _errors(row),
                      "" if row.connections is None else str(row.connections),
                      Text(row.health, style="green" if healthy else "bold red"))
    order = "↓" if state.reverse else "↑"
    status = (f"flume-ng top · {agents} agent{'s' * (agents != 1)} · every {interval:g}s · "
              f"sort {state.sort} {order} · kind {state.kind}"
              f"{' · errors only' if state.errors_only else ''}"
              f"{f' · filter {state.text!r}' if state.text else ''} · {time.strftime('%H:%M:%S')}")
    prompt = Text(f"filter: {state.typing}▏", style="bold") if state.typing is not None \
        else Text(_KEYS, style="dim")
    return Group(Text(status, style="bold"), table, prompt)


def _rows(before: dict[str, AgentSample], after: dict[str, AgentSample]) -> list[ComponentRow]:
    return [row for url in after for row in rows_between(before[url], after[url])]


def _sample_all(urls: Sequence[str], timeout: float) -> dict[str, AgentSample]:
    return {url: sample(url, timeout) for url in urls}


@contextmanager
def _keys(fd: int) -> Iterator[Callable[[float], str | None]]:
    """cbreak mode on ``fd`` (keys arrive unbuffered, Ctrl-C still interrupts), restored after."""
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def read(timeout: float) -> str | None:
        ready, _, _ = select.select([fd], [], [], max(timeout, 0.0))
        return os.read(fd, 1).decode(errors="replace") if ready else None

    try:
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flume-ng top",
        epilog="example:\n  flume-ng top http://127.0.0.1:41414 --interval 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "a live view of running agents: rates, channel fill, errors, "
            "connections and health per component"))
    parser.add_argument("urls", nargs="+", metavar="URL",
                        help="an agent's monitoring address, e.g. http://127.0.0.1:41414")
    parser.add_argument("-i", "--interval", type=float, default=2.0, help="seconds between refreshes")
    parser.add_argument("--once", action="store_true", help="print one view and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    urls = [u if "://" in u else f"http://{u}" for u in args.urls]
    timeout = max(min(args.interval, 5.0), 0.5)
    console = Console()
    try:
        if args.once or not sys.stdin.isatty():
            return _once(console, urls, args.interval, timeout)
        return _live(console, urls, args.interval, timeout)
    except KeyboardInterrupt:
        return 0


def _once(console: Console, urls: list[str], interval: float, timeout: float) -> int:
    before = _sample_all(urls, timeout)
    time.sleep(interval)
    after = _sample_all(urls, timeout)
    console.print(render(_rows(before, after), ViewState(), interval, len(urls)))
    return 0 if any(s.metrics is not None for s in after.values()) else 1


def _live(console: Console, urls: list[str], interval: float, timeout: float) -> int:
    state = ViewState()
    before = _sample_all(urls, timeout)
    rows = _rows(before, before)
    with _keys(sys.stdin.fileno()) as read_key, \
            Live(console=console, screen=True, auto_refresh=False, transient=True) as live:
        while True:
            live.update(render(rows, state, interval, len(urls)), refresh=True)
            deadline = time.monotonic() + interval
            while (left := deadline - time.monotonic()) > 0:
                key = read_key(left)
                if key is None:
                    continue
                if not state.press(key):
                    return 0
                live.update(render(rows, state, interval, len(urls)), refresh=True)
            after = _sample_all(urls, timeout)
            rows, before = _rows(before, after), after
