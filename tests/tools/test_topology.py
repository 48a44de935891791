"""The topology model behind ``flume-ng graph``: tiers, selectors, groups, live annotations."""

from __future__ import annotations

from pathlib import Path

from flume_sdk._agent import load_config
from flume_sdk._topology import annotate_live, topology

TIERS = """\
edge.sources = r1
edge.channels = c1 c2
edge.sinks = to_thrift to_avro
edge.sources.r1.type = seq
edge.sources.r1.channels = c1 c2
edge.sources.r1.selector.optional = c2
edge.channels.c1.type = memory
edge.channels.c2.type = memory
edge.sinks.to_thrift.type = thrift
edge.sinks.to_thrift.channel = c1
edge.sinks.to_thrift.hostname = localhost
edge.sinks.to_thrift.port = 5000
edge.sinks.to_avro.type = org.apache.flume.sink.AvroSink
edge.sinks.to_avro.channel = c2
edge.sinks.to_avro.hostname = collector.example
edge.sinks.to_avro.port = 5000

hub.sources = thrift_in avro_in other
hub.channels = c
hub.sinks = k
hub.sources.thrift_in.type = thrift
hub.sources.thrift_in.bind = 127.0.0.1
hub.sources.thrift_in.port = 5000
hub.sources.thrift_in.channels = c
hub.sources.avro_in.type = avro
hub.sources.avro_in.bind = 10.0.0.9
hub.sources.avro_in.port = 5000
hub.sources.avro_in.channels = c
hub.sources.other.type = avro
hub.sources.other.bind = 0.0.0.0
hub.sources.other.port = 5001
hub.sources.other.channels = c
hub.channels.c.type = memory
hub.sinks.k.type = null
hub.sinks.k.channel = c
"""


def build(tmp_path: Path, text: str, *agents: str):  # type: ignore[no-untyped-def]
    conf = tmp_path / "flume.conf"
    conf.write_text(text)
    return topology([load_config([conf], a) for a in agents])


def test_tiers_match_protocol_port_and_host_with_localhost_equal_to_loopback(tmp_path: Path) -> None:
    topo = build(tmp_path, TIERS, "edge", "hub")
    tiers = {(e.src, e.dst) for e in topo.edges if e.style == "tier"}
    # thrift localhost:5000 -> the thrift source bound to 127.0.0.1:5000; the avro sink's host is
    # another machine than the avro source's bind address, and port 5001 is no one's.
    assert tiers == {("edge.sinks.to_thrift", "hub.sources.thrift_in")}


def test_replicating_optional_channel_is_a_dashed_edge(tmp_path: Path) -> None:
    topo = build(tmp_path, TIERS, "edge")
    styles = {e.dst: e.style for e in topo.edges_from("edge.sources.r1")}
    assert styles == {"edge.channels.c1": "flow", "edge.channels.c2": "optional"}


def test_live_rates_come_from_the_channel_puts_and_the_sink_drains(tmp_path: Path) -> None:
    topo = build(tmp_path, TIERS, "edge", "hub")
    before = {"CHANNEL.c1": {"EventPutSuccessCount": "0", "ChannelSize": "0", "ChannelCapacity": "100",
                             "ChannelFillPercentage": "0.0"},
              "SINK.to_thrift": {"EventDrainSuccessCount": "0"}}
    after = {"CHANNEL.c1": {"EventPutSuccessCount": "50", "ChannelSize": "25", "ChannelCapacity": "100",
                            "ChannelFillPercentage": "25.0"},
             "SINK.to_thrift": {"EventDrainSuccessCount": "25"}}
    live = annotate_live(topo, "edge", before, after, 2.0)
    labels = {(e.src, e.dst): e.label for e in live.edges}
    assert labels[("edge.sources.r1", "edge.channels.c1")] == "25.0/s"
    assert labels[("edge.channels.c1", "edge.sinks.to_thrift")] == "12.5/s"
    assert labels[("edge.sinks.to_thrift", "hub.sources.thrift_in")] == "thrift localhost:5000 · 12.5/s"
    assert live.nodes["edge.channels.c1"].detail.endswith("25/100 (25% full)")
    assert labels[("hub.channels.c", "hub.sinks.k")] == ""  # another agent's edges are left alone
