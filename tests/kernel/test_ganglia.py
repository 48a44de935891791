"""Ganglia reporting as Flume does it, checked against a real gmond and on the wire."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_testkit import wait_until
from flume_testkit.servers import FlumeAgentProcess, counted_config
from flume_testkit.servers.ganglia import Gmond

from flume_sdk import Counter
from flume_sdk._ganglia import GangliaReporter


def ganglia_agent(tmp_path: Path, *defines: str) -> FlumeAgentProcess:
    conf = tmp_path / "a1.properties"
    conf.write_text(counted_config("a1"))
    return FlumeAgentProcess("a1", conf, tmp_path, monitoring="ganglia", defines=defines)


@pytest.fixture
def reporting_to() -> Iterator[list[FlumeAgentProcess]]:
    started: list[FlumeAgentProcess] = []
    yield started
    for agent in started:
        agent.stop()


def start(agents: list[FlumeAgentProcess], agent: FlumeAgentProcess) -> FlumeAgentProcess:
    agents.append(agent)
    agent.start()
    return agent


def test_gmond_receives_every_counter_under_flume_names(tmp_path: Path, gmond: Gmond,
                                                        reporting_to: list[FlumeAgentProcess]) -> None:
    start(reporting_to, ganglia_agent(tmp_path, f"flume.monitoring.hosts=127.0.0.1:{gmond.udp_port}",
                                      "flume.monitoring.pollFrequency=1"))

    def drained() -> bool:
        metric = gmond.metrics().get("flume.SINK.k1.EventDrainSuccessCount")
        return metric is not None and float(metric["VAL"]) == 250

    wait_until(drained, timeout=30, what="gmond holds the sink's drained count 250")
    metrics = gmond.metrics()
    drain = metrics["flume.SINK.k1.EventDrainSuccessCount"]
    assert drain["TYPE"] == "float"
    assert drain["SLOPE"] == "both"
    assert drain["TMAX"] == "60"
    assert drain["GROUP"] == "flume"
    assert float(metrics["flume.SOURCE.r1.EventAcceptedCount"]["VAL"]) == 250
    assert float(metrics["flume.CHANNEL.c1.ChannelCapacity"]["VAL"]) == 1000
    assert metrics["flume.CHANNEL.c1.Type"]["VAL"] == "CHANNEL"
    assert metrics["flume.CHANNEL.c1.Type"]["TYPE"] == "string"


def test_unresolvable_host_is_logged_once_and_the_others_still_get_reports(
        tmp_path: Path, reporting_to: list[FlumeAgentProcess]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(30)
        hosts = f"no-such-host.invalid:8649,127.0.0.1:{receiver.getsockname()[1]}"
        agent = start(reporting_to, ganglia_agent(tmp_path, f"flume.monitoring.hosts={hosts}",
                                                  "flume.monitoring.pollFrequency=1"))
        reports = 0
        while reports < 6:  # three reports: a metadata and a value message each
            if b"flume.SOURCE.r1.EventAcceptedCount" in receiver.recv(1500):
                reports += 1
    assert agent.is_running()
    assert agent.log_path.read_text().count("cannot send metrics to ganglia at no-such-host.invalid") == 1


def _xdr_strings(data: bytes, offset: int, count: int) -> tuple[list[str], int]:
    out = []
    for _ in range(count):
        (length,) = struct.unpack_from(">i", data, offset)
        out.append(data[offset + 4:offset + 4 + length].decode())
        offset += 4 + length + (-length % 4)
    return out, offset


def test_is_ganglia3_sends_the_3_0_user_defined_message(tmp_path: Path,
                                                        reporting_to: list[FlumeAgentProcess]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(30)
        port = receiver.getsockname()[1]
        start(reporting_to, ganglia_agent(tmp_path, f"flume.monitoring.hosts=127.0.0.1:{port}",
                                          "flume.monitoring.isGanglia3=true"))
        datagram = receiver.recv(1500)
    (message_id,) = struct.unpack_from(">i", datagram, 0)
    (kind, name, value, units), offset = _xdr_strings(datagram, 4, 4)
    slope, tmax, dmax = struct.unpack_from(">3i", datagram, offset)
    assert message_id == 0
    assert kind in ("float", "string")
    assert name.startswith(socket.gethostname() + ".flume.")
    assert (units, slope, tmax, dmax) == ("", 3, 60, 0)
    assert offset + 12 == len(datagram)
    assert value


def test_ganglia_3_1_sends_metadata_then_value() -> None:
    counter = Counter("SINK", "k1")
    counter.incr("EventDrainSuccessCount", 5)
    reporter = GangliaReporter(lambda: [counter], [("127.0.0.1", 9)], hostname="web1")
    datagrams = reporter.datagrams()
    index = next(i for i, d in enumerate(datagrams) if b"EventDrainSuccessCount" in d and
                 struct.unpack_from(">i", d)[0] == 128)
    meta, value = datagrams[index], datagrams[index + 1]
    (host, name), offset = _xdr_strings(meta, 4, 2)
    assert (host, name) == ("web1", "flume.SINK.k1.EventDrainSuccessCount")
    (kind, name2, units), offset = _xdr_strings(meta, offset + 4, 3)
    assert (kind, name2, units) == ("float", name, "")
    assert struct.unpack_from(">4i", meta, offset) == (3, 60, 0, 1)
    assert _xdr_strings(meta, offset + 16, 2)[0] == ["GROUP", "flume"]
    assert struct.unpack_from(">i", value)[0] == 133
    names, offset = _xdr_strings(value, 4, 2)
    assert names == ["web1", name]
    assert _xdr_strings(value, offset + 4, 2)[0] == ["%s", "5"]


def refused_start_log(agent: FlumeAgentProcess) -> str:
    """Start ``agent``, wait for it to exit on its own, return its log."""
    agent.start()
    try:
        wait_until(lambda: not agent.is_running(), timeout=30, what="the agent exits")
    finally:
        agent.stop()
    return agent.log_path.read_text()


@pytest.mark.parametrize(("define", "key"), [
    ("flume.monitoring.hosts=gmond-without-port", "flume.monitoring.hosts"),
    ("flume.monitoring.pollFrequency=often", "flume.monitoring.pollFrequency"),
])
def test_bad_ganglia_setting_stops_the_agent_before_it_starts(tmp_path: Path, define: str, key: str) -> None:
    log = refused_start_log(ganglia_agent(tmp_path, "flume.monitoring.hosts=127.0.0.1:8649", define))
    assert "nothing started" in log
    assert f"-D{key}: " in log


def test_unknown_monitoring_type_stops_the_agent_before_it_starts(tmp_path: Path) -> None:
    conf = tmp_path / "a1.properties"
    conf.write_text(counted_config("a1"))
    log = refused_start_log(FlumeAgentProcess("a1", conf, tmp_path, monitoring="statsd"))
    assert "-Dflume.monitoring.type: type 'statsd' is not supported (http, prometheus or ganglia)" in log
