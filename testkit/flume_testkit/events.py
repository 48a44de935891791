"""Events for tests: unique ids, ordinary batches and the edge cases every component must carry.

Every event an :class:`EventFactory` makes has a unique ``testkit.id`` header, so
a test can tell which events were lost, duplicated or reordered.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Mapping, Sequence

from flume_sdk import Event

__all__ = ["ID_HEADER", "ONE_MIB", "EventFactory", "copy_events", "event_ids"]

ID_HEADER = "testkit.id"
ONE_MIB = 1 << 20


class EventFactory:
    """Makes events with unique ids.

    Args:
        prefix: starts every id and default body, so two factories never collide.
    """

    def __init__(self, prefix: str = "e") -> None:
        self.prefix = prefix
        self._ids = itertools.count()

    def next_id(self) -> str:
        return f"{self.prefix}-{next(self._ids)}"

    def event(self, body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Event:
        """One event; the body defaults to ``b"<id>"``."""
        event_id = self.next_id()
        merged = {ID_HEADER: event_id, **(headers or {})}
        return Event(event_id.encode() if body is None else body, merged)

    def batch(self, count: int, headers: Mapping[str, str] | None = None) -> list[Event]:
        """``count`` ordinary events, bodies ``b"<id>"``."""
        return [self.event(headers=headers) for _ in range(count)]

    def edge_cases_by_name(self) -> dict[str, Event]:
        """The events every component must carry intact, by what each one tests."""
        return {
            "empty body": self.event(b""),
            "binary body": self.event(bytes(range(256))),
            "NUL bytes in the body": self.event(b"a\x00b\x00\x00"),
            "body ending in a newline": self.event(b"line\n"),
            "body that is a CRLF": self.event(b"\r\n"),
            "body with leading and trailing spaces": self.event(b"  padded  "),
            "non-ASCII header values": self.event(b"x", {"city": "Zürich", "kanji": "日本語 ✓"}),
            "mixed-case header names": self.event(b"m", {"traceId": "T-1", "Content-Type": "a/b"}),
            "header names with . - = and non-ASCII": self.event(
                b"k", {"app.name": "a", "x-request-id": "r", "k=v": "eq", "größe": "groß"}),
            "empty header value": self.event(b"y", {"empty": ""}),
            "1 MiB body": self.event(bytes(i % 251 for i in range(ONE_MIB))),
            "many headers": self.event(b"z", {f"h{i}": str(i) for i in range(50)}),
        }

    def edge_cases(self) -> list[Event]:
        """The events every component must carry intact (see :meth:`edge_cases_by_name`)."""
        return list(self.edge_cases_by_name().values())

    def edge_case_list(self) -> list[Event]:
        """The same as :meth:`edge_cases` (kept for existing callers)."""
        return self.edge_cases()


def copy_events(events: Iterable[Event]) -> list[Event]:
    """Deep copies, for handing the same input to two code paths that may mutate it."""
    return [copy.deepcopy(e) for e in events]


def event_ids(events: Sequence[Event]) -> list[str | None]:
    """The ``testkit.id`` of each event, in order (``None`` where missing)."""
    return [e.headers.get(ID_HEADER) for e in events]
