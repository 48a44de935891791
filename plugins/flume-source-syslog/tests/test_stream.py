"""Per-connection decoding: over-long messages become Incomplete events that lose no bytes."""

from __future__ import annotations

import datetime as dt

from flume_source_syslog import INCOMPLETE, INVALID, STATUS, SyslogParser, SyslogStream, decode_datagram

from flume_sdk import Event

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC).timestamp()


def stream(max_size: int) -> SyslogStream:
    return SyslogStream(SyslogParser(tz=dt.UTC, now=lambda: NOW), max_size)


def test_message_over_event_size_is_incomplete_and_its_rest_keeps_the_headers() -> None:
    decoded = stream(30).feed(b"<38>Nov 21 05:26:28 h " + b"x" * 40 + b"\n")
    head, rest = decoded[0], decoded[1:]
    assert head.headers[STATUS] == INCOMPLETE
    assert head.headers["host"] == "h"
    assert all(e.headers == head.headers and e.headers is not head.headers for e in rest)
    assert head.body + b"".join(e.body for e in rest) == b"x" * 40


def test_over_long_garbage_stays_invalid() -> None:
    decoded = stream(10).feed(b"y" * 25 + b"\n")
    assert [e.headers[STATUS] for e in decoded] == [INVALID, INVALID, INVALID]


def test_partial_octet_frame_at_close_is_incomplete() -> None:
    s = stream(100)
    assert s.feed(b"90 <38>Nov 21 05:26:28 h abc") == []
    [event] = s.finish()
    assert event.headers[STATUS] == INCOMPLETE
    assert event.body == b"abc"


def test_datagram_trailing_newline_is_not_part_of_the_message() -> None:
    parser = SyslogParser(tz=dt.UTC)
    assert decode_datagram(parser, b"<13>hi\n", NOW) == Event(
        b"<13>hi", {"Facility": "1", "Severity": "5"}
    )


def test_datagram_text_after_an_embedded_newline_is_kept() -> None:
    parsed = decode_datagram(SyslogParser(tz=dt.UTC), b"<38>Nov 21 05:26:28 h a\nb", NOW)
    assert parsed is not None
    assert parsed.body == b"a\nb"


def test_empty_datagram_gives_no_event() -> None:
    assert decode_datagram(SyslogParser(), b"\n", NOW) is None
