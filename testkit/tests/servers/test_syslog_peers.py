"""Specification of the real syslog peers: logger, private rsyslogd, syslog-ng and loggen.

Run with ``-p flume_testkit.servers.syslog_peers`` so the fixtures are registered.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flume_testkit.servers._process import wait_until
from flume_testkit.servers.syslog_peers import (
    PeerCommandError,
    PeerUnavailableError,
    Rsyslog,
    RsyslogFactory,
    SyslogNgFactory,
    loggen_path,
    run_loggen,
    send_with_logger,
)

__all__: list[str] = []

RFC5424_LINE = re.compile(
    r"^<13>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d \S+ mytag - - "
    r'\[timeQuality [^\]]*\] hello world$'
)
RFC3164_LINE = re.compile(r"^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ mytag: hello world$")


class TcpCollector:
    """A plain TCP listener on 127.0.0.1 that keeps every byte it receives."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._data = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                with self._lock:
                    self._data += chunk

    def data(self) -> bytes:
        with self._lock:
            return bytes(self._data)

    def wait_for(self, size: int, timeout: float = 15.0) -> bytes:
        wait_until(lambda: len(self.data()) >= size, timeout=timeout, what=f"{size} bytes")
        return self.data()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


class UdpCollector:
    """A plain UDP socket on 127.0.0.1; datagrams are read on demand."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])

    def receive(self, timeout: float = 15.0) -> bytes:
        self._sock.settimeout(timeout)
        return self._sock.recv(65536)

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def tcp_collector() -> Iterator[TcpCollector]:
    collector = TcpCollector()
    yield collector
    collector.close()


@pytest.fixture
def loggen() -> None:
    """Skip unless syslog-ng's loggen can be fetched and unpacked here."""
    try:
        loggen_path()
    except PeerUnavailableError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def udp_collector() -> Iterator[UdpCollector]:
    collector = UdpCollector()
    yield collector
    collector.close()


def _one_line(data: bytes) -> str:
    assert data.endswith(b"\n"), data
    assert data.count(b"\n") == 1, data
    return data[:-1].decode()


def _octet_frame(collector: TcpCollector) -> str:
    """Wait for one whole ``LEN SP MSG`` frame and return MSG."""
    wait_until(lambda: b" " in collector.data(), timeout=15, what="an octet count")
    length = collector.data().partition(b" ")[0]
    data = collector.wait_for(len(length) + 1 + int(length))
    frame = data.partition(b" ")[2]
    assert len(frame) == int(length), data
    return frame.decode()


# --------------------------------------------------------------------------- logger


def test_logger_rfc5424_over_tcp_arrives_as_one_newline_framed_line(
    tcp_collector: TcpCollector,
) -> None:
    send_with_logger(tcp_collector.port, "hello world", rfc="rfc5424", tag="mytag")
    line = _one_line(tcp_collector.wait_for(1))
    assert RFC5424_LINE.match(line), line


def test_logger_rfc3164_over_tcp_arrives_as_one_newline_framed_line(
    tcp_collector: TcpCollector,
) -> None:
    send_with_logger(tcp_collector.port, "hello world", rfc="rfc3164", tag="mytag")
    line = _one_line(tcp_collector.wait_for(1))
    assert RFC3164_LINE.match(line), line


def test_logger_octet_count_prefixes_the_frame_length_without_newline(
    tcp_collector: TcpCollector,
) -> None:
    send_with_logger(tcp_collector.port, "hello world", rfc="rfc3164", tag="mytag",
                     octet_count=True)
    frame = _octet_frame(tcp_collector)
    assert RFC3164_LINE.match(frame), frame


def test_logger_over_udp_sends_one_datagram_without_newline(
    udp_collector: UdpCollector,
) -> None:
    send_with_logger(udp_collector.port, "hello world", tcp=False, rfc="rfc5424", tag="mytag")
    datagram = udp_collector.receive().decode()
    assert RFC5424_LINE.match(datagram), datagram


def test_logger_sets_the_priority_it_is_given(udp_collector: UdpCollector) -> None:
    send_with_logger(udp_collector.port, "x", tcp=False, rfc="rfc3164", priority="local3.err")
    assert udp_collector.receive().startswith(b"<155>")


def test_logger_does_not_truncate_long_messages(tcp_collector: TcpCollector) -> None:
    body = "x" * 5000
    send_with_logger(tcp_collector.port, body, rfc="rfc3164", tag="mytag")
    line = _one_line(tcp_collector.wait_for(5000 + 30))
    assert line.endswith("mytag: " + body)


def test_logger_to_a_closed_tcp_port_raises_peer_command_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = int(sock.getsockname()[1])
    with pytest.raises(PeerCommandError, match="is the receiver listening"):
        send_with_logger(port, "nobody home")


def test_logger_rejects_an_unknown_rfc_name() -> None:
    with pytest.raises(ValueError, match="rfc must be"):
        send_with_logger(1, "x", rfc="rfc9999")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- rsyslog


def test_rsyslog_forwarder_relays_a_tcp_message_as_rfc5424_newline_framed(
    rsyslog_factory: RsyslogFactory, tcp_collector: TcpCollector,
) -> None:
    relay = rsyslog_factory.forwarder(tcp_collector.port, rfc="rfc5424")
    send_with_logger(relay.port, "hello world", rfc="rfc5424", tag="mytag")
    line = _one_line(tcp_collector.wait_for(1))
    assert re.match(r"^<13>1 \S+ \S+ mytag - - \[timeQuality [^\]]*\] hello world$", line), line


def test_rsyslog_forwarder_relays_as_rfc3164_octet_counted(
    rsyslog_factory: RsyslogFactory, tcp_collector: TcpCollector,
) -> None:
    relay = rsyslog_factory.forwarder(tcp_collector.port, rfc="rfc3164", framing="octet")
    send_with_logger(relay.port, "hello world", rfc="rfc3164", tag="mytag")
    frame = _octet_frame(tcp_collector)
    assert RFC3164_LINE.match(frame), frame


def test_rsyslog_forwarder_relays_udp_input_to_a_udp_target(
    rsyslog_factory: RsyslogFactory, udp_collector: UdpCollector,
) -> None:
    relay = rsyslog_factory.forwarder(udp_collector.port, listen="udp", protocol="udp",
                                      rfc="rfc3164")
    send_with_logger(relay.port, "hello world", tcp=False, rfc="rfc3164", tag="mytag")
    datagram = udp_collector.receive().decode()
    assert RFC3164_LINE.match(datagram), datagram


def test_rsyslog_forwarder_delivers_once_a_late_target_starts_listening(
    rsyslog_factory: RsyslogFactory,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        target_port = int(probe.getsockname()[1])
    relay = rsyslog_factory.forwarder(target_port)
    send_with_logger(relay.port, "hello world", tag="mytag")
    late = socket.create_server(("127.0.0.1", target_port))
    late.settimeout(15)
    with late, late.accept()[0] as conn:
        conn.settimeout(15)
        assert conn.recv(65536).endswith(b"hello world\n")


def test_rsyslog_receiver_writes_received_lines_to_its_file(
    rsyslog_factory: RsyslogFactory,
) -> None:
    sink = rsyslog_factory.receiver()
    for i in range(3):
        send_with_logger(sink.port, f"line {i}", rfc="rfc3164", tag="mytag")
    lines = sink.wait_for_lines(3)
    # Each logger call is its own connection, so arrival order is not guaranteed.
    assert sorted(line.split("mytag: ")[1] for line in lines) == ["line 0", "line 1", "line 2"]


def test_rsyslog_receiver_raw_template_keeps_the_line_as_sent(
    rsyslog_factory: RsyslogFactory,
) -> None:
    sink = rsyslog_factory.receiver(template="FlumeRawMsg")
    send_with_logger(sink.port, "hello world", rfc="rfc5424", tag="mytag", octet_count=True)
    (line,) = sink.wait_for_lines(1)
    assert RFC5424_LINE.match(line), line


def test_rsyslog_receiver_behind_a_synced_disk_queue_still_writes_every_line(
    rsyslog_factory: RsyslogFactory,
) -> None:
    sink = rsyslog_factory.receiver(template="FlumeRawMsg", disk_queue=True,
                                    sync_queue_files=True)
    for i in range(3):
        send_with_logger(sink.port, f"queued {i}", rfc="rfc3164", tag="mytag")
    lines = sink.wait_for_lines(3)
    assert sorted(line.rsplit(" ", 1)[1] for line in lines) == ["0", "1", "2"]


def test_rsyslog_stop_ends_the_process_and_frees_the_port(
    rsyslog_factory: RsyslogFactory,
) -> None:
    sink = rsyslog_factory.receiver()
    sink.stop()
    assert not sink.is_running()
    with socket.create_server(("127.0.0.1", sink.port)):
        pass


def test_rsyslog_forwarder_rejects_an_unknown_framing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="framing must be one of"):
        Rsyslog.forwarder(tmp_path, 1, framing="crlf")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- syslog-ng


def test_syslog_ng_receiver_writes_received_lines_to_its_file(
    syslog_ng_factory: SyslogNgFactory,
) -> None:
    sink = syslog_ng_factory()
    for i in range(3):
        send_with_logger(sink.port, f"line {i}", rfc="rfc3164", tag="mytag")
    lines = sink.wait_for_lines(3)
    # Each logger call is its own connection, so arrival order is not guaranteed.
    assert sorted(line.split("mytag: ")[1] for line in lines) == ["line 0", "line 1", "line 2"]


def test_syslog_ng_in_rfc5424_mode_parses_the_message_part(
    syslog_ng_factory: SyslogNgFactory,
) -> None:
    sink = syslog_ng_factory(rfc5424=True)
    send_with_logger(sink.port, "hello world", rfc="rfc5424", tag="mytag")
    (line,) = sink.wait_for_lines(1)
    assert line.endswith("mytag: hello world"), line


def test_loggen_delivers_every_numbered_message_to_syslog_ng(
    syslog_ng_factory: SyslogNgFactory,
) -> None:
    sink = syslog_ng_factory()
    result = run_loggen(sink.port, 2000, 200, rfc5424=False)
    lines = sink.wait_for_lines(2000)
    seqs = {re.search(r"seq: (\d+)", line)[1] for line in lines}  # type: ignore[index]
    assert (result.count, len(seqs)) == (2000, 2000)


def test_loggen_rfc5424_lines_reach_an_rsyslog_receiver(
    rsyslog_factory: RsyslogFactory, loggen: None,
) -> None:
    sink = rsyslog_factory.receiver(template="FlumeRawMsg")
    result = run_loggen(sink.port, 500, 300, rfc5424=True)
    lines = sink.wait_for_lines(500)
    assert result.count == 500
    assert all(line.startswith("<38>1 ") for line in lines), lines[0]


def test_loggen_to_a_closed_port_raises_peer_command_error(loggen: None) -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = int(sock.getsockname()[1])
    with pytest.raises(PeerCommandError, match="is the receiver listening"):
        run_loggen(port, 10, 200, rfc5424=False)
