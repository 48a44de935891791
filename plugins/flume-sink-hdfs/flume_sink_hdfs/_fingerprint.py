"""What identifies a batch across a crash: a hash of its events' bodies and headers, in order.

The journal records a batch's fingerprint before the batch is written; after a
restart the first batch the channel redelivers is compared with it. It is
computed once per batch, so it is built from a few whole-batch operations:
SHA-256 over the bodies' lengths (one array), the bodies joined, and the
headers of the events that have any (index, sorted items, as JSON). Hashing
releases the GIL, so the hash itself runs beside a write in flight.

Fingerprints journaled by earlier versions (32 hex digits, no ``v2:`` prefix)
were a BLAKE2b over per-event framing; :func:`matches` recomputes that form for
them, so a batch in flight at a crash before an upgrade is still recognised.
"""

from __future__ import annotations

import array
import hashlib
import json
from collections.abc import Sequence

from flume_sdk import Event

__all__ = ["Fingerprint", "fingerprint", "matches"]

_PREFIX = "v2:"


class Fingerprint:
    """A batch's fingerprint in two steps: the bytes to hash are gathered when it is made
    (Python work, holding the GIL), :meth:`value` hashes them (the GIL released), so
    a thread that starts a write in between is not kept waiting for the GIL."""

    def __init__(self, events: Sequence[Event]) -> None:
        bodies = [event.body for event in events]
        headed = [(i, sorted(event.headers.items())) for i, event in enumerate(events)
                  if event.headers]
        self._chunks = (
            array.array("q", [len(body) for body in bodies]).tobytes(), b"".join(bodies),
            json.dumps(headed, ensure_ascii=False).encode("utf-8", "surrogatepass")
            if headed else b"")

    def value(self) -> str:
        digest = hashlib.sha256()
        for chunk in self._chunks:
            digest.update(chunk)
        return _PREFIX + digest.hexdigest()[:32]


def fingerprint(events: Sequence[Event]) -> str:
    """The fingerprint of ``events`` (order, bodies and headers all count)."""
    return Fingerprint(events).value()


def matches(events: Sequence[Event], journaled: str) -> bool:
    """True when ``events`` have the fingerprint ``journaled`` (of this or an earlier version)."""
    if journaled.startswith(_PREFIX):
        return fingerprint(events) == journaled
    return _fingerprint_v1(events) == journaled


def _fingerprint_v1(events: Sequence[Event]) -> str:
    """The fingerprint journals written before ``v2:`` hold (BLAKE2b, per-event framing)."""
    parts: list[bytes] = []
    add = parts.append
    for event in events:
        body = event.body
        add(b"%d\0" % len(body))
        add(body)
        if event.headers:
            for key, value in sorted(event.headers.items()):
                k, v = key.encode(), value.encode()
                add(b"\0%d\0%s\0%d\0%s" % (len(k), k, len(v), v))
        add(b"\1")
    return hashlib.blake2b(b"".join(parts), digest_size=16).hexdigest()
