"""The topology of one or more agent configurations, as nodes and edges, for ``flume-ng graph``.

Read from the configuration alone (no component is built, so a graph can be
drawn on a machine without the plugins): per agent its sources, each source's
interceptor chain and selector with its mappings, channels, sink groups with
their processor, and sinks. Across agents an Avro or Thrift sink's
``hostname:port`` is matched to the source of another agent that listens there
(a tier). :func:`annotate_live` adds rates from running agents' ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from flume_sdk._config import AgentConfig, ComponentConfig

__all__ = ["Edge", "Group", "Node", "Topology", "annotate_live", "topology"]

_RPC = {"avro": "avro", "org.apache.flume.source.avrosource": "avro",
        "org.apache.flume.sink.avrosink": "avro", "thrift": "thrift",
        "org.apache.flume.source.thriftsource": "thrift", "org.apache.flume.sink.thriftsink": "thrift"}
_WILDCARD_BINDS = ("", "0.0.0.0", "::", "*")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "ip6-localhost")
# Keys that say where a component reads or writes, shown beside its type (first found wins).
_WHERE_KEYS = ("spoolDir", "command", "filegroups", "hdfs.path", "sink.directory", "kafka.topic",
               "kafka.topics", "topic", "checkpointDir", "directory")


@attrs.frozen
class Node:
    """A source, an interceptor chain, a selector, a channel or a sink of one agent."""

    id: str
    agent: str
    kind: str
    name: str
    detail: str = ""


@attrs.frozen
class Edge:
    """Events flow from ``src`` to ``dst``; ``style`` is ``flow``, ``optional`` or ``tier``."""

    src: str
    dst: str
    label: str = ""
    style: str = "flow"


@attrs.define
class Group:
    """A sink group: its processor and the ids of its sinks."""

    agent: str
    name: str
    processor: str
    sinks: list[str] = attrs.Factory(list)


@attrs.define
class Topology:
    """Everything to draw, in configuration order."""

    agents: list[str] = attrs.Factory(list)
    nodes: dict[str, Node] = attrs.Factory(dict)
    edges: list[Edge] = attrs.Factory(list)
    groups: list[Group] = attrs.Factory(list)

    def add(self, node: Node) -> str:
        self.nodes[node.id] = node
        return node.id

    def connect(self, edge: Edge) -> None:
        """Add ``edge`` if both ends exist (a dangling name is ``validate``'s to report)."""
        if edge.src in self.nodes and edge.dst in self.nodes:
            self.edges.append(edge)

    def of_agent(self, agent: str, kind: str | None = None) -> list[Node]:
        return [n for n in self.nodes.values() if n.agent == agent and kind in (None, n.kind)]

    def edges_from(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id]


def topology(configs: list[AgentConfig]) -> Topology:
    """Nodes and edges of every agent in ``configs``, plus the tiers between them."""
    topo = Topology()
    for config in configs:
        topo.agents.append(config.name)
        _add_agent(topo, config)
    _add_tiers(topo, configs)
    return topo


def _node_id(agent: str, section: str, name: str) -> str:
    return f"{agent}.{section}.{name}"


def _add_agent(topo: Topology, config: AgentConfig) -> None:
    agent = config.name
    for name, conf in config.channels.items():
        topo.add(Node(_node_id(agent, "channels", name), agent, "channel", name, _detail(conf)))
    for name, conf in config.sources.items():
        _add_source(topo, agent, name, conf)
    for name, conf in config.sinks.items():
        sink = topo.add(Node(_node_id(agent, "sinks", name), agent, "sink", name, _detail(conf)))
        channel = conf.properties.get("channel", "").strip()
        if channel in config.channels:
            topo.connect(Edge(_node_id(agent, "channels", channel), sink))
    for name, conf in config.sinkgroups.items():
        props, _ = conf.sub("processor.")
        processor = props.get("type", "default")
        settings = " ".join(f"{k}={v}" for k, v in props.items() if k != "type")
        topo.groups.append(Group(agent, name, f"{processor} {settings}".strip(),
                                 [_node_id(agent, "sinks", s) for s in conf.words("sinks")
                                  if s in config.sinks]))


def _add_source(topo: Topology, agent: str, name: str, conf: ComponentConfig) -> None:
    last = topo.add(Node(_node_id(agent, "sources", name), agent, "source", name, _detail(conf)))
    chain = [f"{i} ({conf.properties.get(f'interceptors.{i}.type', '?')})"
             for i in conf.words("interceptors")]
    if chain:
        chain_id = topo.add(Node(f"{last}.interceptors", agent, "interceptors", "interceptors",
                                 " → ".join(chain)))
        topo.connect(Edge(last, chain_id))
        last = chain_id
    channels = [_node_id(agent, "channels", c) for c in conf.words("channels")]
    props, _ = conf.sub("selector.")
    kind = props.get("type", "replicating")
    if kind.lower() in ("multiplexing", "org.apache.flume.channel.multiplexingchannelselector"):
        _add_multiplexing(topo, agent, name, last, props)
        return
    optional = set(props.get("optional", "").split())
    if kind != "replicating":
        selector = topo.add(Node(_node_id(agent, "sources", name) + ".selector", agent, "selector",
                                 "selector", kind))
        topo.connect(Edge(last, selector))
        last = selector
    for channel in channels:
        short = channel.rsplit(".", 1)[1]
        topo.connect(Edge(last, channel, "optional" if short in optional else "",
                               "optional" if short in optional else "flow"))


def _add_multiplexing(topo: Topology, agent: str, source: str, last: str,
                      props: Mapping[str, str]) -> None:
    header = props.get("header", "flume.selector.header")
    selector = topo.add(Node(_node_id(agent, "sources", source) + ".selector", agent, "selector",
                             "selector", f"multiplexing on {header}"))
    topo.connect(Edge(last, selector))
    routes: dict[tuple[str, str], list[str]] = {}
    for key, value in props.items():
        prefix, _, mapped = key.partition(".")
        if prefix in ("mapping", "optional") and mapped:
            for channel in value.split():
                routes.setdefault((channel, prefix), []).append(mapped)
    for channel in props.get("default", "").split():
        routes.setdefault((channel, "mapping"), []).append("default")
    for (channel, prefix), values in routes.items():
        label = ", ".join(f"{header}={v}" if v != "default" else "default" for v in values)
        style = "optional" if prefix == "optional" else "flow"
        topo.connect(Edge(selector, _node_id(agent, "channels", channel),
                               f"{label} (optional)" if style == "optional" else label, style))


def _detail(conf: ComponentConfig) -> str:
    props = conf.properties
    parts = [props.get("type", "?")]
    if "port" in props:
        host = props.get("hostname") or props.get("bind", "")
        parts.append(f"{host}:{props['port']}")
    elif "ports" in props:
        parts.append(f"{props.get('host', '')}:{props['ports']}")
    where = next((props[k] for k in _WHERE_KEYS if k in props), None)
    if where:
        parts.append(where)
    if "capacity" in props:
        parts.append(f"capacity {props['capacity']}")
    return " ".join(parts)


def _add_tiers(topo: Topology, configs: list[AgentConfig]) -> None:
    listeners = [(c.name, name, conf) for c in configs for name, conf in c.sources.items()
                 if _RPC.get((conf.type or "").lower())]
    for config in configs:
        for name, sink in config.sinks.items():
            protocol = _RPC.get((sink.type or "").lower())
            if not protocol:
                continue
            host, port = sink.properties.get("hostname", ""), sink.properties.get("port", "")
            for agent, source_name, source in listeners:
                if _RPC[(source.type or "").lower()] != protocol or source.properties.get("port") != port:
                    continue
                if not _same_host(host, source.properties.get("bind", "")):
                    continue
                topo.connect(Edge(_node_id(config.name, "sinks", name),
                                       _node_id(agent, "sources", source_name),
                                       f"{protocol} {host}:{port}", "tier"))


def _same_host(host: str, bind: str) -> bool:
    if bind in _WILDCARD_BINDS or host == bind:
        return True
    return host in _LOCAL_HOSTS and (bind in _LOCAL_HOSTS or bind.startswith("127."))


def annotate_live(topo: Topology, agent: str, before: Mapping[str, Mapping[str, str]],
                  after: Mapping[str, Mapping[str, str]], seconds: float) -> Topology:
    """A copy of ``topo`` whose edges of ``agent`` carry rates and whose channels carry fill.

    Edges into a channel show its put rate (``EventPutSuccessCount``); edges out of a
    channel and tier edges show the sink's drain rate (``EventDrainSuccessCount``).
    """

    def rate(group: str, counter: str) -> float:
        try:
            return (float(after[group][counter]) - float(before[group][counter])) / seconds
        except (KeyError, ValueError):
            return float("nan")

    nodes = dict(topo.nodes)
    for node in topo.of_agent(agent, "channel"):
        doc = after.get(f"CHANNEL.{node.name}", {})
        if "ChannelSize" in doc:
            fill = f"{doc['ChannelSize']}/{doc.get('ChannelCapacity', '?')} " \
                   f"({float(doc.get('ChannelFillPercentage', 0)):.0f}% full)"
            nodes[node.id] = attrs.evolve(node, detail=f"{node.detail} · {fill}")
    edges = []
    for edge in topo.edges:
        src, dst = topo.nodes[edge.src], topo.nodes[edge.dst]
        value = None
        if dst.agent == agent and dst.kind == "channel":
            value = rate(f"CHANNEL.{dst.name}", "EventPutSuccessCount")
        elif src.agent == agent and src.kind == "sink":
            value = rate(f"SINK.{src.name}", "EventDrainSuccessCount")
        elif src.agent == agent and src.kind == "channel":
            value = rate(f"SINK.{dst.name}", "EventDrainSuccessCount")
        if value is not None and value == value:
            label = f"{edge.label} · {value:.1f}/s" if edge.label else f"{value:.1f}/s"
            edge = attrs.evolve(edge, label=label)
        edges.append(edge)
    return Topology(list(topo.agents), nodes, edges, list(topo.groups))
