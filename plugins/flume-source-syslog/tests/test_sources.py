"""The three sources over real sockets, fed by util-linux ``logger`` and raw clients."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from flume_source_syslog import (
    STATUS,
    MultiportSyslogTcpSource,
    SyslogTcpSource,
    SyslogUdpSource,
)
from flume_source_syslog._loop import RETRY_DELAYS
from flume_testkit import FakeClock
from flume_testkit.servers import wait_until
from flume_testkit.servers.syslog_peers import send_with_logger

from flume_sdk import ChannelProcessor, ChannelSelector, EventDrivenSource
from flume_sdk.components.memory_channel import MemoryChannel

pytestmark = pytest.mark.timeout(60)


def drain(channel: MemoryChannel, count: int, timeout: float = 10.0) -> list:
    events: list = []
    deadline = time.monotonic() + timeout
    while len(events) < count:
        assert time.monotonic() < deadline, f"got {len(events)} of {count} events"
        with channel.transaction() as tx:
            events += tx.take_batch(min(100, count - len(events)))
    return events


def drain_until(channel: MemoryChannel, done: Callable[[list], bool], timeout: float = 10.0) -> list:
    events: list = []
    deadline = time.monotonic() + timeout
    while not done(events):
        assert time.monotonic() < deadline, f"condition not met; got {events!r}"
        with channel.transaction() as tx:
            events += tx.take_batch(100)
    return events


@pytest.fixture
def channel() -> Iterator[MemoryChannel]:
    ch = MemoryChannel.from_config("c1", {"capacity": "10000", "transactionCapacity": "1000"})
    ch.start()
    yield ch
    ch.stop()


def started(source: EventDrivenSource, channel: MemoryChannel) -> EventDrivenSource:
    source.set_channel_processor(ChannelProcessor(ChannelSelector([channel])))
    source.start()
    return source


@pytest.fixture
def tcp(channel: MemoryChannel) -> Iterator[Callable[..., SyslogTcpSource]]:
    made: list[SyslogTcpSource] = []

    def make(**props: str) -> SyslogTcpSource:
        source = SyslogTcpSource.from_config("r1", {"host": "127.0.0.1", "port": "0", **props})
        made.append(source)
        started(source, channel)
        return source

    yield make
    for source in made:
        source.stop()


@pytest.mark.parametrize("rfc", ["rfc3164", "rfc5424"])
@pytest.mark.parametrize("octet_count", [False, True])
def test_logger_over_tcp_arrives_parsed(tcp, channel, rfc: str, octet_count: bool) -> None:
    source = tcp(clientIPHeader="ip")
    send_with_logger(source.ports[0], "hello flume", rfc=rfc, octet_count=octet_count,
                     tag="app", priority="local3.err")
    [event] = drain(channel, 1)
    assert event.headers["Facility"] == "19"
    assert event.headers["Severity"] == "3"
    assert event.headers["ip"] == "127.0.0.1"
    assert "timestamp" in event.headers
    assert event.body.endswith(b"hello flume")


def test_logger_over_udp_arrives_parsed(channel) -> None:
    source = SyslogUdpSource.from_config("r1", {"host": "127.0.0.1", "port": "0"})
    started(source, channel)
    try:
        send_with_logger(source.port, "over udp", tcp=False, rfc="rfc3164", tag="app")
        [event] = drain(channel, 1)
    finally:
        source.stop()
    assert event.body == b"app: over udp"
    assert event.headers["Severity"] == "5"


def test_multiport_sets_port_header_and_per_port_charset(channel) -> None:
    probe = [socket.socket() for _ in range(2)]
    for s in probe:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in probe]
    for s in probe:
        s.close()
    source = MultiportSyslogTcpSource.from_config("r1", {
        "host": "127.0.0.1", "ports": f"{ports[0]} {ports[1]}", "portHeader": "port",
        f"charset.port.{ports[1]}": "iso-8859-1",
    })
    started(source, channel)
    try:
        for port in ports:
            with socket.create_connection(("127.0.0.1", port)) as client:
                client.sendall(b"<13>Nov 21 05:26:28 h caf\xe9\n")
        events = sorted(drain(channel, 2), key=lambda e: e.headers["port"])
    finally:
        source.stop()
    assert [e.headers["port"] for e in events] == [str(p) for p in sorted(ports)]
    bodies = {e.headers["port"]: e.body for e in events}
    assert bodies[str(ports[1])] == b"caf\xe9"  # the charset reads the header; bytes stay
    assert bodies[str(ports[0])] == b"caf\xe9"


def test_full_channel_pauses_the_connection_and_loses_nothing(tcp) -> None:
    small = MemoryChannel.from_config("small", {"capacity": "50", "transactionCapacity": "50",
                                                "keep-alive": "0"})
    small.start()
    source = SyslogTcpSource.from_config("r2", {"host": "127.0.0.1", "port": "0",
                                                "batchSize": "50"})
    started(source, small)
    try:
        lines = b"".join(b"<13>Nov 21 05:26:28 h n%05d\n" % i for i in range(2000))
        with socket.create_connection(("127.0.0.1", source.ports[0])) as client:
            client.sendall(lines)
            wait_until(lambda: source.counter.get("ChannelWriteFail") > 0)
            got = drain(small, 2000, timeout=30)
    finally:
        source.stop()
        small.stop()
    assert [e.body for e in got] == [b"n%05d" % i for i in range(2000)]


def test_retry_backoff_waits_on_the_source_clock() -> None:
    """The backoff grows 10 ms -> 1 s on the component's clock: a FakeClock records every
    delay and no real time is spent waiting; the paused connection then loses nothing."""
    clock = FakeClock()
    small = MemoryChannel.from_config("small", {"capacity": "50", "transactionCapacity": "50",
                                                "keep-alive": "0"})
    small.start()
    source = SyslogTcpSource.from_config("r3", {"host": "127.0.0.1", "port": "0",
                                                "batchSize": "50"}, clock=clock)
    started(source, small)
    refusals = len(RETRY_DELAYS) + 2
    try:
        with socket.create_connection(("127.0.0.1", source.ports[0])) as client:
            client.sendall(b"".join(b"<13>Nov 21 05:26:28 h n%03d\n" % i for i in range(200)))
            wait_until(lambda: source.counter.get("ChannelWriteFail") > refusals)
            delays = [round(s, 6) for s in clock.sleeps[:refusals]]
            got = drain(small, 200, timeout=30)
    finally:
        source.stop()
        small.stop()
    assert delays == [*RETRY_DELAYS, RETRY_DELAYS[-1], RETRY_DELAYS[-1]]
    assert [e.body for e in got] == [b"n%03d" % i for i in range(200)]


def test_bad_client_does_not_stall_a_good_one(tcp, channel) -> None:
    source = tcp(eventSize="64")
    port = source.ports[0]
    silent = socket.create_connection(("127.0.0.1", port))
    partial = socket.create_connection(("127.0.0.1", port))
    partial.sendall(b"999 <13>never finished")
    garbage = socket.create_connection(("127.0.0.1", port))
    garbage.sendall(b"\x00\xff<999>" * 100 + b"\n")
    try:
        with socket.create_connection(("127.0.0.1", port)) as good:
            good.sendall(b"<13>Nov 21 05:26:28 h good\n")
        events = drain_until(channel, lambda got: any(e.body == b"good" for e in got))
    finally:
        for s in (silent, partial, garbage):
            s.close()
    assert any(e.headers.get(STATUS) == "Invalid" for e in events)


def _allow_open_files(needed: int) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} open files; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def test_thousand_idle_connections_do_not_block_a_working_one(tcp, channel) -> None:
    _allow_open_files(2200)  # both ends of 1,000 connections live in this process
    source = tcp()
    port = source.ports[0]
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
    try:
        wait_until(lambda: source.counter.get("OpenConnectionCount") >= 1000)
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"<13>Nov 21 05:26:28 h alive\n")
        [event] = drain(channel, 1)
    finally:
        for s in idle:
            s.close()
    assert event.body == b"alive"


def test_stop_releases_the_port(channel) -> None:
    source = SyslogTcpSource.from_config("r1", {"host": "127.0.0.1", "port": "0"})
    started(source, channel)
    port = source.ports[0]
    source.stop()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
