"""HTTP monitoring: Flume's ``/metrics`` JSON, a Prometheus view and an honest ``/health``.

``GET /metrics`` answers exactly as Flume's HTTP monitoring does: one object per
component keyed ``SOURCE.r1`` / ``CHANNEL.c1`` / ``SINK.k1``, every value a
string. ``GET /metrics/prometheus`` serves the same counters in Prometheus text
format (:mod:`flume_sdk._prometheus`). With ``prometheus=True``
(``-Dflume.monitoring.type=prometheus``) ``/metrics`` is the Prometheus text, where a
scrape looks by default, and the JSON moves to ``/metrics/json`` (served in both modes).
``GET /health`` tells whether the agent does its job: 200 while its status is ``ok``
or ``degraded``, 503 while ``failing`` or ``stopped`` (the document and its semantics
are described in ``flume_sdk._health_report``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flume_sdk._counters import Counter
from flume_sdk._prometheus import CONTENT_TYPE, PrometheusExposition

__all__ = ["MonitoringServer", "flume_json"]

_HOME = (b"<html><body><h1>flume-sdk agent</h1><a href='/metrics'>/metrics</a> "
         b"<a href='/metrics/prometheus'>/metrics/prometheus</a> "
         b"<a href='/health'>/health</a></body></html>")


def flume_json(counters: list[Counter]) -> dict[str, dict[str, str]]:
    """Flume's ``/metrics`` document."""
    return {c.group_key: c.snapshot() for c in counters}


class MonitoringServer:
    """Serves the agent's counters over HTTP in a daemon thread.

    Args:
        counters: returns the current components' counters (changes on reload).
        health: returns the health document.
        host: address to bind.
        port: port to bind (Flume's default is 41414; 0 picks a free one).
        agent: the agent's name (the ``agent`` label of Prometheus samples).
        prometheus: serve Prometheus text at ``/metrics`` (JSON stays at ``/metrics/json``).
    """

    def __init__(self, counters: Callable[[], list[Counter]], health: Callable[[], dict[str, Any]],
                 host: str = "0.0.0.0", port: int = 41414, *, agent: str = "",
                 prometheus: bool = False) -> None:
        handler = _handler(counters, health, PrometheusExposition(agent, counters), prometheus)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="monitoring-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()


def _handler(counters: Callable[[], list[Counter]], health: Callable[[], dict[str, Any]],
             exposition: PrometheusExposition, prometheus: bool) -> type[BaseHTTPRequestHandler]:
    text_paths = {"/metrics/prometheus", "/metrics"} if prometheus else {"/metrics/prometheus"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in text_paths:
                self._send(200, CONTENT_TYPE, exposition.render())
            elif path in ("/metrics", "/metrics/json"):
                self._send(200, "application/json", json.dumps(flume_json(counters())).encode())
            elif path == "/health":
                doc = health()
                self._send(200 if doc["status"] in ("ok", "degraded") else 503, "application/json",
                           json.dumps(doc).encode())
            elif path == "/":
                self._send(200, "text/html", _HOME)
            else:
                self._send(404, "text/plain", b"not found\n")

        def do_TRACE(self) -> None:
            self._send(403, "text/plain", b"forbidden\n")

        do_OPTIONS = do_TRACE

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Requests are not worth a log line each."""

    return Handler
