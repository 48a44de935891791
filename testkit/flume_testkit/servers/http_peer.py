"""A real HTTP server on 127.0.0.1 that records every request and answers the status you set.

For sinks that POST (Flume's ``http`` sink): the test scripts the answer — one status for
every request, a queue of statuses, or a callable — and reads back what arrived. It is
Python's ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive), optionally behind TLS.

Fixture: ``http_peer`` (plain HTTP, stopped after the test).
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest

__all__ = ["HttpPeer", "ReceivedRequest", "http_peer", "running_http_peer"]


@attrs.frozen
class ReceivedRequest:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = int | Callable[[ReceivedRequest], int]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as written, no 40 ms stalls
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = ReceivedRequest(self.command, self.path, dict(self.headers.items()),
                                  self.rfile.read(length))
        status = self.server.peer._answer_for(request)
        reply = f"status {status}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_POST = do_PUT = do_GET = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    peer: HttpPeer


class HttpPeer:
    """A recording HTTP(S) server on a free port of 127.0.0.1.

    Args:
        tls: ``(cert.pem, key.pem)`` to serve HTTPS.
    """

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.peer = self
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = int(self._server.server_address[1])
        self.scheme = "https" if tls else "http"
        self.requests: list[ReceivedRequest] = []
        self.answers: list[int] = []
        self.status: Answer = 200
        self._queue: deque[int] = deque()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="http-peer", daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def answer_next(self, *statuses: int) -> None:
        """Answer the next requests with ``statuses``, in order, then ``status`` again."""
        with self._lock:
            self._queue.extend(statuses)

    def _answer_for(self, request: ReceivedRequest) -> int:
        with self._lock:
            if self._queue:
                status = self._queue.popleft()
            else:
                status = self.status(request) if callable(self.status) else self.status
            self.requests.append(request)
            self.answers.append(status)
            return status

    def accepted(self, ok: Callable[[int], bool] = lambda s: 200 <= s < 300) -> list[ReceivedRequest]:
        """The requests answered with a status ``ok`` accepts (2XX by default), in order."""
        with self._lock:
            return [r for r, s in zip(self.requests, self.answers, strict=True) if ok(s)]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def running_http_peer(tls: tuple[Path, Path] | None = None) -> Iterator[HttpPeer]:
    """A started :class:`HttpPeer`, stopped when the block ends."""
    peer = HttpPeer(tls)
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def http_peer() -> Iterator[HttpPeer]:
    """A started plain-HTTP :class:`HttpPeer` answering 200; stopped after the test."""
    with running_http_peer() as peer:
        yield peer
