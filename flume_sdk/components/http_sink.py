"""``http``: Flume 1.9's HTTP sink — POST each event's body, then commit or roll back by status.

What happens after an answer is Flume's per-status rules: ``rollback.CODE``,
``backoff.CODE`` and ``incrementMetrics.CODE``, where ``CODE`` is a status (``503``) or a
group (``5XX``); the exact status wins over its group, the group over
``defaultRollback``/``defaultBackoff``/``defaultIncrementMetrics``. Flume's defaults roll
back and back off on *every* status, 2XX included, so a configuration needs
``rollback.2XX = false`` (or ``200``) to ever commit; that case is warned about.

Ours, beside Flume's keys: ``batchSize`` (events per transaction; 1, as in Flume) and the
opt-in ``batchFormat = json|ndjson``, one POST per batch holding every event's headers and
body (the JSON array is what the ``http`` source's JSON handler reads). An ``https://``
endpoint verifies the server with Flume's global truststore settings or ``truststore``.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import ssl
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import attrs

from flume_sdk import (
    SYSTEM_CLOCK,
    Clock,
    Event,
    EventDeliveryException,
    Sink,
    Status,
    TlsClientSettings,
    Transaction,
    TransactionState,
    at_least,
    namespace,
    one_of,
    setting,
)

__all__ = ["HttpSink", "HttpSinkSettings", "StatusRules"]

log = logging.getLogger("flume_sdk.sink.http")
_RULE_KINDS = ("backoff", "rollback", "incrementMetrics")


def _status_key(code: str) -> bool:
    return len(code) == 3 and code[0] in "12345" and (code[1:].isdigit() or code[1:].upper() == "XX")


@attrs.frozen
class StatusRules:
    """One of Flume's per-status switches: exact codes, then ``nXX`` groups, then the default."""

    default: bool
    overrides: dict[str, bool]

    def __call__(self, status: int) -> bool:
        code = str(status)
        for key in (code, code[0] + "XX"):
            if key in self.overrides:
                return self.overrides[key]
        return self.default


def _rules(raw: dict[str, str], default: bool) -> StatusRules:
    return StatusRules(default, {code.upper(): value.strip().lower() == "true"
                                 for code, value in raw.items()})


@attrs.frozen(kw_only=True, slots=False)
class HttpSinkSettings(TlsClientSettings):
    endpoint: str = setting(required=True, help="the http:// or https:// URL to POST to")
    connect_timeout: int = setting(default=5000, validator=at_least(1),
                                   help="milliseconds to connect")
    request_timeout: int = setting(default=5000, validator=at_least(1),
                                   help="milliseconds to wait for the answer")
    content_type_header: str = setting(default="text/plain", help="Content-Type of each POST")
    accept_header: str = setting(default="text/plain", help="Accept of each POST")
    default_backoff: bool = setting(default=True, help="back off after any status")
    default_rollback: bool = setting(default=True, help="roll back after any status")
    default_increment_metrics: bool = setting(default=False,
                                              help="count EventDrainSuccessCount after any status")
    backoff: dict[str, str] = namespace("backoff.", help="per status or nXX group: true/false")
    rollback: dict[str, str] = namespace("rollback.", help="per status or nXX group: true/false")
    increment_metrics: dict[str, str] = namespace("incrementMetrics.",
                                                  help="per status or nXX group: true/false")
    batch_size: int = setting(default=1, validator=at_least(1),
                              help="events per transaction (ours; Flume takes one)")
    batch_format: str = setting(default="none", validator=one_of("none", "json", "ndjson"),
                                help="none: one POST per event (Flume); json/ndjson: one per batch")
    batch_body_encoding: str = setting(default="text", validator=one_of("text", "base64"),
                                       help="bodies in json/ndjson batches: UTF-8 text or base64")

    @property
    def url(self) -> urllib.parse.SplitResult:
        return urllib.parse.urlsplit(self.endpoint.strip())

    @property
    def https(self) -> bool:
        return self.url.scheme == "https"

    def problems(self) -> Iterable[tuple[str, str]]:
        url = self.url
        if url.scheme not in ("http", "https") or not url.hostname:
            yield "endpoint", f"must be an http:// or https:// URL (got {self.endpoint!r})"
        for kind, raw in zip(_RULE_KINDS, (self.backoff, self.rollback, self.increment_metrics),
                             strict=True):
            for code, value in raw.items():
                if not _status_key(code):
                    yield f"{kind}.{code}", "must name a status (503) or a group (5XX)"
                elif value.strip().lower() not in ("true", "false"):
                    yield f"{kind}.{code}", f"must be true or false (got {value!r})"
        if self.ssl and not self.https:
            yield "ssl", "needs an https:// endpoint"
        if self.https:
            yield from TlsClientSettings.problems(attrs.evolve(self, ssl=True))

    def warnings(self) -> Iterable[tuple[str, str]]:
        yield from TlsClientSettings.warnings(attrs.evolve(self, ssl=self.https))
        if _rules(self.rollback, self.default_rollback)(200):
            yield "rollback.2XX", ("is not false: a 200 answer rolls back and the event is sent "
                                   "again forever (Flume's defaults); set rollback.2XX = false")

    def rules(self) -> tuple[StatusRules, StatusRules, StatusRules]:
        """``(rollback, backoff, incrementMetrics)``."""
        return (_rules(self.rollback, self.default_rollback),
                _rules(self.backoff, self.default_backoff),
                _rules(self.increment_metrics, self.default_increment_metrics))


class HttpSink(Sink):
    """POSTs events; each answer's status decides commit or rollback, backoff, metrics."""

    Settings: ClassVar[type] = HttpSinkSettings
    settings: HttpSinkSettings
    config_context: ClassVar[tuple[str, ...]] = ("component", "locations")

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK,
                 component: str | None = None, locations: Any = None) -> None:
        super().__init__(name, settings, clock=clock)
        self._rollback, self._backoff, self._increment = self.settings.rules()
        self._component = component or name
        self._context: ssl.SSLContext | None = None
        self._conn: http.client.HTTPConnection | None = None

    def do_start(self) -> None:
        if self.settings.https:
            self._context = attrs.evolve(self.settings, ssl=True).client_ssl_context(self._component)

    def do_stop(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self.counter.incr("ConnectionClosedCount")

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            url, timeout = self.settings.url, self.settings.connect_timeout / 1000
            if self._context is not None:
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    url.hostname or "", url.port, timeout=timeout, context=self._context)
            else:
                conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=timeout)
            try:
                conn.connect()
            except OSError:
                self.counter.incr("ConnectionFailedCount")
                conn.close()
                raise
            assert conn.sock is not None
            conn.sock.settimeout(self.settings.request_timeout / 1000)
            self._conn = conn
            self.counter.incr("ConnectionCreatedCount")
        return self._conn

    def _post(self, body: bytes, content_type: str) -> int:
        """One POST on the kept-alive connection (re-opened once if the server closed it)."""
        url = self.settings.url
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        headers = {"Content-Type": content_type, "Accept": self.settings.accept_header}
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._close()
                if attempt == 2:
                    raise
                continue
            except (OSError, http.client.HTTPException):
                self._close()
                raise
            if response.will_close:
                self._close()
            return int(response.status)
        raise AssertionError("unreachable")  # pragma: no cover

    def process(self) -> Status:
        tx = self.channel.get_transaction()
        tx.begin()
        try:
            status = self._process(tx)
        except BaseException:
            if tx.state is TransactionState.OPEN:
                tx.rollback()
            raise
        finally:
            tx.close()
        return status

    def _process(self, tx: Transaction) -> Status:
        counter = self.counter
        events = tx.take_batch(self.settings.batch_size)
        if not events:
            tx.commit()
            counter.incr("BatchEmptyCount")
            return Status.BACKOFF
        counter.incr("BatchCompleteCount" if len(events) == self.settings.batch_size
                     else "BatchUnderflowCount")
        try:
            status, sent = self._send(events)
        except (OSError, http.client.HTTPException) as exc:
            counter.incr("EventWriteFail")
            msg = (f"sink {self._component!r}: POST to {self.settings.endpoint} failed: "
                   f"{exc or type(exc).__name__}; the events stay in the channel")
            raise EventDeliveryException(msg) from exc
        if status is None:  # only empty events: consumed without a request, as in Flume
            tx.commit()
            return Status.BACKOFF
        if self._rollback(status):
            tx.rollback()
        else:
            tx.commit()
            if status >= 400:
                log.warning("%s: %d event(s) answered %d are dropped (rollback.%d is false)",
                            self._component, sent, status, status)
        if self._increment(status):
            counter.incr("EventDrainSuccessCount", sent)
        return Status.BACKOFF if self._backoff(status) else Status.READY

    def _send(self, events: Sequence[Event]) -> tuple[int | None, int]:
        """POST the events; the last status and how many events it covers."""
        if self.settings.batch_format != "none":
            self.counter.incr("EventDrainAttemptCount", len(events))
            return self._post(self._batch_body(events), self._batch_content_type()), len(events)
        status: int | None = None
        for event in events:
            if not event.body:
                continue
            self.counter.incr("EventDrainAttemptCount")
            status = self._post(event.body, self.settings.content_type_header)
            if self._rollback(status):
                break
        return status, len(events)

    def _batch_content_type(self) -> str:
        default = "text/plain"
        if self.settings.content_type_header != default:
            return self.settings.content_type_header
        return "application/json" if self.settings.batch_format == "json" else "application/x-ndjson"

    def _batch_body(self, events: Sequence[Event]) -> bytes:
        records = [{"headers": e.headers, "body": self._encode_body(e.body)} for e in events]
        if self.settings.batch_format == "json":
            return json.dumps(records, separators=(",", ":")).encode()
        return b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)

    def _encode_body(self, body: bytes) -> str:
        if self.settings.batch_body_encoding == "base64":
            return base64.b64encode(body).decode("ascii")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = (f"sink {self._component!r}: an event body is not UTF-8 text; set "
                   f"{self._component}.batchBodyEncoding = base64")
            raise EventDeliveryException(msg) from exc

