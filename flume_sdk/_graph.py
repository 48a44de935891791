"""``flume-ng graph``: draw the topology of configurations as text, Mermaid, Graphviz DOT or SVG.

Several files (or several agents in one file) are drawn together, with the
tiers between them: an Avro or Thrift sink's ``hostname:port`` joined to the
agent whose source listens there. ``--live [AGENT=]URL`` reads a running
agent's ``/metrics`` twice and labels the edges with events per second and the
channels with their fill. SVG is rendered by Graphviz's ``dot`` when it is
installed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
import urllib.error
from collections.abc import Callable, Sequence
from pathlib import Path

from flume_sdk._agent import load_config
from flume_sdk._config import AgentConfig, agent_names
from flume_sdk._errors import ConfigurationError
from flume_sdk._metrics_client import fetch_metrics
from flume_sdk._properties import read_properties
from flume_sdk._topology import Edge, Node, Topology, annotate_live, topology

__all__ = ["main", "render_dot", "render_mermaid", "render_text"]

def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    files = [*args.files, *args.more_files]
    if not files:
        print("flume-ng graph: name at least one configuration file", file=sys.stderr)
        return 2
    defines = dict(d.partition("=")[::2] for d in args.defines)
    try:
        configs = _configs(files, args.name, defines)
        topo = topology(configs)
        for spec in args.live:
            topo = _live(topo, spec, args.interval)
    except (ConfigurationError, OSError, ValueError) as exc:
        print(f"flume-ng graph: {exc}", file=sys.stderr)
        return 2
    if args.format == "svg":
        return _write_svg(render_dot(topo), args.output)
    text = _RENDERERS[args.format](topo)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flume-ng graph",
        epilog="example:\n  flume-ng graph examples/two-tier/web.conf "
        "examples/two-tier/collectors.conf --format mermaid",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "draw the topology of agent configurations as text, Mermaid, Graphviz "
            "DOT or SVG, with the tiers between agents and, with --live, rates"))
    parser.add_argument("files", nargs="*", type=Path, help="configuration files")
    parser.add_argument("-f", "--conf-file", dest="more_files", action="append", default=[],
                        type=Path, metavar="FILE",
                        help="configuration file (repeatable, like agent/validate)")
    parser.add_argument("-n", "--name", action="append", help="only these agents (repeatable)")
    parser.add_argument("--format", choices=("text", "mermaid", "dot", "svg"), default="text")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    parser.add_argument("--live", action="append", default=[], metavar="[AGENT=]URL",
                        help="annotate AGENT (default: the only agent) with rates from its monitoring "
                        "URL, e.g. http://127.0.0.1:41414")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between the two /metrics reads of --live (default 1)")
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="KEY=VALUE",
                        help="system property for ${sys:...} in the configuration")
    return parser


def _configs(files: list[Path], only: list[str] | None, defines: dict[str, str]) -> list[AgentConfig]:
    configs: list[AgentConfig] = []
    seen: set[str] = set()
    for file in files:
        for name in agent_names(read_properties(file)):
            if only and name not in only:
                continue
            config = load_config([file], name, system_properties=defines)
            if name in seen:
                config.name = f"{name}@{file.stem}"
            seen.add(config.name)
            configs.append(config)
    if not configs:
        msg = f"no agents{' named ' + ', '.join(only) if only else ''} in {', '.join(map(str, files))}"
        raise ValueError(msg)
    return configs


def _live(topo: Topology, spec: str, interval: float) -> Topology:
    agent, _, url = spec.rpartition("=") if "=" in spec.split("://", 1)[0] else ("", "", spec)
    if not agent:
        if len(topo.agents) != 1:
            msg = f"--live {spec}: name the agent (AGENT=URL); the graph has {', '.join(topo.agents)}"
            raise ValueError(msg)
        agent = topo.agents[0]
    elif agent not in topo.agents:
        msg = f"--live {spec}: no agent {agent!r} in the graph (agents: {', '.join(topo.agents)})"
        raise ValueError(msg)
    try:
        before, started = fetch_metrics(url), time.monotonic()
        time.sleep(interval)
        after = fetch_metrics(url)
    except (urllib.error.URLError, TimeoutError) as exc:
        msg = f"--live {spec}: cannot read metrics: {exc}"
        raise ValueError(msg) from exc
    return annotate_live(topo, agent, before, after, time.monotonic() - started)


def _write_svg(dot: str, output: Path | None) -> int:
    exe = shutil.which("dot")
    if exe is None:
        print("flume-ng graph: --format svg needs Graphviz's dot (Debian: apt-get install graphviz); "
              "--format dot writes the source", file=sys.stderr)
        return 2
    done = subprocess.run([exe, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=120,
                          check=False)
    if done.returncode != 0:
        print(f"flume-ng graph: dot failed: {done.stderr.decode(errors='replace')}", file=sys.stderr)
        return 1
    if output:
        output.write_bytes(done.stdout)
    else:
        sys.stdout.buffer.write(done.stdout)
    return 0


# -- text ---------------------------------------------------------------------------------------


def render_text(topo: Topology) -> str:
    """An indented tree per agent, then the tiers."""
    lines: list[str] = []
    for agent in topo.agents:
        lines.append(f"agent {agent}")
        for source in topo.of_agent(agent, "source"):
            lines.append(f"  source {source.name} ({source.detail})")
            _walk(topo, source.id, 4, lines)
        for channel in topo.of_agent(agent, "channel"):
            lines.append(f"  channel {channel.name} ({channel.detail})")
            for edge in topo.edges_from(channel.id):
                sink = topo.nodes[edge.dst]
                lines.append(f"    {_arrow(edge)}sink {sink.name} ({sink.detail})")
        for group in (g for g in topo.groups if g.agent == agent):
            names = ", ".join(topo.nodes[s].name for s in group.sinks)
            lines.append(f"  sink group {group.name} ({group.processor}): {names}")
    tiers = [e for e in topo.edges if e.style == "tier"]
    if tiers:
        lines.append("tiers")
        lines.extend(f"  {e.src} → {e.dst} ({e.label})" for e in tiers)
    return "\n".join(lines) + "\n"


def _arrow(edge: Edge) -> str:
    return f"{edge.label} → " if edge.label else "→ "


def _walk(topo: Topology, node_id: str, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for edge in topo.edges_from(node_id):
        node = topo.nodes[edge.dst]
        if node.kind == "channel":
            lines.append(f"{pad}{_arrow(edge)}channel {node.name}")
        else:
            lines.append(f"{pad}{_arrow(edge)}{node.name}: {node.detail}")
            _walk(topo, node.id, indent + 2, lines)


# -- Mermaid ------------------------------------------------------------------------------------

_MERMAID_SHAPES = {"source": ('(["', '"])'), "interceptors": ('[["', '"]]'), "selector": ('{"', '"}'),
                   "channel": ('[("', '")]'), "sink": ('[/"', '"/]')}
_MERMAID_ARROWS = {"flow": "-->", "optional": "-.->", "tier": "==>"}


def _mid(node_id: str) -> str:
    return re.sub(r"\W", "_", node_id)


def _mtext(text: str) -> str:
    return text.replace('"', "#quot;")


def render_mermaid(topo: Topology) -> str:
    """A Mermaid flowchart: a subgraph per agent (and per sink group), tiers as thick arrows."""
    lines = ["flowchart LR"]
    for agent in topo.agents:
        lines.append(f'  subgraph {_mid("agent." + agent)}["agent {_mtext(agent)}"]')
        grouped = {s: g for g in topo.groups if g.agent == agent for s in g.sinks}
        lines.extend(f"    {_mermaid_node(n)}" for n in topo.of_agent(agent) if n.id not in grouped)
        for group in (g for g in topo.groups if g.agent == agent):
            lines.append(f'    subgraph {_mid(f"{agent}.group.{group.name}")}'
                         f'["sink group {_mtext(group.name)}: {_mtext(group.processor)}"]')
            lines.extend(f"      {_mermaid_node(topo.nodes[s])}" for s in group.sinks)
            lines.append("    end")
        lines.append("  end")
    for edge in topo.edges:
        label = f'|"{_mtext(edge.label)}"|' if edge.label else ""
        lines.append(f"  {_mid(edge.src)} {_MERMAID_ARROWS[edge.style]}{label} {_mid(edge.dst)}")
    return "\n".join(lines) + "\n"


def _mermaid_node(node: Node) -> str:
    left, right = _MERMAID_SHAPES[node.kind]
    title = node.name if node.kind not in ("interceptors", "selector") else node.kind
    return f"{_mid(node.id)}{left}{_mtext(title)}<br/>{_mtext(node.detail)}{right}"


# -- Graphviz -----------------------------------------------------------------------------------

_DOT_STYLES = {
    "source": 'shape=box style="rounded,filled" fillcolor="#d5e8d4"',
    "interceptors": 'shape=box style="filled" fillcolor="#f5f5f5"',
    "selector": 'shape=diamond style="filled" fillcolor="#fff2cc"',
    "channel": 'shape=cylinder style="filled" fillcolor="#dae8fc"',
    "sink": 'shape=box style="filled" fillcolor="#f8cecc"',
}
_DOT_EDGES = {"flow": "", "optional": " style=dashed",
              "tier": ' penwidth=2 color="#1f5fa8" fontcolor="#1f5fa8"'}


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(topo: Topology) -> str:
    """Graphviz DOT: a cluster per agent (and per sink group), tiers as bold blue edges."""
    lines = ["digraph flume {", "  rankdir=LR;", '  graph [fontname="Helvetica"];',
             '  node [fontname="Helvetica" fontsize=10];', '  edge [fontname="Helvetica" fontsize=9];']
    for agent in topo.agents:
        lines += [f"  subgraph {_q('cluster_' + agent)} {{", f"    label={_q('agent ' + agent)};",
                  '    style="rounded"; color="#888888";']
        grouped = {s for g in topo.groups if g.agent == agent for s in g.sinks}
        lines.extend(f"    {_dot_node(n)}" for n in topo.of_agent(agent) if n.id not in grouped)
        for group in (g for g in topo.groups if g.agent == agent):
            lines += [f"    subgraph {_q(f'cluster_{agent}.{group.name}')} {{",
                      f"      label={_q(f'sink group {group.name}: {group.processor}')}; style=dashed;"]
            lines.extend(f"      {_dot_node(topo.nodes[s])}" for s in group.sinks)
            lines.append("    }")
        lines.append("  }")
    for edge in topo.edges:
        label = f" label={_q(edge.label)}" if edge.label else ""
        lines.append(f"  {_q(edge.src)} -> {_q(edge.dst)} [{label.strip()}{_DOT_EDGES[edge.style]}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(node: Node) -> str:
    title = node.name if node.kind not in ("interceptors", "selector") else node.kind
    return f"{_q(node.id)} [label={_q(title + chr(10) + node.detail)} {_DOT_STYLES[node.kind]}];"


_RENDERERS: dict[str, Callable[[Topology], str]] = {"text": render_text, "mermaid": render_mermaid,
                                                    "dot": render_dot}
