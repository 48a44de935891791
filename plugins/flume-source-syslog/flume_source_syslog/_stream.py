"""Per-connection decoding: framing plus parsing, including over-long messages.

A :class:`SyslogStream` turns the bytes of one TCP connection into events.
Over-long messages (see :mod:`flume_source_syslog._framing`) become several events: the first
piece is parsed and flagged ``Incomplete``; the following pieces carry the same headers and their
raw bytes as body, so routing still works and no byte is lost.
"""

from __future__ import annotations

from flume_sdk import Event
from flume_source_syslog._framing import Frame, StreamFramer
from flume_source_syslog._parser import INCOMPLETE, INVALID, STATUS, SyslogParser

__all__ = ["SyslogStream", "decode_datagram"]


class SyslogStream:
    """Decode one connection's byte stream.

    Args:
        parser: shared by all connections of a source (it holds no per-message state).
        max_size: Flume's ``eventSize``: the longest message kept in one event.
    """

    def __init__(self, parser: SyslogParser, max_size: int) -> None:
        self._parser = parser
        self._framer = StreamFramer(max_size)
        self._head: dict[str, str] = {STATUS: INCOMPLETE}

    @property
    def octet_counting(self) -> bool:
        """Whether the client uses RFC 6587 octet counting."""
        return self._framer.octet_counting

    def feed(self, data: bytes) -> list[Event]:
        """Events for the messages that ``data`` completes."""
        return self._decode(self._framer.feed(data))

    def finish(self) -> list[Event]:
        """Events for whatever the client left unterminated when it closed."""
        return self._decode(self._framer.finish())

    def _decode(self, frames: list[Frame]) -> list[Event]:
        if not frames:
            return []
        now = self._parser.now()
        if all(frame.__class__ is bytes for frame in frames):
            return self._parser.parse_events(frames, now)  # type: ignore[arg-type]
        return [self._decode_one(frame, now) for frame in frames]

    def _decode_one(self, frame: Frame, now: float) -> Event:
        if isinstance(frame, bytes):
            return self._parser.parse_events((frame,), now)[0]
        if not frame.first:
            return Event(frame.data, dict(self._head))
        event = self._parser.parse_events((frame.data,), now)[0]
        if event.headers.get(STATUS) != INVALID:
            event.headers[STATUS] = INCOMPLETE
        self._head = dict(event.headers)
        return event


def decode_datagram(parser: SyslogParser, datagram: bytes, now: float) -> Event | None:
    """One UDP datagram is one message (RFC 5426); a trailing newline is not part of it.

    Unlike Flume, text after an embedded newline is kept, not discarded. Returns ``None`` for
    an empty datagram.
    """
    message = datagram.removesuffix(b"\n").removesuffix(b"\r")
    if not message:
        return None
    return parser.parse_events((message,), now)[0]
