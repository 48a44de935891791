"""The parser's fast path: reuse the headers of a syslog header seen before.

A stream of syslog messages repeats the same ``<PRI>``, timestamp second and host many times, so
the regex path (the reference, in :mod:`flume_source_syslog._parser`) runs once per distinct
header and every repeat costs a few ``bytes`` operations:

* RFC 5424 ``<PRI>V STAMP[.frac][zone] HOST MSG`` is keyed on ``<PRI>V YYYY-MM-DDTHH:MM:SS``.
  Each :data:`Shape` under the key remembers the fraction's length and the exact bytes that
  followed it (zone, host, spaces), so a hit needs one ``startswith`` and a digit check, not a
  search for the field ends. The timestamp is the cached whole-second text with the fraction's
  first three digits appended as text: no arithmetic, no calendar per message.
* RFC 3164 ``<PRI>Mmm dd HH:MM:SS HOST MSG`` is keyed on everything up to the host; its one
  shape is "a space, then the message".

Consecutive messages usually share the key, so the loop first checks whether a message starts
with the previous message's key before it looks for the key's end. Anything that misses (or
looks unusual) goes to the regex path, which may then remember a new shape. The property-based
tests check that both paths give the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from flume_sdk import Event

__all__ = ["HeaderCache", "Shape", "shape"]

Headers = dict[str, str]

Shape = tuple[int, bytes, int, Headers, str | None, int, str, bytes]
"""One header shape after a key, made by :func:`shape`."""

_LIMIT = 4096  # keys; the cache is emptied when it grows past this
_MAX_SHAPES_PER_KEY = 8
_BUCKET_S = 3600  # RFC 3164 year inference depends on the receive time: re-derive hourly
_NO_KEY = b"\x00no key"  # a message may start with it; its shapes are () so it cannot hit
_DOT = 46


def shape(
    fraction_length: int,
    suffix: bytes,
    template: Headers,
    timestamp: str | None = None,
    kept: bytes = b"",
) -> Shape:
    """A header shape to :meth:`HeaderCache.remember`.

    Args:
        fraction_length: the fraction's length with its ``.`` (0 for none).
        suffix: the exact bytes between the fraction and the message (zone, host, spaces).
        template: the headers; without ``timestamp`` when ``timestamp`` is given.
        timestamp: the timestamp text to add: epoch seconds when a fraction follows (its
            first three digits are appended, padded to milliseconds), else epoch ms; ``None``
            when the template has it already or there is none.
        kept: the ``keepFields`` prefix of the body.
    """
    ms_end = min(fraction_length, 4)  # "." and up to three digits
    pad = "0" * (4 - ms_end) if fraction_length else ""
    return (fraction_length, suffix, fraction_length + len(suffix), template, timestamp, ms_end,
            pad, kept)


class HeaderCache:
    """Remembered header shapes, for one parser (one charset and ``keepFields``)."""

    def __init__(self) -> None:
        self._shapes: dict[bytes, list[Shape]] = {}
        self._bucket = -1

    def expire(self, now: float) -> None:
        """Forget everything at the top of each hour, or when the cache grew too large."""
        bucket = int(now // _BUCKET_S)
        if bucket != self._bucket or len(self._shapes) > _LIMIT:
            self._shapes.clear()
            self._bucket = bucket

    def remember(self, key: bytes, shape: Shape) -> None:
        """Put ``shape`` first under ``key``, replacing one with the same fraction and suffix."""
        shapes = self._shapes.setdefault(key, [])
        shapes[:] = [s for s in shapes if (s[0], s[1]) != (shape[0], shape[1])]
        shapes.insert(0, shape)
        del shapes[_MAX_SHAPES_PER_KEY:]

    def events(
        self, messages: Iterable[bytes], slow: Callable[[bytes], tuple[Headers, bytes]]
    ) -> list[Event]:
        """One event per message: from a remembered shape, else from ``slow(message)``.

        This is the per-message loop of every syslog source, hence one function with its
        lookups in local variables.
        """
        out: list[Event] = []
        append = out.append
        lookup = self._shapes.get
        key, key_end = _NO_KEY, 0
        shapes: Sequence[Shape] = ()
        for message in messages:
            if not message.startswith(key):
                key_end = _key_end(message)
                if key_end > 0:
                    key = message[:key_end]
                    shapes = lookup(key, ())
                else:
                    key, shapes = _NO_KEY, ()
            for frac_len, suffix, skip, template, seconds, ms_end, pad, kept in shapes:
                at = key_end + frac_len
                if not message.startswith(suffix, at):
                    continue
                if frac_len:
                    if message[key_end] != _DOT or not message[key_end + 1 : at].isdigit():
                        continue
                    headers = template.copy()
                    if seconds is not None:
                        ms = message[key_end + 1 : key_end + ms_end].decode()
                        headers["timestamp"] = seconds + ms + pad if pad else seconds + ms
                else:
                    headers = template.copy()
                    if seconds is not None:
                        headers["timestamp"] = seconds
                body = message[key_end + skip :]
                append(Event(kept + body if kept else body, headers))
                break
            else:
                headers, body = slow(message)
                append(Event(body, headers))
                key, shapes = _NO_KEY, ()  # slow() may have added shapes under this key
        return out


def _key_end(message: bytes) -> int:
    """Where the cache key of ``message`` ends (-1 when it cannot have one)."""
    gt = message.find(b">", 1, 5)
    if message[gt + 1 : gt + 2].isdigit():  # an RFC 5424 version
        return gt + 22  # ">" "V" " " and the 19 characters YYYY-MM-DDTHH:MM:SS
    return message.find(b" ", gt + 17)  # the space after the RFC 3164 host
