"""Syslog timestamps to epoch milliseconds: RFC 3164 (with year inference) and RFC 5424.

Both readers cache the expensive part (calendar arithmetic) keyed on the timestamp text, because
a stream of syslog messages repeats the same second many times. Where Apache Flume gets the
answer wrong we deliberately differ (see the package README):

* RFC 3164 has no year. We pick the year that puts the stamp in the window
  ``(now - 334 days, now + 31 days]`` (Flume's ``syslogtcp`` idea: 11 months back, 1 month
  ahead). Flume's multiport source yields 1999 or 2001 outside one month; we never do.
* RFC 5424 fractions are scaled to milliseconds (``.5`` is 500 ms, not 5 ms) and the zone offset
  is honoured even when a fraction is present (Flume drops it then).
* A stamp that is not a real date (``Feb 30``, month 13) gives no timestamp at all, instead of
  Java's lenient roll-over into the next month.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

__all__ = ["Rfc3164Clock", "TimestampReader"]

Rfc3164Clock = Callable[[], float]
"""Returns the wall-clock time in seconds since the epoch (``Clock.time``)."""

_MONTHS = {
    name.encode(): index
    for index, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_FUTURE_LIMIT_S = 31 * 86400
_PAST_LIMIT_S = 334 * 86400
_CACHE_LIMIT = 4096
_YEAR_BUCKET_S = 3600


class TimestampReader:
    """Turn syslog timestamp text into epoch milliseconds (as the decimal string Flume uses).

    Args:
        tz: the zone for stamps that carry none (all of RFC 3164, zone-less RFC 5424);
            ``None`` means the machine's local zone, as Flume does.
    """

    def __init__(self, tz: _dt.tzinfo | None = None) -> None:
        self._tz = tz
        self._cache3164: dict[bytes, str | None] = {}
        self._cache3164_bucket = -1
        self._cache5424: dict[bytes, int | None] = {}

    def rfc3164(self, text: bytes, now: float) -> str | None:
        """Epoch ms of ``Mmm dd HH:MM:SS`` (one or two spaces before the day), or ``None``.

        Args:
            text: the 15- or 14-character stamp as it appeared on the wire.
            now: the receive time in epoch seconds; the year is inferred from it.
        """
        bucket = int(now // _YEAR_BUCKET_S)
        if bucket != self._cache3164_bucket or len(self._cache3164) > _CACHE_LIMIT:
            self._cache3164.clear()
            self._cache3164_bucket = bucket
        try:
            return self._cache3164[text]
        except KeyError:
            value = self._infer_year(text, now)
            self._cache3164[text] = value
            return value

    def rfc5424(self, text: bytes) -> str | None:
        """Epoch ms of ``YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|-HH:MM]``, or ``None`` if not a date."""
        zone_len = 1 if text[-1:] == b"Z" else 6 if len(text) >= 25 and text[-6] in b"+-" else 0
        end = len(text) - zone_len
        fraction = text[19:end] if end > 19 else None
        return self.rfc5424_parts(text[:19], fraction, text[end:] if zone_len else None)

    def rfc5424_parts(self, stamp: bytes, fraction: bytes | None, zone: bytes | None) -> str | None:
        """Like :meth:`rfc5424`, from the pieces: ``stamp`` (19 chars), ``.frac``, zone text."""
        key = stamp + zone if zone else stamp
        try:
            base = self._cache5424[key]
        except KeyError:
            base = self._rfc5424_base(stamp, zone or b"")
            if len(self._cache5424) > _CACHE_LIMIT:
                self._cache5424.clear()
            self._cache5424[key] = base
        if base is None:
            return None
        if fraction:
            return str(base + int((fraction + b"00")[1:4]))
        return str(base)

    def _rfc5424_base(self, stamp: bytes, zone: bytes) -> int | None:
        try:
            naive = _dt.datetime.strptime(stamp.decode("ascii"), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return None
        if zone == b"Z":
            tz: _dt.tzinfo | None = _dt.UTC
        elif zone:
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 23 or minutes > 59:
                return None
            delta = _dt.timedelta(hours=hours, minutes=minutes)
            tz = _dt.timezone(-delta if zone[:1] == b"-" else delta)
        else:
            tz = self._tz
        return int(naive.replace(tzinfo=tz).timestamp()) * 1000

    def _infer_year(self, text: bytes, now: float) -> str | None:
        fields = _split_3164(text)
        if fields is None:
            return None
        month, day, hour, minute, second = fields
        this_year = _dt.datetime.fromtimestamp(now, self._tz).year
        for year in (this_year, this_year - 1, this_year + 1):
            try:
                stamp = _dt.datetime(year, month, day, hour, minute, second, tzinfo=self._tz)
            except ValueError:  # Feb 29 in a non-leap year, day 31 in a short month
                continue
            seconds = stamp.timestamp()
            if now - _PAST_LIMIT_S < seconds <= now + _FUTURE_LIMIT_S:
                return str(int(seconds) * 1000)
        return None


def _split_3164(text: bytes) -> tuple[int, int, int, int, int] | None:
    month = _MONTHS.get(text[:3])
    parts = text[3:].split()
    if month is None or len(parts) != 2:
        return None
    clock = parts[1].split(b":")
    if len(clock) != 3 or not parts[0].isdigit() or not all(p.isdigit() for p in clock):
        return None
    hour, minute, second = (int(p) for p in clock)
    if hour > 23 or minute > 59 or second > 60:
        return None
    return month, int(parts[0]), hour, minute, min(second, 59)
