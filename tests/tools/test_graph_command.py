"""``flume-ng graph``: topology as text, Mermaid, DOT and SVG, tiers across files, live rates."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess, trickle_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TWO_TIER = [EXAMPLES / "two-tier" / "web.conf", EXAMPLES / "two-tier" / "collectors.conf"]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (scripts/install-system-deps.sh)")


def flume_ng_graph(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flume_sdk.cli", "graph", *map(str, args)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_text_shows_interceptors_selector_mappings_and_channels() -> None:
    done = flume_ng_graph(EXAMPLES / "routing.conf")
    assert done.returncode == 0, done.stderr
    assert "    → interceptors: level (regex_extractor) → nodebug (regex_filter) → env (static)\n" \
        "      → selector: multiplexing on level\n" \
        "        level=ERROR → channel alerts\n" \
        "        level=ERROR (optional) → channel audit\n" \
        "        default → channel archive\n" in done.stdout
    assert "  channel archive (memory)\n    → sink store (file_roll /tmp/flume-routing-archive)" \
        in done.stdout


def test_text_joins_avro_sinks_to_the_sources_of_other_files() -> None:
    done = flume_ng_graph(*TWO_TIER)
    assert done.returncode == 0, done.stderr
    assert "tiers\n  web.sinks.to_col1 → col1.sources.avro_in (avro 127.0.0.1:4141)\n" \
        "  web.sinks.to_col2 → col2.sources.avro_in (avro 127.0.0.1:4142)\n" in done.stdout
    assert "sink group forward (failover priority.to_col1=10 priority.to_col2=5): to_col1, to_col2" \
        in done.stdout


def test_mermaid_has_a_subgraph_per_agent_and_group_and_thick_tier_arrows() -> None:
    done = flume_ng_graph("--format", "mermaid", *TWO_TIER)
    assert done.stdout.startswith("flowchart LR\n")
    assert '  subgraph agent_col2["agent col2"]' in done.stdout
    assert 'subgraph web_group_forward["sink group forward: failover' in done.stdout
    assert '  web_sinks_to_col1 ==>|"avro 127.0.0.1:4141"| col1_sources_avro_in' in done.stdout


@needs_dot
def test_dot_is_accepted_by_graphviz_and_svg_is_written(tmp_path: Path) -> None:
    dot_file = tmp_path / "g.dot"
    assert flume_ng_graph("--format", "dot", "-o", dot_file, *TWO_TIER).returncode == 0
    checked = subprocess.run(["dot", "-Tcanon", str(dot_file)], capture_output=True, text=True,
                             timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    svg = tmp_path / "g.svg"
    done = flume_ng_graph("--format", "svg", "-o", svg, EXAMPLES / "routing.conf", *TWO_TIER)
    assert done.returncode == 0, done.stderr
    text = svg.read_text()
    assert "<svg" in text
    assert "avro 127.0.0.1:4142" in text
    assert "multiplexing on level" in text


@pytest.fixture
def busy_agent(tmp_path: Path) -> Iterator[tuple[FlumeAgentProcess, Path]]:
    conf = tmp_path / "busy.conf"
    conf.write_text(trickle_config("busy"))
    agent = FlumeAgentProcess("busy", conf, tmp_path)
    agent.start_and_wait()
    try:
        wait_until(lambda: int(agent.metrics()["SINK.k1"]["EventDrainSuccessCount"]) > 0,
                   what="events flowing")
        yield agent, conf
    finally:
        agent.stop()


def test_live_labels_edges_with_rates_and_channels_with_fill(busy_agent) -> None:  # type: ignore[no-untyped-def]
    agent, conf = busy_agent
    done = flume_ng_graph(conf, "--live", agent.url, "--interval", "0.5")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    into_channel = next(line for line in lines if line.strip().endswith("channel c1"))
    to_sink = next(line for line in lines if "sink k1" in line)
    assert float(into_channel.split("/s")[0].split()[-1]) > 0
    assert float(to_sink.split("/s")[0].split()[-1]) > 0
    assert "% full)" in done.stdout


def test_live_needs_the_agent_name_when_several_are_drawn() -> None:
    done = flume_ng_graph(*TWO_TIER, "--live", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert "name the agent (AGENT=URL); the graph has web, col1, col2" in done.stderr


def test_live_names_an_unreachable_agent(tmp_path: Path) -> None:
    done = flume_ng_graph(*TWO_TIER, "--live", "col1=http://127.0.0.1:9", "--interval", "0")
    assert done.returncode == 2
    assert "--live col1=http://127.0.0.1:9: cannot read metrics" in done.stderr
