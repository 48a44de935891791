"""One syslog message (RFC 5424 or RFC 3164) to Flume's headers and body.

The parser is shared by every connection of a source; it keeps no per-message state, so headers
of one message can never leak into the next (Flume's ``SyslogUtils`` leaks ``priority`` and
``version`` into the following Invalid event). All three source types use the one set of header
names below (Flume's multiport source capitalises ``Priority`` and ``Version``).

Outcomes, in Flume's terms:

* RFC 5424 or RFC 3164 matched: ``Facility``, ``Severity``, ``priority`` (the PRI text),
  ``version`` (when present), ``timestamp`` (epoch ms, when it is a real date), ``host`` (unless
  nil); the body is the message after the host, with ``keepFields`` re-added in front.
* A valid ``<PRI>`` but neither layout: ``Facility`` and ``Severity`` only; body is the raw line.
* No valid ``<PRI>`` (missing, not 1-3 digits, or above 191), or undecodable in the configured
  charset: ``flume.syslog.status=Invalid`` and nothing else; body is the raw bytes.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import re
import time
from collections.abc import Callable, Iterable

from flume_sdk import Event
from flume_source_syslog._headcache import HeaderCache, shape
from flume_source_syslog._timestamps import TimestampReader

__all__ = [
    "ALL_FIELDS",
    "FACILITY",
    "HOST",
    "INCOMPLETE",
    "INVALID",
    "PRIORITY",
    "SEVERITY",
    "STATUS",
    "TIMESTAMP",
    "VERSION",
    "SyslogParser",
    "parse_keep_fields",
]

FACILITY = "Facility"
SEVERITY = "Severity"
PRIORITY = "priority"
VERSION = "version"
TIMESTAMP = "timestamp"
HOST = "host"
STATUS = "flume.syslog.status"
INVALID = "Invalid"
INCOMPLETE = "Incomplete"

ALL_FIELDS = frozenset({"priority", "version", "timestamp", "hostname"})
_KEEP_NONE = frozenset({"none", "false"})
_KEEP_ALL = frozenset({"all", "true"})

_RFC5424 = re.compile(
    rb"<(\d{1,3})>(?:(\d{1,2}) ?)?"
    rb"(?:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)?|-)"
    rb" ([!-~]{1,255}) (.*)",
    re.DOTALL,
)
_RFC3164 = re.compile(
    rb"<(\d{1,3})>(?:(\d) ?)?"
    rb"([A-Z][a-z]{2}  ?\d{1,2} \d\d:\d\d:\d\d)"
    rb" ([A-Za-z0-9_][\w.@-]*)(?: (.*))?",
    re.DOTALL,
)
_PRI = re.compile(rb"<(\d{1,3})>")
_PRI_TABLE: dict[bytes, tuple[str, str, str]] = {
    str(p).encode(): (str(p >> 3), str(p & 7), str(p)) for p in range(192)
}
_UTF8_NAMES = frozenset({"utf-8", "utf_8", "utf8", "u8", "cp65001"})

Headers = dict[str, str]
Parsed = tuple[Headers, bytes]


def parse_keep_fields(value: str) -> frozenset[str]:
    """Flume's ``keepFields`` value to the set of fields re-added to the body.

    ``none``/``false`` (or empty) keep nothing, ``all``/``true`` keep the raw line, otherwise a
    space-separated subset of ``priority version timestamp hostname``.

    Raises:
        ValueError: an unknown field name, naming the accepted ones.
    """
    words = value.lower().split()
    if not words or (len(words) == 1 and words[0] in _KEEP_NONE):
        return frozenset()
    if len(words) == 1 and words[0] in _KEEP_ALL:
        return ALL_FIELDS
    unknown = [w for w in words if w not in ALL_FIELDS]
    if unknown:
        msg = (
            f"keepFields must be none, all, or a subset of {' '.join(sorted(ALL_FIELDS))} "
            f"(got unknown field(s) {', '.join(unknown)!r}); fix the keepFields value"
        )
        raise ValueError(msg)
    return frozenset(words)


def _pri(text: bytes) -> tuple[str, str, str] | None:
    known = _PRI_TABLE.get(text)
    if known is not None:
        return known
    value = int(text)  # leading zeros: "<013>"
    if value > 191:
        return None
    return str(value >> 3), str(value & 7), text.decode("ascii")


class SyslogParser:
    """Parse complete syslog messages (no framing, no trailing newline) into ``(headers, body)``.

    Args:
        keep_fields: from :func:`parse_keep_fields`; :data:`ALL_FIELDS` keeps the raw line.
        charset: the encoding senders use, for reading the header (host, timestamp); the body
            keeps the bytes as received, whatever the charset (as Flume does). Input the
            charset cannot decode becomes an Invalid event. UTF-8 passes through unvalidated.
        tz: zone for stamps without one; ``None`` is the machine's local zone.
        now: wall-clock seconds, read once per batch for RFC 3164 year inference.
    """

    def __init__(
        self,
        *,
        keep_fields: frozenset[str] = frozenset(),
        charset: str = "utf-8",
        tz: _dt.tzinfo | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._keep = keep_fields
        self._keep_all = keep_fields == ALL_FIELDS
        self._charset = codecs.lookup(charset).name
        self._transcode = self._charset not in _UTF8_NAMES
        self._times = TimestampReader(tz)
        self.now = now
        self._cache = HeaderCache()

    def parse(self, message: bytes, now: float | None = None) -> Parsed:
        """Parse one message; ``now`` defaults to the parser's clock."""
        event = self.parse_events((message,), now)[0]
        return event.headers, event.body

    def parse_many(self, messages: Iterable[bytes], now: float | None = None) -> list[Parsed]:
        """Parse a batch into ``(headers, body)`` pairs, reading the clock at most once."""
        return [(event.headers, event.body) for event in self.parse_events(messages, now)]

    def parse_events(self, messages: Iterable[bytes], now: float | None = None) -> list[Event]:
        """Parse a batch into events, reading the clock at most once (the sources' hot path).

        Headers seen before come from the :class:`HeaderCache`; the rest take the regex path,
        which is the reference.
        """
        when = self.now() if now is None else now
        if self._transcode:
            return [Event(body, headers) for headers, body in
                    (self._parse_one(message, when) for message in messages)]
        self._cache.expire(when)
        return self._cache.events(messages, lambda message: self._parse_one(message, when))

    def _parse_one(self, message: bytes, now: float) -> Parsed:
        if not self._transcode:
            return self._parse_utf8(message, now)
        try:
            utf8 = message.decode(self._charset).encode("utf-8")
        except UnicodeError:
            return {STATUS: INVALID}, message
        headers, body = self._parse_utf8(utf8, now)
        # The header was read in the senders' charset; the body goes on in it, byte for byte.
        return headers, body.decode("utf-8").encode(self._charset)

    def _parse_utf8(self, message: bytes, now: float) -> Parsed:
        if message[:1] != b"<":
            return {STATUS: INVALID}, message
        match = _RFC3164.fullmatch(message)
        if match is not None:
            return self._build3164(match, message, now)
        match = _RFC5424.fullmatch(message)
        if match is not None:
            return self._build5424(match, message)
        return self._unstructured(message)

    def _unstructured(self, message: bytes) -> Parsed:
        pri = _PRI.match(message)
        codes = _pri(pri.group(1)) if pri is not None else None
        if codes is None:
            return {STATUS: INVALID}, message
        return {FACILITY: codes[0], SEVERITY: codes[1]}, message

    def _build3164(self, match: re.Match[bytes], message: bytes, now: float) -> Parsed:
        pri_text, version, stamp, host, body = match.groups()
        codes = _PRI_TABLE.get(pri_text) or _pri(pri_text)
        if codes is None:
            return {STATUS: INVALID}, message
        millis = self._times.rfc3164(stamp, now)
        if version is None and millis is not None:  # the common case, built in one go
            headers = {
                FACILITY: codes[0],
                SEVERITY: codes[1],
                PRIORITY: codes[2],
                TIMESTAMP: millis,
                HOST: host.decode("ascii"),
            }
        else:
            headers = {FACILITY: codes[0], SEVERITY: codes[1], PRIORITY: codes[2]}
            if version:
                headers[VERSION] = version.decode("ascii")
            if millis is not None:
                headers[TIMESTAMP] = millis
            headers[HOST] = host.decode("ascii")
        kept = b""
        if self._keep and not self._keep_all:
            kept = self._keep_prefix(pri_text, version, stamp, host)
        if body is not None and not self._keep_all and not self._transcode:
            self._cache.remember(message[: match.start(5) - 1],
                                 shape(0, b" ", dict(headers), kept=kept))
        if self._keep_all:
            return headers, message
        return headers, kept + body if body is not None else kept

    def _build5424(self, match: re.Match[bytes], message: bytes) -> Parsed:
        pri_text, version, stamp, fraction, zone, host, body = match.groups()
        codes = _PRI_TABLE.get(pri_text) or _pri(pri_text)
        if codes is None:
            return {STATUS: INVALID}, message
        headers = {FACILITY: codes[0], SEVERITY: codes[1], PRIORITY: codes[2]}
        if version:
            headers[VERSION] = version.decode("ascii")
        if stamp is not None:
            millis = self._times.rfc5424_parts(stamp, fraction, zone)
            if millis is not None:
                headers[TIMESTAMP] = millis
        if host != b"-":
            headers[HOST] = host.decode("ascii")
        if version and stamp is not None and not (self._keep or self._transcode):
            self._remember5424(match, headers, host, zone)
        if self._keep_all:
            return headers, message
        if self._keep:
            text = b"-" if stamp is None else stamp + (fraction or b"") + (zone or b"")
            return headers, self._keep_prefix(pri_text, version, text, host) + body
        return headers, body

    def _remember5424(
        self, match: re.Match[bytes], headers: Headers, host: bytes, zone: bytes | None
    ) -> None:
        """Cache the header of a message that took the regex path (see :data:`Shape`)."""
        template = dict(headers)
        millis = template.pop(TIMESTAMP, None)
        fraction = match.group(4) or b""
        seconds = None
        if millis is not None:
            base = int(millis) - self._fraction_ms(fraction)
            if base < 1000:  # "<seconds><ms>" text is only right for whole seconds >= 1
                return
            seconds = str(base // 1000) if fraction else str(base)
        suffix = (zone or b"") + b" " + host + b" "
        self._cache.remember(match.string[: match.end(3)],
                             shape(len(fraction), suffix, template, seconds))

    @staticmethod
    def _fraction_ms(fraction: bytes | None) -> int:
        return int((fraction + b"00")[1:4]) if fraction else 0

    def _keep_prefix(
        self, pri: bytes, version: bytes | None, stamp: bytes, host: bytes
    ) -> bytes:
        keep = self._keep
        prefix = b"<" + pri + b">" if "priority" in keep else b""
        if version and "version" in keep:
            prefix += version + b" "
        if "timestamp" in keep:
            prefix += stamp + b" "
        if "hostname" in keep:
            prefix += host + b" "
        return prefix
