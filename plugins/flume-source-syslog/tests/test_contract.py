"""``syslogtcp`` and ``syslogudp`` pass flume_testkit's ``SourceContract``.

Syslog has no reply message, so "acknowledged" means what the client can observe:

* TCP: the client sends its lines, half-closes, and waits (bounded) for the source to close its
  side. The source closes a connection only after every event read from it was committed, so a
  close is the acknowledgement of everything sent on that connection; a connection still open
  at the deadline acknowledged nothing.
* UDP cannot acknowledge anything to the sender. What the source *claims* is its
  ``EventAcceptedCount``; every datagram it could not commit must be counted as dropped
  instead. The driver waits until each datagram is accounted for either way and returns the
  accepted delta, so the contract checks that the source never claims a refused event.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from flume_source_syslog import SyslogTcpSource, SyslogUdpSource
from flume_testkit import SourceContract, SourceDriver, udp_accepted

__all__ = ["TestSyslogTcpContract", "TestSyslogUdpContract"]

pytestmark = pytest.mark.timeout(120)

Drive = Callable[[SourceDriver, int], int]

# How long a refused TCP connection is given to be closed by the source; with a healthy
# channel the close comes within milliseconds.
_TCP_ACK_WAIT = 1.5
_UDP_ACCOUNT_WAIT = 5.0


def _lines(count: int) -> bytes:
    return b"".join(b"<13>Nov 21 05:26:28 host app: contract %d\n" % i for i in range(count))


def _closed_by_peer(client: socket.socket, deadline: float) -> bool:
    """True once the source closed its side (EOF) before ``deadline``."""
    while (left := deadline - time.monotonic()) > 0:
        client.settimeout(left)
        try:
            if client.recv(4096) == b"":
                return True
        except TimeoutError:
            return False
        except OSError:
            return False  # a reset is not an orderly close-after-commit
    return False


def drive_tcp(driver: SourceDriver, count: int) -> int:
    """Send ``count`` lines on one connection; all of them are acknowledged by the close."""
    source = driver.source
    assert isinstance(source, SyslogTcpSource)
    with socket.create_connection(("127.0.0.1", source.ports[0]), timeout=5) as client:
        client.sendall(_lines(count))
        client.shutdown(socket.SHUT_WR)
        closed = _closed_by_peer(client, time.monotonic() + _TCP_ACK_WAIT)
    return count if closed else 0


def drive_udp(driver: SourceDriver, count: int) -> int:
    """Send ``count`` datagrams; return how many the source counted as accepted."""
    source = driver.source
    assert isinstance(source, SyslogUdpSource)
    return udp_accepted(source, source.port, _lines(count).splitlines(),
                        timeout=_UDP_ACCOUNT_WAIT)


class TestSyslogTcpContract(SourceContract):
    """syslogtcp: acknowledgement is the source closing the connection after the commit."""

    @pytest.fixture
    def make_source(self) -> Callable[..., SyslogTcpSource]:
        def make(**overrides: str) -> SyslogTcpSource:
            return SyslogTcpSource.from_config(
                "r1", {"host": "127.0.0.1", "port": "0", **overrides})
        return make

    @pytest.fixture
    def drive_source(self) -> Drive:
        return drive_tcp


class TestSyslogUdpContract(SourceContract):
    """syslogudp: acknowledgement is what the source counts as accepted (UDP has no reply)."""

    @pytest.fixture
    def make_source(self) -> Callable[..., SyslogUdpSource]:
        def make(**overrides: str) -> SyslogUdpSource:
            return SyslogUdpSource.from_config(
                "r1", {"host": "127.0.0.1", "port": "0", **overrides})
        return make

    @pytest.fixture
    def drive_source(self) -> Drive:
        return drive_udp
