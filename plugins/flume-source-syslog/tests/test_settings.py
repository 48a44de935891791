"""Flume's keys for the three syslog source types: implemented, rejected with a reason, or
accepted with one warning (numProcessors). One test per class of key."""

from __future__ import annotations

import socket

import pytest
from flume_source_syslog import MultiportSyslogTcpSource, SyslogTcpSource, SyslogUdpSource
from flume_testkit.servers import free_port, wait_until

from flume_sdk import ChannelProcessor, ChannelSelector, ConfigurationError, EventDrivenSource
from flume_sdk.components.memory_channel import MemoryChannel

TYPES = {
    "syslogtcp": (SyslogTcpSource, {"host": "127.0.0.1", "port": "0"}),
    "multiport_syslogtcp": (MultiportSyslogTcpSource, {"host": "127.0.0.1", "ports": "0"}),
    "syslogudp": (SyslogUdpSource, {"host": "127.0.0.1", "port": "0"}),
}


def configure(kind: str, **extra: str) -> EventDrivenSource:
    cls, base = TYPES[kind]
    return cls.from_config("r1", {**base, **extra})  # type: ignore[attr-defined, no-any-return]


def problems(kind: str, **extra: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        configure(kind, **extra)
    return str(info.value)


@pytest.mark.parametrize("kind", sorted(TYPES))
@pytest.mark.parametrize("key", ["format.regex", "format.search", "format.replace",
                                 "format.dateFormat"])
def test_custom_timestamp_format_keys_are_rejected_with_the_reason(kind: str, key: str) -> None:
    message = problems(kind, **{key: "x"})
    assert f"r1.{key}" in message
    assert "not supported" in message and "RFC 3164" in message


@pytest.mark.parametrize("kind", ["syslogtcp", "multiport_syslogtcp"])
def test_num_processors_is_accepted_with_one_warning_naming_component_and_key(kind: str) -> None:
    [warning] = configure(kind, numProcessors="4").config_warnings
    assert str(warning).startswith("r1.numProcessors: = 4 has no effect")


def test_num_processors_absent_warns_nothing() -> None:
    assert configure("syslogtcp").config_warnings == []


def test_read_buffer_size_spelling_of_flumes_guide_is_an_alias() -> None:
    source = configure("multiport_syslogtcp", readBufferSize="4096")
    assert source.settings.read_buffer_bytes == 4096


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("charset.other", "utf-8", "charset.default or charset.port.<port>"),
    ("charset.port.1", "utf-8", "charset.default or charset.port.<port>"),
    ("charset.default", "no-such-codec", "unknown charset"),
])
@pytest.mark.parametrize("kind", sorted(TYPES))
def test_charset_keys_are_checked(kind: str, key: str, value: str, expected: str) -> None:
    message = problems(kind, **{key: value})
    assert f"r1.{key}" in message and expected in message


def test_udp_honours_charset_for_its_port() -> None:
    port = free_port()
    channel = MemoryChannel.from_config("c1", {"capacity": "100", "transactionCapacity": "100"})
    channel.start()
    source = SyslogUdpSource.from_config("r1", {"host": "127.0.0.1", "port": str(port),
                                                f"charset.port.{port}": "latin-1"})
    source.set_channel_processor(ChannelProcessor(ChannelSelector([channel])))
    source.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.sendto(b"<13>Nov 21 05:26:28 h caf\xe9", ("127.0.0.1", port))
        wait_until(lambda: source.counter.get("EventAcceptedCount") == 1)
        with channel.transaction() as tx:
            [event] = tx.take_batch(1)
    finally:
        source.stop()
        channel.stop()
    assert event.headers["host"] == "h" and event.body == b"caf\xe9"


TLS_ON = {"ssl": "true", "keystore": "server.pem"}


# The checks themselves are flume_sdk's (tests/kernel/test_tls.py); these prove both TCP
# sources run them, and report them with the source's other problems.
@pytest.mark.parametrize(("extra", "key", "expected"), [
    ({"ssl": "true"}, "keystore", "PEM certificate"),
    ({**TLS_ON, "keystore-type": "JKS"}, "keystore-type", "only PEM"),
    ({**TLS_ON, "include-protocols": "TLSv1"}, "include-protocols", "never offered"),
    ({**TLS_ON, "exclude-protocols": "TLSv1.2 TLSv1.3"}, "exclude-protocols",
     "no TLS protocol left"),
    ({**TLS_ON, "include-cipher-suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
     "include-cipher-suites", "OpenSSL names"),
    ({**TLS_ON, "exclude-cipher-suites": "ECDHE-RSA-AES128-GCM-SHA265"},
     "exclude-cipher-suites", "OpenSSL knows no cipher"),
    (TLS_ON, "keystore", "cannot read 'server.pem'"),
])
@pytest.mark.parametrize("kind", ["syslogtcp", "multiport_syslogtcp"])
def test_tls_keys_are_checked(kind: str, extra: dict[str, str], key: str, expected: str) -> None:
    message = problems(kind, **extra)
    assert f"r1.{key}" in message and expected in message


def test_tls_problems_are_reported_with_the_other_problems() -> None:
    message = problems("syslogtcp", **{**TLS_ON, "include-protocols": "TLSv1",
                                       "format.regex": "x"})
    assert "r1.format.regex" in message and "r1.include-protocols" in message


def test_tls_keys_are_not_checked_while_ssl_is_off() -> None:
    """A Flume config keeps its TLS keys (Flume's default keystore-type is JKS) with ssl off."""
    source = configure("syslogtcp", **{"keystore-type": "JKS", "include-protocols": "TLSv1"})
    assert source.settings.server_ssl_context("r1") is None  # type: ignore[attr-defined]


def test_tls_keys_are_not_keys_of_the_udp_source() -> None:
    assert "unknown key" in problems("syslogudp", ssl="true")


def test_misspelt_key_is_an_error_with_a_suggestion() -> None:
    message = problems("syslogtcp", eventsize="100")
    assert "unknown key" in message and "eventSize" in message
