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
_CACHE_LIMIT = 4096
_MAX_SHAPES_PER_HEAD = 8  # distinct (fraction length, zone, host) remembered per header
_UTF8_NAMES = frozenset({"utf-8", "utf_8", "utf8", "u8", "cp65001"})

Headers = dict[str, str]
Parsed = tuple[Headers, bytes]
_Shape = tuple[int, bytes, Headers, str | None, str]
"""One cached RFC 5424 header shape after ``<PRI>V YYYY-MM-DDTHH:MM:SS``: the fraction's
length (with its ``.``; 0 for none), the exact bytes after it up to the message (zone, host,
spaces), the headers bar ``timestamp``, the timestamp text (epoch seconds when a fraction
follows, else epoch ms; ``None`` for a stamp that is not a real date), and the zeros that pad a
1- or 2-digit fraction to milliseconds."""


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
        charset: the encoding senders use; anything other than UTF-8 is transcoded to UTF-8
            (undecodable input becomes an Invalid event). UTF-8 bodies pass through as bytes,
            unvalidated and unaltered.
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
        # "<PRI>Mmm dd HH:MM:SS host" -> (headers, kept prefix); valid within one hour bucket
        self._heads: dict[bytes, tuple[Headers, bytes]] = {}
        self._heads_bucket = -1
        # "<PRI>V YYYY-MM-DDTHH:MM:SS" -> the shapes of header seen after it, newest first
        self._heads5424: dict[bytes, list[_Shape]] = {}

    def parse(self, message: bytes, now: float | None = None) -> Parsed:
        """Parse one message; ``now`` defaults to the parser's clock."""
        return self.parse_many((message,), self.now() if now is None else now)[0]

    def parse_many(self, messages: Iterable[bytes], now: float | None = None) -> list[Parsed]:
        """Parse a batch, reading the clock at most once."""
        when = self.now() if now is None else now
        bucket = int(when // 3600)
        if (bucket != self._heads_bucket or len(self._heads) > _CACHE_LIMIT
                or len(self._heads5424) > _CACHE_LIMIT):
            self._heads.clear()
            self._heads5424.clear()
            self._heads_bucket = bucket
        parse_one = self._parse_cached
        return [parse_one(message, when) for message in messages]

    def _parse_cached(self, message: bytes, now: float) -> Parsed:
        """Fast paths: reuse the headers of a header seen this hour.

        A digit after ``<PRI>`` means an RFC 5424 version; anything else is tried as RFC 3164.
        Whatever misses its cache (or looks unusual) takes the regex path, which is the
        reference; the cached paths are checked against it by property-based tests.

        RFC 5424 (``<PRI>V STAMP[.frac][zone] HOST MSG``): the cache is keyed on
        ``<PRI>V YYYY-MM-DDTHH:MM:SS``; each :data:`_Shape` under it remembers the fraction's
        length and the exact bytes that followed it (zone, host, spaces), so a hit needs one
        ``startswith`` and a digit check, not a search for the field ends; the timestamp is the
        cached whole-second text with the fraction's first three digits appended (no
        arithmetic). RFC 3164: keyed on ``<PRI>Mmm dd HH:MM:SS host``. This is the per-message
        hot loop of the sources, hence one function.
        """
        if self._transcode:
            return self._parse_one(message, now)
        gt = message.find(b">", 1, 5)
        if message[gt + 1 : gt + 2].isdigit():
            stamp_end = gt + 22  # ">" "V" " " and the 19 characters YYYY-MM-DDTHH:MM:SS
            shapes = self._heads5424.get(message[:stamp_end])
            if shapes is not None:
                for frac_len, suffix, template, seconds, pad in shapes:
                    at = stamp_end + frac_len
                    if not message.startswith(suffix, at):
                        continue
                    headers = template.copy()
                    if frac_len:
                        digits = message[stamp_end + 1 : at]
                        if message[stamp_end] != 46 or not digits.isdigit():  # 46 = "."
                            continue
                        if seconds is not None:
                            headers[TIMESTAMP] = seconds + digits[:3].decode() + pad
                    elif seconds is not None:
                        headers[TIMESTAMP] = seconds
                    return headers, message[at + len(suffix) :]
        else:
            end = message.find(b" ", gt + 17)
            if end > 0:
                hit = self._heads.get(message[:end])
                if hit is not None:
                    if hit[1]:
                        return hit[0].copy(), hit[1] + message[end + 1 :]
                    return hit[0].copy(), message[end + 1 :]
        return self._parse_one(message, now)

    def _parse_one(self, message: bytes, now: float) -> Parsed:
        raw = message
        if self._transcode:
            try:
                message = message.decode(self._charset).encode("utf-8")
            except UnicodeError:
                return {STATUS: INVALID}, raw
        if message[:1] != b"<":
            return {STATUS: INVALID}, raw
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
            self._heads[message[: match.start(5) - 1]] = (dict(headers), kept)
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
        """Cache the header of a message that took the regex path (see :class:`_Shape`)."""
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
        pad = "0" * max(0, 4 - len(fraction))
        shapes = self._heads5424.setdefault(match.string[: match.end(3)], [])
        shapes[:] = [e for e in shapes if (e[0], e[1]) != (len(fraction), suffix)]
        shapes.insert(0, (len(fraction), suffix, template, seconds, pad))
        del shapes[_MAX_SHAPES_PER_HEAD:]

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
