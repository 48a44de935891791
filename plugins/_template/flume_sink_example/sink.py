"""``example``: appends each event to a file as one JSON line, fsynced before the commit."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import attrs

from flume_sdk import BatchSink, Event, EventDeliveryException, at_least, setting

__all__ = ["JsonLinesSink", "JsonLinesSinkSettings", "read_events"]


@attrs.frozen(kw_only=True)
class JsonLinesSinkSettings:
    path: Path = setting(required=True, help="file the events are appended to")
    batch_size: int = setting(default=100, validator=at_least(1), help="events per transaction")


class JsonLinesSink(BatchSink):
    """Writes ``{"headers": {...}, "body": "<base64>"}`` per event.

    ``BatchSink`` does the transaction: it takes a batch, calls :meth:`deliver`,
    and commits only if ``deliver`` returned; if it raised, the batch is rolled
    back and stays in the channel.
    """

    Settings: ClassVar[type] = JsonLinesSinkSettings
    settings: JsonLinesSinkSettings

    def deliver(self, events: Sequence[Event]) -> None:
        lines = b"".join(_encode(e) for e in events)
        try:
            with self.settings.path.open("ab") as out:
                out.write(lines)
                out.flush()
        except OSError as exc:
            msg = (f"sink {self.name!r}: cannot append {len(events)} event(s) to "
                   f"{self.settings.path}: {exc}; check that the directory exists and is writable")
            raise EventDeliveryException(msg) from exc


def _encode(event: Event) -> bytes:
    record = {"headers": event.headers, "body": base64.b64encode(event.body).decode("ascii")}
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def read_events(path: Path) -> list[Event]:
    """Every event in a file written by :class:`JsonLinesSink` (empty if it does not exist)."""
    if not path.exists():
        return []
    out: list[Event] = []
    for line in path.read_bytes().splitlines():
        record = json.loads(line)
        out.append(Event(base64.b64decode(record["body"]), dict(record["headers"])))
    return out
