"""``logger``: logs each event at INFO, headers and the first bytes of the body."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import ClassVar

import attrs

from flume_sdk import BatchSink, Event, at_least, setting

__all__ = ["LoggerSink", "format_event"]

log = logging.getLogger("flume_sdk.sink.logger")


@attrs.frozen(kw_only=True)
class LoggerSinkSettings:
    max_bytes_to_log: int = setting(default=16, validator=at_least(0),
                                    help="body bytes shown per event")
    batch_size: int = setting(default=100, validator=at_least(1), help="events per transaction")


def format_event(event: Event, max_bytes: int) -> str:
    """Flume's logger format: headers, then a hex and printable dump of the body's head."""
    head = event.body[:max_bytes]
    hex_part = " ".join(f"{b:02X}" for b in head)
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in head)
    return f"Event: {{ headers:{event.headers} body: {hex_part} {text} }}"


class LoggerSink(BatchSink):
    """For debugging and quick starts: every event becomes one log line."""

    Settings: ClassVar[type] = LoggerSinkSettings

    def deliver(self, events: Sequence[Event]) -> None:
        limit = self.settings.max_bytes_to_log
        for event in events:
            log.info("%s", format_event(event, limit))
