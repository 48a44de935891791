"""What identifies a batch across a crash: a hash of its events' bodies and headers, in order.

The journal records a batch's fingerprint before the batch is written; after a
restart the first batch the channel redelivers is compared with it. It is
computed once per batch, so it is built from a few whole-batch operations:
SHA-256 over the bodies' lengths (one array), the bodies joined, and, when any
event has headers, every event's headers as one JSON list (keys sorted). The
sink computes it while the batch's writes are in flight.

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

__all__ = ["fingerprint", "matches"]

_PREFIX = "v2:"


def fingerprint(events: Sequence[Event]) -> str:
    """The fingerprint of ``events`` (order, bodies and headers all count)."""
    bodies = [event.body for event in events]
    digest = hashlib.sha256(array.array("q", [len(body) for body in bodies]).tobytes())
    digest.update(b"".join(bodies))
    headers = [event.headers for event in events]
    if any(headers):  # every event's headers in place ({} for none), keys sorted
        digest.update(json.dumps(headers, sort_keys=True, ensure_ascii=False)
                      .encode("utf-8", "surrogatepass"))
    return _PREFIX + digest.hexdigest()[:32]


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
