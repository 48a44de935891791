"""Prometheus exposition by prometheus_client: types, names, labels, values equal to /metrics JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess, counted_config
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from flume_sdk import Counter
from flume_sdk._prometheus import PrometheusExposition, metric_name


def samples(text: str) -> dict[str, tuple[str, list[Sample]]]:
    """Family name -> (type, samples), parsed by the library's own text parser."""
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def test_flume_names_become_prometheus_names_without_doubling() -> None:
    assert metric_name("CHANNEL", "ChannelSize", gauge=True) == "flume_channel_size"
    assert metric_name("SOURCE", "EventReceivedCount", gauge=False) == "flume_source_event_received"
    assert metric_name("SINK", "EventWriteFail", gauge=False) == "flume_sink_event_write_fail"
    assert metric_name("SOURCE", "OpenConnectionCount", gauge=True) == "flume_source_open_connections"


def test_counts_are_counters_with_total_and_sizes_are_gauges() -> None:
    channel = Counter("CHANNEL", "c1")
    channel.component_type = "MemoryChannel"
    channel.incr("EventPutSuccessCount", 7)
    channel.set_gauges(lambda: {"ChannelSize": 3, "ChannelCapacity": 100, "ChannelFillPercentage": 3.0})
    families = samples(PrometheusExposition("a1", lambda: [channel]).render().decode())
    kind, put = families["flume_channel_event_put_success"]
    assert kind == "counter"
    assert put[0].name == "flume_channel_event_put_success_total"
    assert put[0].value == 7
    assert put[0].labels == {"agent": "a1", "component": "c1", "kind": "CHANNEL", "type": "MemoryChannel"}
    assert families["flume_channel_size"][0] == "gauge"
    assert families["flume_channel_fill_percentage"][1][0].value == 3.0


def test_process_and_gc_metrics_are_served() -> None:
    families = samples(PrometheusExposition("a1", list).render().decode())
    assert "process_resident_memory_bytes" in families
    assert "python_gc_collections" in families
    assert "python_info" in families




@pytest.fixture
def prometheus_agent(tmp_path: Path) -> Iterator[FlumeAgentProcess]:
    conf = tmp_path / "a1.properties"
    conf.write_text(counted_config("a1"))
    agent = FlumeAgentProcess("a1", conf, tmp_path, monitoring="prometheus")
    agent.start_and_wait()
    try:
        wait_until(lambda: agent.metrics()["SINK.k1"]["EventDrainSuccessCount"] == "250",
                   what="the null sink drained 250 events")
        yield agent
    finally:
        agent.stop()


def test_agent_scrape_agrees_with_flume_json(prometheus_agent: FlumeAgentProcess) -> None:
    text = prometheus_agent.get("/metrics").decode()
    document = prometheus_agent.metrics()
    families = samples(text)
    compared = 0
    for group, values in document.items():
        kind, name = group.split(".", 1)
        for attribute, value in values.items():
            if attribute in ("Type", "StartTime", "StopTime"):
                continue
            gauge = metric_name(kind, attribute, gauge=True)
            counter = metric_name(kind, attribute, gauge=False)
            family_type, found = families.get(counter) or families[gauge]
            mine = [s for s in found if s.labels["component"] == name]
            assert len(mine) == 1, (group, attribute)
            assert mine[0].labels["agent"] == "a1"
            assert mine[0].labels["kind"] == kind
            assert mine[0].value == float(value), (group, attribute)
            assert family_type == ("gauge" if attribute in ("ChannelSize", "ChannelCapacity",
                                   "ChannelFillPercentage", "OpenConnectionCount") else "counter")
            compared += 1
    assert compared >= 20
    assert families["flume_source_event_accepted"][1][0].value == 250
    assert families["process_cpu_seconds"][0] == "counter"


def test_agent_serves_prometheus_text_at_both_paths(prometheus_agent: FlumeAgentProcess) -> None:
    assert b"flume_sink_event_drain_success_total" in prometheus_agent.get("/metrics/prometheus")
    assert b"flume_sink_event_drain_success_total" in prometheus_agent.get("/metrics")
