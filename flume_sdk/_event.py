"""The event: a map of string headers and a byte body."""

from __future__ import annotations

import attrs

__all__ = ["Event"]


@attrs.define(slots=True, eq=True, repr=False)
class Event:
    """One unit of data flowing through the pipeline.

    Args:
        body: the payload; may be empty.
        headers: string keys to string values; mutable, owned by this event.
    """

    body: bytes = b""
    headers: dict[str, str] = attrs.field(factory=dict)

    def __repr__(self) -> str:
        shown = self.body[:32]
        more = "..." if len(self.body) > 32 else ""
        return f"Event(headers={self.headers!r}, body={shown!r}{more} [{len(self.body)} bytes])"
