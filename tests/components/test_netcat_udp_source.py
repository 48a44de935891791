"""netcatudp: every line of every datagram is an event; the sender's address on request."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from flume_testkit import LogRecorder, SourceDriver, memory_channel, take_all, wait_until

from flume_sdk import ConfigurationError
from flume_sdk.components.netcat_udp_source import NetcatUdpSource, split_datagram

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def driver() -> Iterator[SourceDriver]:
    source = NetcatUdpSource.from_config(
        "r1", {"bind": "127.0.0.1", "port": "0", "remoteAddressHeader": "addr"})
    with SourceDriver(source, memory_channel(1000)) as started:
        yield started.start()


def _send(port: int, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for datagram in datagrams:
            client.sendto(datagram, ("127.0.0.1", port))


def _accepted(driver: SourceDriver, count: int) -> None:
    wait_until(lambda: driver.source.counter.get("EventAcceptedCount") >= count, timeout=5,
               what=f"{count} events accepted")


def test_each_line_of_a_datagram_is_an_event_with_crs_dropped() -> None:
    assert split_datagram(b"a\r\nb\nc") == [b"a", b"b", b"c"]
    assert split_datagram(b"only\n") == [b"only"]
    assert split_datagram(b"") == []
    assert split_datagram(b"\n\n") == [b"", b""]


def test_datagrams_become_events_with_the_remote_address_header(driver: SourceDriver) -> None:
    source = driver.source
    assert isinstance(source, NetcatUdpSource)
    _send(source.port, b"one\ntwo\n", b"three")
    _accepted(driver, 3)
    events = take_all(driver.channel)
    assert [e.body for e in events] == [b"one", b"two", b"three"]
    assert {e.headers["addr"] for e in events} == {"127.0.0.1"}


def test_without_remote_address_header_events_have_no_headers() -> None:
    source = NetcatUdpSource.from_config("r1", {"bind": "127.0.0.1", "port": "0"})
    with SourceDriver(source, memory_channel(10)) as driver:
        driver.start()
        _send(source.port, b"x\n")
        _accepted(driver, 1)
        assert [e.headers for e in take_all(driver.channel)] == [{}]


def test_a_refused_batch_is_dropped_counted_and_logged() -> None:
    source = NetcatUdpSource.from_config("r1", {"bind": "127.0.0.1", "port": "0"})
    with SourceDriver(source, memory_channel(1, keep_alive=0)) as driver, \
            LogRecorder("flume_sdk.source.netcatudp") as logs:
        driver.start()
        _send(source.port, b"fits\n")
        _accepted(driver, 1)
        _send(source.port, b"no room\n")
        wait_until(lambda: source.counter.get("EventDroppedCount") == 1, timeout=5,
                   what="the refused event counted as dropped")
        assert source.counter.get("ChannelWriteFail") == 1
        assert any("dropped 1 event(s)" in m for m in logs.messages())


def test_a_port_in_use_fails_start_clearly() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        source = NetcatUdpSource.from_config("r1", {"bind": "127.0.0.1", "port": str(port)})
        with pytest.raises(OSError, match="in use"):
            source.start()
        source.stop()


@pytest.mark.parametrize(("props", "key"), [
    ({"port": "1"}, "bind"),
    ({"bind": "127.0.0.1", "port": "70000"}, "port"),
    ({"bind": "127.0.0.1", "port": "x"}, "port"),
    ({"bind": "127.0.0.1", "port": "1", "remoteAdressHeader": "a"}, "remoteAdressHeader"),
])
def test_bad_settings_name_the_key(props: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        NetcatUdpSource.from_config("r1", props, component="a1.sources.r1")
    assert key in str(info.value) and "a1.sources.r1" in str(info.value)
