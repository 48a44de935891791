"""The README's two-tier example runs as shipped (ports moved to free ones), and graph --live and
top watch it: events written to the web tier's logs arrive in the collector's files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess, free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two-tier"


@pytest.fixture
def two_tiers(tmp_path: Path) -> Iterator[dict[str, FlumeAgentProcess]]:
    ports = {"4141": str(free_port()), "4142": str(free_port())}
    for name in ("web.conf", "collectors.conf"):
        text = (EXAMPLE / name).read_text()
        for old, new in ports.items():
            text = text.replace(f"port = {old}", f"port = {new}")
        (tmp_path / name).write_text(text)
    (tmp_path / "logs").mkdir()
    agents = {
        "col1": FlumeAgentProcess("col1", tmp_path / "collectors.conf", tmp_path,
                                  defines=[f"OUT_DIR={tmp_path / 'out'}"]),
        "col2": FlumeAgentProcess("col2", tmp_path / "collectors.conf", tmp_path,
                                  defines=[f"OUT_DIR={tmp_path / 'out'}"]),
        "web": FlumeAgentProcess("web", tmp_path / "web.conf", tmp_path,
                                 defines=[f"LOG_DIR={tmp_path / 'logs'}"]),
    }
    try:
        for agent in agents.values():
            agent.start_and_wait()
        yield agents
    finally:
        for agent in reversed(agents.values()):
            agent.stop()


def test_lines_tailed_on_the_web_tier_reach_the_primary_collector_and_the_tools_see_them(
        tmp_path: Path, two_tiers: dict[str, FlumeAgentProcess]) -> None:
    (tmp_path / "logs" / "access.1.log").write_text("".join(f"GET /{i}\n" for i in range(200)))

    def collected() -> int:
        return sum(len(f.read_text().splitlines()) for f in (tmp_path / "out" / "col1").iterdir())

    wait_until(lambda: collected() == 200, timeout=60, what="200 lines in col1's files")
    graph = subprocess.run(
        [sys.executable, "-m", "flume_sdk.cli", "graph", tmp_path / "web.conf", tmp_path / "collectors.conf",
         "--live", f"web={two_tiers['web'].url}", "--live", f"col1={two_tiers['col1'].url}",
         "--interval", "0.2"], capture_output=True, text=True, timeout=60, check=False)
    assert graph.returncode == 0, graph.stderr
    assert "web.sinks.to_col1 → col1.sources.avro_in (avro 127.0.0.1:" in graph.stdout
    assert "0/10000 (0% full)" in graph.stdout
    top = subprocess.run(
        [sys.executable, "-m", "flume_sdk.cli", "top", *(a.url for a in two_tiers.values()), "--once",
         "--interval", "0.2"], capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "COLUMNS": "160"})
    assert top.returncode == 0, top.stderr
    delivered = [line for line in top.stdout.splitlines() if "SINK.to_col1" in line]
    assert len(delivered) == 1
    assert "200" in delivered[0].split("│")[5]
