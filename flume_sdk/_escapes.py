"""Flume's escape sequences (``BucketPath.escapeString``) for any sink: hdfs paths, Kafka topics.

``%{header}`` is a header value, ``%[localhost]``/``%[IP]``/``%[FQDN]`` name this
host, and ``%Y %m %d %H %M %S %s %t %a %A %b %B %c %D %e %I %j %k %l %n %p %y %z``
format the event's time (its ``timestamp`` header in epoch millis, or the local
clock with ``use_local_timestamp``) in a time zone, optionally rounded down.
Names (``%a``, ``%b``, ``%p``) are English, as a JVM in the default locale gives.

Deliberate differences from Flume: ``%%`` and unknown escapes (``%q``, which
become an empty string) do not require a timestamp; Flume demands one for any
``%x``. Everything else follows Flume, including that ``%t`` is never rounded.

:func:`escape_string` resolves one string; :class:`EscapeTemplate` parses a
template once and resolves it per event (what the HDFS sink uses).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._errors import FlumeError

__all__ = [
    "ROUND_UNITS",
    "TIME_ESCAPES",
    "EscapeError",
    "EscapeTemplate",
    "MissingTimestampError",
    "check_rounding",
    "escape_string",
    "host_value",
    "resolve_time_zone",
    "round_down",
]

TIME_ESCAPES = frozenset("aAbBcdDeHIjklmMnpsStyYz")
"""The ``%x`` characters that format the event time."""

ROUND_UNITS: Mapping[str, int] = {"second": 60, "minute": 60, "hour": 24}
"""Each ``roundUnit`` and the largest ``roundValue`` it accepts."""

_PATTERN = re.compile(r"%([A-Za-z0-9_%])|%\{([\w.-]+)\}|%\[([A-Za-z0-9_]+)\]", re.ASCII)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


class EscapeError(FlumeError, ValueError):
    """A template or an event cannot be escaped (bad ``%[key]``, bad round settings...)."""


class MissingTimestampError(EscapeError):
    """A time escape needs the event's ``timestamp`` header, which is missing or not a number."""


# -- host escapes ---------------------------------------------------------------------------


@functools.cache
def _host_values() -> dict[str, str]:
    name = socket.gethostname()
    try:
        ip = socket.gethostbyname(name)
    except OSError:
        ip = "127.0.0.1"
    return {"localhost": name, "ip": ip, "fqdn": socket.getfqdn(name)}


def host_value(key: str) -> str:
    """The value of ``%[key]``: ``localhost`` (host name), ``IP`` or ``FQDN``, any case.

    Raises:
        EscapeError: ``key`` is none of the three.
    """
    value = _host_values().get(key.lower())
    if value is None:
        msg = (f"escape %[{key}] is not known: expected %[localhost], %[IP] or %[FQDN] "
               "(any case); fix the template")
        raise EscapeError(msg)
    return value


# -- time -----------------------------------------------------------------------------------


# Java's three-letter zone ids (java.time.ZoneId.SHORT_IDS, which java.util.TimeZone reads too).
_JAVA_SHORT_IDS = {
    "ACT": "Australia/Darwin", "AET": "Australia/Sydney", "AGT": "America/Argentina/Buenos_Aires",
    "ART": "Africa/Cairo", "AST": "America/Anchorage", "BET": "America/Sao_Paulo",
    "BST": "Asia/Dhaka", "CAT": "Africa/Harare", "CNT": "America/St_Johns",
    "CST": "America/Chicago", "CTT": "Asia/Shanghai", "EAT": "Africa/Addis_Ababa",
    "ECT": "Europe/Paris", "IET": "America/Indiana/Indianapolis", "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo", "MIT": "Pacific/Apia", "NET": "Asia/Yerevan", "NST": "Pacific/Auckland",
    "PLT": "Asia/Karachi", "PNT": "America/Phoenix", "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles", "SST": "Pacific/Guadalcanal", "VST": "Asia/Ho_Chi_Minh",
    "EST": "-05:00", "MST": "-07:00", "HST": "-10:00",
}
# Java's custom ids: GMT+8, GMT+08, GMT+0800, GMT+08:00 (and UTC/UT prefixes for ZoneId).
_JAVA_OFFSET = re.compile(r"^(?:GMT|UTC|UT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def _fixed_offset(text: str, name: str) -> dt.tzinfo | None:
    match = _JAVA_OFFSET.match(text)
    if not match:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 18 or minutes > 59:
        return None
    delta = dt.timedelta(hours=hours, minutes=minutes)
    return dt.timezone(-delta if sign == "-" else delta, name)


def resolve_time_zone(name: str | dt.tzinfo | None) -> dt.tzinfo | None:
    """A ``tzinfo`` for Flume's ``timeZone`` value; ``None``/empty means the local zone.

    Accepts what Java's ``TimeZone.getTimeZone`` accepts: IANA names, ``UTC``/``GMT``,
    custom offsets (``GMT+08:00``, ``GMT-8``, ``UTC+0530``) and the three-letter ids
    (``PST`` is America/Los_Angeles, ``EST`` a fixed -05:00).

    Raises:
        EscapeError: the zone name is unknown.
    """
    if name is None or isinstance(name, dt.tzinfo):
        return name
    text = name.strip()
    if not text or text.lower() == "local":
        return None
    if text.upper() in ("UTC", "GMT", "Z", "UT"):
        return dt.UTC
    mapped = _JAVA_SHORT_IDS.get(text.upper(), text)
    fixed = _fixed_offset(mapped, text)
    if fixed is not None:
        return fixed
    try:
        return ZoneInfo(mapped)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = (f"time zone {name!r} is not known: expected an IANA name such as "
               "'America/Los_Angeles', 'UTC', an offset such as 'GMT+08:00', or one of Java's "
               "three-letter ids such as 'PST'")
        raise EscapeError(msg) from exc


def _to_datetime(millis: int, zone: dt.tzinfo | None) -> dt.datetime:
    moment = dt.datetime.fromtimestamp(millis / 1000.0, dt.UTC)
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def round_down(millis: int, unit: str, value: int, zone: dt.tzinfo | None = None) -> int:
    """Truncate ``millis`` to a multiple of ``value`` ``unit``\\ s in ``zone``, zeroing below.

    Raises:
        EscapeError: ``unit`` is not second/minute/hour or ``value`` is out of range.
    """
    check_rounding(unit, value)
    moment = _to_datetime(millis, zone)
    unit = unit.lower()
    if unit == "second":
        moment = moment.replace(second=moment.second - moment.second % value, microsecond=0)
    elif unit == "minute":
        moment = moment.replace(minute=moment.minute - moment.minute % value, second=0,
                                microsecond=0)
    else:
        moment = moment.replace(hour=moment.hour - moment.hour % value, minute=0, second=0,
                                microsecond=0)
    return round(moment.timestamp() * 1000)


def check_rounding(unit: str, value: int) -> None:
    """Raise :class:`EscapeError` unless ``unit``/``value`` are valid round settings."""
    top = ROUND_UNITS.get(unit.lower())
    if top is None:
        msg = f"roundUnit must be second, minute or hour (got {unit!r})"
        raise EscapeError(msg)
    if not 1 <= value <= top:
        msg = f"roundValue for roundUnit {unit.lower()} must be between 1 and {top} (got {value})"
        raise EscapeError(msg)


def _zone_offset(moment: dt.datetime) -> str:
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{mins:02d}"


def _hour12(moment: dt.datetime) -> int:
    return moment.hour % 12 or 12


_FORMATTERS: dict[str, Callable[[dt.datetime], str]] = {
    "a": lambda m: _DAYS[m.weekday()][:3],
    "A": lambda m: _DAYS[m.weekday()],
    "b": lambda m: _MONTHS[m.month - 1][:3],
    "B": lambda m: _MONTHS[m.month - 1],
    "c": lambda m: (f"{_DAYS[m.weekday()][:3]} {_MONTHS[m.month - 1][:3]} {m.day} "
                    f"{m.hour:02d}:{m.minute:02d}:{m.second:02d} {m.year}"),
    "d": lambda m: f"{m.day:02d}",
    "D": lambda m: f"{m.month:02d}/{m.day:02d}/{m.year % 100:02d}",
    "e": lambda m: str(m.day),
    "H": lambda m: f"{m.hour:02d}",
    "I": lambda m: f"{_hour12(m):02d}",
    "j": lambda m: f"{m.timetuple().tm_yday:03d}",
    "k": lambda m: str(m.hour),
    "l": lambda m: str(_hour12(m)),
    "m": lambda m: f"{m.month:02d}",
    "M": lambda m: f"{m.minute:02d}",
    "n": lambda m: str(m.month),
    "p": lambda m: "AM" if m.hour < 12 else "PM",
    "S": lambda m: f"{m.second:02d}",
    "y": lambda m: f"{m.year % 100:02d}",
    "Y": lambda m: f"{m.year:04d}",
    "z": _zone_offset,
}


# -- templates ------------------------------------------------------------------------------

# A parsed template part: ("lit", text) | ("hdr", name) | ("time", char) | ("host", value)
_Part = tuple[str, str]


def _parse(template: str) -> tuple[_Part, ...]:
    parts: list[_Part] = []
    last = 0
    for match in _PATTERN.finditer(template):
        if match.start() > last:
            parts.append(("lit", template[last:match.start()]))
        last = match.end()
        char, header, host = match.groups()
        if header is not None:
            parts.append(("hdr", header))
        elif host is not None:
            parts.append(("lit", host_value(host)))
        elif char == "%":
            parts.append(("lit", "%"))
        elif char in TIME_ESCAPES:
            parts.append(("time", char))
        # Any other %x becomes an empty string, as in Flume.
    if last < len(template):
        parts.append(("lit", template[last:]))
    return tuple(parts)


@attrs.frozen(kw_only=True)
class EscapeTemplate:
    """A template parsed once, resolved per event.

    Args:
        template: the string with escapes (``/data/%{app}/%Y-%m-%d``).
        time_zone: an IANA zone name, a ``tzinfo``, or None for the local zone.
        round: round the time down before formatting (``%t`` excepted).
        round_value: the multiple to round to.
        round_unit: ``second``, ``minute`` or ``hour``.
        use_local_timestamp: use the clock instead of the ``timestamp`` header.
        clock: where local time comes from.

    Raises:
        EscapeError: unknown ``%[key]``, unknown zone or invalid rounding.
    """

    template: str
    time_zone: Any = None
    round: bool = False
    round_value: int = 1
    round_unit: str = "second"
    use_local_timestamp: bool = False
    clock: Clock = SYSTEM_CLOCK
    _parts: tuple[_Part, ...] = attrs.field(init=False)
    _zone: dt.tzinfo | None = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_parts", _parse(self.template))
        object.__setattr__(self, "_zone", resolve_time_zone(self.time_zone))
        if self.round:
            check_rounding(self.round_unit, self.round_value)

    @property
    def needs_time(self) -> bool:
        """Whether any escape formats the event time."""
        return any(kind == "time" for kind, _ in self._parts)

    @property
    def is_constant(self) -> bool:
        """Whether the result is the same for every event."""
        return all(kind == "lit" for kind, _ in self._parts)

    def resolve(self, headers: Mapping[str, str], timestamp: int | None = None) -> str:
        """The template with every escape replaced for an event with ``headers``.

        Args:
            headers: the event's headers.
            timestamp: epoch millis to use as local time (read from the clock once
                per call when None and ``use_local_timestamp`` is set).

        Raises:
            MissingTimestampError: a time escape needs a ``timestamp`` header that is
                missing or not an integer.
        """
        parts = self._parts
        if len(parts) == 1 and parts[0][0] == "lit":
            return parts[0][1]
        raw, moment = self._time(headers, timestamp) if self.needs_time else (0, None)
        out: list[str] = []
        for kind, value in parts:
            if kind == "lit":
                out.append(value)
            elif kind == "hdr":
                out.append(headers.get(value, ""))
            else:
                out.append(self._format(value, raw, moment))
        return "".join(out)

    def resolve_all(self, headers: Sequence[Mapping[str, str]],
                    timestamp: int | None = None) -> list[str]:
        """:meth:`resolve` for each of ``headers`` (a batch), each distinct result made once.

        Events that agree on the headers the template names and, when it formats
        time, on the second of their time (the millisecond with ``%t``) get the
        same string, so it is formatted once per such group, not once per event.

        Raises:
            MissingTimestampError: as :meth:`resolve`.
        """
        parts = self._parts
        if all(kind == "lit" for kind, _ in parts):
            return [self.resolve({})] * len(headers)
        names = [value for kind, value in parts if kind == "hdr"]
        timed = self.needs_time
        if timed and timestamp is None and self.use_local_timestamp:
            timestamp = int(self.clock.time() * 1000)  # one clock reading for the batch
        exact = ("time", "t") in parts
        made: dict[tuple[object, ...], str] = {}
        out: list[str] = []
        for event_headers in headers:
            key: tuple[object, ...] = tuple([event_headers.get(name, "") for name in names])
            if timed:
                millis = self._event_millis(event_headers, timestamp)
                key += (millis if exact else millis // 1000,)
            value = made.get(key)
            if value is None:
                value = made[key] = self.resolve(event_headers, timestamp)
            out.append(value)
        return out

    def _format(self, char: str, raw: int, moment: dt.datetime | None) -> str:
        assert moment is not None
        if char == "t":
            return str(raw)
        if char == "s":
            return str(int(moment.timestamp()))
        return _FORMATTERS[char](moment)

    def _time(self, headers: Mapping[str, str], timestamp: int | None) -> tuple[int, dt.datetime]:
        raw = self._event_millis(headers, timestamp)
        millis = round_down(raw, self.round_unit, self.round_value, self._zone) if self.round \
            else raw
        return raw, _to_datetime(millis, self._zone)

    def _event_millis(self, headers: Mapping[str, str], timestamp: int | None) -> int:
        if self.use_local_timestamp:
            return timestamp if timestamp is not None else int(self.clock.time() * 1000)
        text = headers.get("timestamp")
        if text is None:
            msg = (f"template {self.template!r} needs the event's 'timestamp' header (epoch "
                   "millis), which is missing; add a timestamp interceptor at the source or set "
                   "useLocalTimeStamp = true")
            raise MissingTimestampError(msg)
        try:
            return int(text.strip())
        except ValueError:
            msg = (f"template {self.template!r} needs the 'timestamp' header as epoch millis "
                   f"(got {text!r}); fix the source or set useLocalTimeStamp = true")
            raise MissingTimestampError(msg) from None


def escape_string(
    template: str,
    headers: Mapping[str, str],
    *,
    clock: Clock | None = None,
    timestamp: int | None = None,
    time_zone: str | dt.tzinfo | None = None,
    round: bool = False,
    round_value: int = 1,
    round_unit: str = "second",
    use_local_timestamp: bool = False,
) -> str:
    """Replace Flume's escape sequences in ``template`` for one event.

    Args:
        template: the string with escapes (``hdfs://nn/data/%{app}/%Y-%m-%d/%H``).
        headers: the event's headers; ``timestamp`` (epoch millis) feeds time escapes.
        clock: the local clock for ``use_local_timestamp`` (the system clock if None).
        timestamp: epoch millis to use as the local time (instead of reading ``clock``).
        time_zone: IANA zone name or ``tzinfo`` the time is shown in; None = local.
        round: round the time down to ``round_value`` ``round_unit``\\ s (not ``%t``).
        round_value: 1-60 for seconds and minutes, 1-24 for hours.
        round_unit: ``second``, ``minute`` or ``hour``.
        use_local_timestamp: ignore the ``timestamp`` header and use local time.

    Raises:
        MissingTimestampError: a time escape needs a usable ``timestamp`` header.
        EscapeError: unknown ``%[key]``, unknown zone or invalid rounding.
    """
    compiled = EscapeTemplate(
        template=template, time_zone=time_zone, round=round, round_value=round_value,
        round_unit=round_unit, use_local_timestamp=use_local_timestamp,
        clock=clock or SYSTEM_CLOCK)
    return compiled.resolve(headers, timestamp)
