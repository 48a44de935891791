"""Sockets in tests: did the server under test close the connection?"""

from __future__ import annotations

import socket

__all__ = ["closed_by_peer"]


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
