"""syslogtcp over TLS (a self-signed certificate made with the openssl CLI), and a real rsyslog
forwarder (imtcp -> omfwd, a private rsyslogd) relaying to syslogtcp."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flume_source_syslog import SyslogTcpSource
from flume_testkit import wait_until
from flume_testkit.servers.syslog_peers import RsyslogFactory, send_with_logger

from flume_sdk import ChannelProcessor, ChannelSelector, Event
from flume_sdk.components.memory_channel import MemoryChannel

__all__: list[str] = []

pytestmark = pytest.mark.timeout(120)


def _drain(channel: MemoryChannel, count: int, timeout: float = 15.0) -> list[Event]:
    events: list[Event] = []

    def taken() -> bool:
        with channel.transaction() as tx:
            events.extend(tx.take_batch(100))
        return len(events) >= count

    wait_until(taken, timeout=timeout, interval=0.01, what=f"{count} events")
    return events


@pytest.fixture
def channel() -> Iterator[MemoryChannel]:
    ch = MemoryChannel.from_config("c1", {"capacity": "10000", "transactionCapacity": "1000"})
    ch.start()
    yield ch
    ch.stop()


@pytest.fixture
def start_tcp(channel: MemoryChannel) -> Iterator[Callable[..., SyslogTcpSource]]:
    made: list[SyslogTcpSource] = []

    def start(**props: str) -> SyslogTcpSource:
        source = SyslogTcpSource.from_config("r1", {"host": "127.0.0.1", "port": "0", **props})
        source.set_channel_processor(ChannelProcessor(ChannelSelector([channel])))
        source.start()
        made.append(source)
        return source

    yield start
    for source in made:
        source.stop()


def _client_context(cert: Path, own: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    if own is not None:
        context.load_cert_chain(str(own[0]), str(own[1]))
    return context


def _send_tls(port: int, context: ssl.SSLContext, data: bytes) -> None:
    """Send ``data`` over TLS and close with a close_notify."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(data)
        tls.settimeout(10)
        with contextlib.suppress(ssl.SSLError, OSError):
            tls.unwrap()  # our close_notify; returns once the server answered with its own


def test_tls_client_messages_arrive_parsed(start_tcp, channel, tls_certificate) -> None:
    cert, key = tls_certificate
    source = start_tcp(ssl="true", **{"ssl.certfile": str(cert), "ssl.keyfile": str(key)})
    _send_tls(source.ports[0], _client_context(cert),
              b"<13>Nov 21 05:26:28 h one\n<165>1 2026-11-21T05:26:28.5Z h app - - - two\n")
    events = _drain(channel, 2)
    assert [e.body for e in events] == [b"one", b"app - - - two"]
    assert events[1].headers["Facility"] == "20"


def test_tls_source_requiring_client_certificates_refuses_a_client_without_one(
    start_tcp, channel, tls_certificate
) -> None:
    cert, key = tls_certificate
    source = start_tcp(ssl="true", **{"ssl.certfile": str(cert), "ssl.keyfile": str(key),
                                      "ssl.cafile": str(cert), "ssl.requireClientCert": "true"})
    with socket.create_connection(("127.0.0.1", source.ports[0]), timeout=10) as raw:
        try:
            with _client_context(cert).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"<13>Nov 21 05:26:28 h refused\n")
                # TLS 1.3 reports the refused certificate on the first read (alert or EOF)
                answer = tls.recv(1)
        except (ssl.SSLError, OSError):
            answer = b""
    assert answer == b""
    _send_tls(source.ports[0], _client_context(cert, own=(cert, key)),
              b"<13>Nov 21 05:26:28 h accepted\n")
    assert [e.body for e in _drain(channel, 1)] == [b"accepted"]


def test_plain_bytes_to_a_tls_port_deliver_nothing_and_do_not_stop_tls_clients(
    start_tcp, channel, tls_certificate
) -> None:
    cert, key = tls_certificate
    source = start_tcp(ssl="true", **{"ssl.certfile": str(cert), "ssl.keyfile": str(key)})
    with socket.create_connection(("127.0.0.1", source.ports[0]), timeout=10) as plain:
        plain.sendall(b"<13>Nov 21 05:26:28 h plaintext\n")
    _send_tls(source.ports[0], _client_context(cert), b"<13>Nov 21 05:26:28 h secure\n")
    assert [e.body for e in _drain(channel, 1)] == [b"secure"]


def test_flume_keystore_keys_serve_a_passphrase_protected_pem_key(
    start_tcp, channel, tmp_path: Path
) -> None:
    """keystore (a PEM chain), keystore-password and keystore-type = PEM, as Flume spells them."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is missing; install it with: apt-get install -y openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-passout", "pass:s3cret", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    source = start_tcp(ssl="true", keystore=str(cert), **{
        "ssl.keyfile": str(key), "keystore-password": "s3cret", "keystore-type": "pem"})
    _send_tls(source.ports[0], _client_context(cert), b"<13>Nov 21 05:26:28 h locked\n")
    assert [e.body for e in _drain(channel, 1)] == [b"locked"]


def _negotiated(port: int, context: ssl.SSLContext) -> str | None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        return tls.version()


def test_exclude_protocols_limits_the_tls_versions_offered(start_tcp, tls_certificate) -> None:
    cert, key = tls_certificate
    only12 = start_tcp(ssl="true", **{"ssl.certfile": str(cert), "ssl.keyfile": str(key),
                                      "exclude-protocols": "SSLv3 TLSv1.3"})
    only13 = start_tcp(ssl="true", **{"ssl.certfile": str(cert), "ssl.keyfile": str(key),
                                      "include-protocols": "TLSv1.3"})
    assert _negotiated(only12.ports[0], _client_context(cert)) == "TLSv1.2"
    client12 = _client_context(cert)
    client12.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        _negotiated(only13.ports[0], client12)


@pytest.mark.parametrize("rfc", ["rfc3164", "rfc5424"])
@pytest.mark.parametrize("framing", ["newline", "octet"])
def test_rsyslog_forwarder_relays_to_syslogtcp(
    start_tcp, channel, rsyslog_factory: RsyslogFactory, rfc: str, framing: str
) -> None:
    source = start_tcp()
    relay = rsyslog_factory.forwarder(source.ports[0], rfc=rfc, framing=framing)
    for i in range(3):
        send_with_logger(relay.port, f"relayed {i}", rfc=rfc, tag="app",
                         priority="local3.err")
    events = _drain(channel, 3, timeout=30)
    assert all(e.body.endswith(b"relayed %d" % i) for i, e in enumerate(events)), events
    for event in events:
        assert (event.headers["Facility"], event.headers["Severity"]) == ("19", "3")
        assert "timestamp" in event.headers and "host" in event.headers
        assert "flume.syslog.status" not in event.headers
    if rfc == "rfc5424":
        assert events[0].headers["version"] == "1"
