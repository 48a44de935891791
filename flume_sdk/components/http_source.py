"""``http``: Flume's HTTPSource; a request's events are committed before the reply.

A POST (or GET, as in Flume) is turned into events by the handler and put in the
channel in one transaction. Replies:

- ``200`` only after the channel committed every event of the request,
- ``503`` when the channel is full or refuses the batch (the client retries),
- ``400`` with a message when the handler cannot parse the body,
- ``413`` when the body is larger than ``maxRequestBytes`` (or the BLOB handler's
  ``handler.maxBlobLength``); ``411`` without a ``Content-Length``; ``400`` for a
  ``Content-Length`` that is not a non-negative number (before reading any body),
- ``503`` and a closed connection beyond ``maxConnections`` open connections.

Every refusal counts ``EventReadFail``. A client silent for ``requestTimeout`` ms is
disconnected, and so is one that takes longer than ``requestDeadline`` ms to send a whole
request (a slow-drip client); both deadlines are real time.

Handlers (``handler``; Flume's class names work):

- ``JSON`` / ``org.apache.flume.source.http.JSONHandler``: a JSON array of
  ``{"headers": {...}, "body": "..."}``; the charset comes from the
  ``Content-Type`` (UTF-8 by default).
- ``BLOB`` / ``org.apache.flume.sink.solr.morphline.BlobHandler``: one event whose
  body is the request body and whose headers are the query parameters.

Each connection is served on its own thread (at most ``maxConnections``) with a socket
timeout, so a client sending garbage or stalling never holds up the others.

HTTPS: ``ssl = true`` (or Flume's older ``enableSSL``) with Flume's SSL keys in Python's
terms (a PEM ``keystore``; see :class:`flume_sdk.TlsServerSettings`), or Flume's global
ones (``-Djavax.net.ssl.keyStore``, ``FLUME_SSL_KEYSTORE_PATH``... see
:class:`flume_sdk.TlsDefaults`). The TLS handshake runs on the connection's own thread, under
the same timeout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qsl, urlsplit

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    AcceptBackoff,
    ChannelFullException,
    Clock,
    ConfigurationError,
    Event,
    EventDrivenSource,
    FlumeError,
    RateLimitedLog,
    TlsServerSettings,
    at_least,
    bind_problems,
    in_range,
    namespace,
    parse_settings,
    setting,
)

__all__ = ["BlobHandler", "HTTPBadRequest", "HTTPSource", "HTTPSourceSettings", "JSONHandler"]

log = logging.getLogger("flume_sdk.source.http")
_REAP_INTERVAL = 0.25


class HTTPBadRequest(FlumeError, ValueError):
    """The request body cannot become events; the client gets this message with a 400/413."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Handler(Protocol):
    """Turns a request into events (Flume's ``HTTPSourceHandler``)."""

    def events(self, body: bytes, content_type: str, query: Mapping[str, str]) -> list[Event]:
        """The events of one request; raise :class:`HTTPBadRequest` for a bad body."""
        ...


@attrs.frozen(kw_only=True)
class JSONHandlerSettings:
    """The JSON handler has no keys."""


class JSONHandler:
    """Flume's JSON format: ``[{"headers": {"k": "v"}, "body": "text"}, ...]``."""

    Settings: ClassVar[type] = JSONHandlerSettings

    def __init__(self, settings: JSONHandlerSettings) -> None:
        self.settings = settings

    def events(self, body: bytes, content_type: str, query: Mapping[str, str]) -> list[Event]:
        charset = _charset(content_type)
        try:
            data = json.loads(body.decode(charset))
        except (UnicodeDecodeError, LookupError) as exc:
            msg = f"body is not valid {charset}: {exc}"
            raise HTTPBadRequest(msg) from exc
        except ValueError as exc:
            msg = f"body is not valid JSON: {exc}"
            raise HTTPBadRequest(msg) from exc
        except RecursionError as exc:
            msg = "body is JSON nested too deeply (an event is an object inside one array)"
            raise HTTPBadRequest(msg) from exc
        if not isinstance(data, list):
            msg = (f'expected a JSON array of {{"headers": {{...}}, "body": "..."}} objects '
                   f"(got a JSON {type(data).__name__})")
            raise HTTPBadRequest(msg)
        return [self._event(i, item, charset) for i, item in enumerate(data)]

    @staticmethod
    def _event(index: int, item: Any, charset: str) -> Event:
        if not isinstance(item, dict):
            msg = f"event {index}: expected an object with headers and body (got {item!r:.60})"
            raise HTTPBadRequest(msg)
        headers = item.get("headers") or {}
        body = item.get("body")
        if not isinstance(headers, dict):
            msg = f"event {index}: headers must be an object of strings (got {headers!r:.60})"
            raise HTTPBadRequest(msg)
        bad = [k for k, v in headers.items() if not isinstance(v, (str, int, float, bool))]
        if bad:
            msg = f"event {index}: header {bad[0]!r} must be a string (got {headers[bad[0]]!r:.60})"
            raise HTTPBadRequest(msg)
        if body is not None and not isinstance(body, str):
            msg = f"event {index}: body must be a string (got {type(body).__name__})"
            raise HTTPBadRequest(msg)
        text_headers = {str(k): _text(v) for k, v in headers.items()}
        return Event((body or "").encode(charset), text_headers)


@attrs.frozen(kw_only=True)
class BlobHandlerSettings:
    max_blob_length: int = setting(default=100_000_000, validator=at_least(1),
                                   help="largest body in bytes; larger requests get 413")


class BlobHandler:
    """One event per request: the body as is, the query parameters as headers."""

    Settings: ClassVar[type] = BlobHandlerSettings

    def __init__(self, settings: BlobHandlerSettings) -> None:
        self.settings = settings

    def events(self, body: bytes, content_type: str, query: Mapping[str, str]) -> list[Event]:
        if len(body) > self.settings.max_blob_length:
            msg = f"body of {len(body)} bytes exceeds handler.maxBlobLength"
            raise HTTPBadRequest(msg, 413)
        return [Event(body, dict(query))]


_HANDLERS: dict[str, type] = {
    "json": JSONHandler,
    "org.apache.flume.source.http.jsonhandler": JSONHandler,
    "blob": BlobHandler,
    "org.apache.flume.sink.solr.morphline.blobhandler": BlobHandler,
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


def _handler_class(name: str) -> type:
    cls = _HANDLERS.get(name.strip().lower())
    if cls is None:
        msg = f"must be JSON, BLOB or one of Flume's handler classes (got {name!r})"
        raise ValueError(msg)
    return cls


@attrs.frozen(kw_only=True, slots=False)
class HTTPSourceSettings(TlsServerSettings):
    port: int = setting(required=True, validator=in_range(0, 65535), help="TCP port (0 = any)")
    bind: str = setting(default="0.0.0.0", help="address to listen on")
    handler: str = setting(default="org.apache.flume.source.http.JSONHandler",
                           help="JSON, BLOB or Flume's handler class name")
    handler_properties: dict[str, str] = namespace(
        "handler.", help="the handler's keys (handler.maxBlobLength)")
    max_request_bytes: int = setting(default=64 * 1024 * 1024, validator=at_least(1),
                                     help="largest request body; larger ones get 413")
    request_timeout: int = setting(default=30_000, validator=at_least(1),
                                   help="ms a client may stay silent mid-request or between "
                                   "requests (the idle timeout)")
    request_deadline: int = setting(default=60_000, validator=at_least(1),
                                    help="ms a client has to send one whole request (headers "
                                    "and body); slower ones are disconnected")
    max_connections: int = setting(default=256, validator=at_least(1),
                                   help="connections served at once, one thread each; more "
                                   "get 503 and are closed")
    ssl: bool = setting(default=False, aliases=("enableSSL",), help="serve HTTPS")
    jetty: dict[str, str] = namespace(
        "QueuedThreadPool.", help="Jetty tuning keys: accepted and ignored")
    jetty_http: dict[str, str] = namespace(
        "HttpConfiguration.", help="Jetty tuning keys: accepted and ignored")
    jetty_connector: dict[str, str] = namespace(
        "ServerConnector.", help="Jetty tuning keys: accepted and ignored")

    def warnings(self) -> Iterator[tuple[str, str]]:
        for prefix, keys in (("QueuedThreadPool.", self.jetty), ("HttpConfiguration.", self.jetty_http),
                             ("ServerConnector.", self.jetty_connector)):
            for key in keys:
                yield prefix + key, "Jetty tuning key: accepted for compatibility, no effect here"

    def problems(self) -> Iterator[tuple[str, str]]:
        """The handler and its keys are checked here, so typos fail at configuration time."""
        yield from super().problems()
        try:
            _build_handler(self.handler, self.handler_properties)
        except ConfigurationError as exc:
            for problem in exc.problems:
                yield f"handler.{problem.key}", problem.message
        except ValueError as exc:
            yield "handler", str(exc)

    def preflight(self) -> Iterator[tuple[str, str]]:
        yield from bind_problems("port", self.bind, self.port)


class _Server(ThreadingHTTPServer):
    """Remembers open connections so ``stop`` can end stalled ones instead of waiting."""

    daemon_threads = False
    block_on_close = True
    request_queue_size = 1024  # socketserver's 5 makes a burst of clients wait for minutes

    def __init__(self, address: tuple[str, int], handler: type, source: HTTPSource) -> None:
        super().__init__(address, handler)
        self.source = source
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.deadlines: dict[socket.socket, float] = {}
        self.late: set[socket.socket] = set()
        self.stopping = threading.Event()
        self.backoff = AcceptBackoff(source, log, clock=source.clock)
        self.reaper = threading.Thread(target=self._reap, name=f"{source.name}-deadlines",
                                       daemon=True)

    def get_request(self) -> tuple[socket.socket, Any]:
        """``accept()``; a transient failure (out of file descriptors) is waited out, not spun on."""
        try:
            request = super().get_request()
        except OSError as exc:
            if self.backoff.is_transient(exc):
                self.backoff.failed(exc, self.stopping)
            raise  # socketserver drops this attempt and keeps serving
        self.backoff.succeeded()
        return request

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            full = len(self.connections) >= self.source.settings.max_connections
            if not full:
                self.connections.add(request)
                self.source.counter.set("OpenConnectionCount", len(self.connections))
        if full:
            self._refuse(request)
            return
        super().process_request(request, client_address)

    def _refuse(self, request: socket.socket) -> None:
        """Over ``maxConnections``: a 503 without reading the request, then close."""
        self.source.counter.incr("RefusedConnectionCount")
        limit = self.source.settings.max_connections
        body = f"too many connections (maxConnections = {limit}), retry later\n".encode()
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                            b"Content-Type: text/plain; charset=utf-8\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        super().shutdown_request(request)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
            self.deadlines.pop(request, None)
            self.late.discard(request)
            self.source.counter.set("OpenConnectionCount", len(self.connections))
        super().shutdown_request(request)

    def request_started(self, request: socket.socket) -> None:
        deadline = self.source.settings.request_deadline / 1000
        with self.connections_lock:
            self.deadlines[request] = time.monotonic() + deadline

    def request_read(self, request: socket.socket) -> None:
        with self.connections_lock:
            self.deadlines.pop(request, None)

    def reaped(self, request: socket.socket) -> bool:
        """Whether ``request`` was disconnected at its deadline (and counted then)."""
        with self.connections_lock:
            return request in self.late

    def _reap(self) -> None:
        """Disconnect clients that take longer than ``requestDeadline`` to send a request."""
        while not self.stopping.wait(_REAP_INTERVAL):
            now = time.monotonic()
            with self.connections_lock:
                late = [conn for conn, due in self.deadlines.items() if now >= due]
                for conn in late:
                    del self.deadlines[conn]
                self.late.update(late)
            for conn in late:
                self.source.counter.incr("EventReadFail")
                self.source.late.failed(
                    "request deadline", "a client took longer than requestDeadline = "
                    f"{self.source.settings.request_deadline} ms to send its request; "
                    "disconnected")
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed (a bad TLS handshake, a reset) is logged in one line."""
        exc = sys.exc_info()[1]
        if not self.reaped(request):
            self.source.late.failed("connection", exc if exc is not None else "failed")

    def drop_connections(self) -> None:
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


def _build_handler(name: str, properties: Mapping[str, str]) -> Handler:
    cls = _handler_class(name)
    settings = parse_settings(getattr(cls, "Settings"), dict(properties),  # noqa: B009
                              component="handler")
    return cls(settings)  # type: ignore[no-any-return]


class HTTPSource(EventDrivenSource):
    """Events over HTTP; see the module docstring for the replies."""

    Settings: ClassVar[type] = HTTPSourceSettings
    settings: HTTPSourceSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("RefusedConnectionCount",)

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self.late = RateLimitedLog(log, f"http source {name}", clock=clock)
        self.handler = _build_handler(self.settings.handler, self.settings.handler_properties)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``)."""
        return int(self._server.server_address[1]) if self._server else self.settings.port

    def do_start(self) -> None:
        context = self.settings.server_ssl_context(self.name)
        server = _Server((self.settings.bind, self.settings.port), _request_handler(self), self)
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True,
                                                do_handshake_on_connect=False)
        self._server = server
        server.reaper.start()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"{self.name}-http", daemon=True)
        self._thread.start()

    def do_stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.drop_connections()
        server.server_close()
        server.reaper.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def accept(self, body: bytes, content_type: str, query: Mapping[str, str]) -> tuple[int, str]:
        """Run one request through the handler and the channel; (HTTP status, message)."""
        counter = self.counter
        try:
            events = self.handler.events(body, content_type, query)
        except HTTPBadRequest as exc:
            counter.incr("EventReadFail")
            return exc.status, str(exc)
        delivered = self.deliver(events)
        if isinstance(delivered.error, ChannelFullException):
            return 503, f"channel full, retry later: {delivered.error}"
        if delivered.error is not None:
            return 503, f"channel refused the events, retry later: {delivered.error}"
        return 200, ""


def _request_handler(source: HTTPSource) -> type[BaseHTTPRequestHandler]:
    limit = source.settings.max_request_bytes

    class _Handler(BaseHTTPRequestHandler):
        timeout = source.settings.request_timeout / 1000
        protocol_version = "HTTP/1.1"
        server_version = "flume-sdk-http"

        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._refuse(405, "use POST")

        def handle_one_request(self) -> None:
            self.server.request_started(self.connection)  # type: ignore[attr-defined]
            try:
                super().handle_one_request()
            finally:
                self.server.request_read(self.connection)  # type: ignore[attr-defined]

        def _serve(self) -> None:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                self._refuse(411, "send a Content-Length; chunked bodies are not accepted")
                return
            text = (self.headers.get("Content-Length") or "0").strip()
            if not text.isdigit():  # int() would take "-1", "+5" and " 1_0 "
                self._refuse(400, f"Content-Length must be a non-negative number (got {text!r:.20})")
                return
            length = int(text)
            if length > limit:
                self._refuse(413, f"body of {length} bytes exceeds maxRequestBytes = {limit}")
                return
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                self.close_connection = True
                return
            self.server.request_read(self.connection)  # type: ignore[attr-defined]
            query = dict(parse_qsl(urlsplit(self.path).query))
            status, message = source.accept(body, self.headers.get("Content-Type", ""), query)
            self._reply(status, message)

        def send_error(self, code: int, message: str | None = None,
                       explain: str | None = None) -> None:
            """A request the HTTP parser refused (a bad request line, headers too long)."""
            if not self.server.reaped(self.connection):  # type: ignore[attr-defined]
                source.counter.incr("EventReadFail")
            super().send_error(code, message, explain)

        def _refuse(self, status: int, message: str) -> None:
            """Refuse the request before reading its body; counted, and the connection closes."""
            source.counter.incr("EventReadFail")
            self._reply(status, message, True)

        def _reply(self, status: int, message: str, close: bool = False) -> None:
            data = (message + "\n").encode() if message else b""
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s: %s", source.name, format % args)

    return _Handler

