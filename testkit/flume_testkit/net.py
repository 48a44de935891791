"""Sockets in tests: did the server under test close the connection? What did a UDP source accept?"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from flume_sdk import Source
from flume_testkit.waiting import wait_until

__all__ = ["closed_by_peer", "connect_when_listening", "udp_accepted"]


def closed_by_peer(sock: socket.socket, timeout: float = 5.0) -> bool:
    """Read until EOF; ``True`` if the peer closed (or reset) the connection within ``timeout``."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def connect_when_listening(port: int, timeout: float = 30.0) -> socket.socket:
    """A TCP connection to 127.0.0.1:``port`` once something listens there (``timeout`` also
    becomes the socket's timeout)."""
    box: list[socket.socket] = []

    def connected() -> bool:
        box.append(socket.create_connection(("127.0.0.1", port), timeout=timeout))
        return True

    wait_until(connected, timeout=timeout, what=f"a listener on 127.0.0.1:{port}")
    return box[0]


def udp_accepted(source: Source, port: int, datagrams: Sequence[bytes], *, events: int | None = None,
                 timeout: float = 5.0) -> int:
    """Send ``datagrams`` to a UDP source; return how many events it counted as accepted.

    UDP cannot acknowledge, so a UDP source's acknowledgement is its ``EventAcceptedCount``,
    and every event it could not commit must be counted in ``EventDroppedCount`` instead.
    This waits until all ``events`` (default: one per datagram) are accounted for either way.
    """
    counter = source.counter
    accepted0, dropped0 = counter.get("EventAcceptedCount"), counter.get("EventDroppedCount")
    expected = len(datagrams) if events is None else events

    def accounted() -> int:
        return (counter.get("EventAcceptedCount") - accepted0
                + counter.get("EventDroppedCount") - dropped0)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for datagram in datagrams:
            client.sendto(datagram, ("127.0.0.1", port))
    wait_until(lambda: accounted() >= expected, timeout=timeout, interval=0.005,
               what=f"{source.name} accounting for {expected} events (accepted + dropped)")
    return int(counter.get("EventAcceptedCount") - accepted0)
