"""Property-based and fuzz tests: >= 10^5 random inputs in total, run straight on the parser.

Budget: 3 hypothesis properties x 5,000 examples, three x 2,000 (each example parses up to 24
lines), plus a 100,000-input seeded fuzz loop; about 25 s.
"""

from __future__ import annotations

import datetime as dt
import random

from flume_source_syslog import (
    INCOMPLETE,
    INVALID,
    STATUS,
    Fragment,
    LineFramer,
    StreamFramer,
    SyslogParser,
    SyslogStream,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC).timestamp()
MANY = settings(max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck))

_pri = st.one_of(st.integers(0, 200).map(str), st.sampled_from(["", "0013", "x", "1234"]))
_stamp3164 = st.builds(
    lambda mon, day, t: f"{mon} {day:>2} {t}",
    st.sampled_from(["Jan", "Feb", "Nov", "Dec", "Foo"]),
    st.integers(0, 32),
    st.sampled_from(["00:00:00", "23:59:59", "05:26:28", "24:00:00", "12:60:00"]),
)
_stamp5424 = st.builds(
    lambda date, frac, zone: date + frac + zone,
    st.sampled_from(["2026-11-21T05:26:28", "2024-02-29T00:00:00", "2026-13-01T00:00:00", "-"]),
    st.sampled_from(["", ".5", ".123456", ".1234567890"]),
    st.sampled_from(["", "Z", "+02:00", "-05:30", "+25:00"]),
)
_host = st.sampled_from(["h", "host.example", "-", "fe80::1", "a@b", ""])
_body = st.binary(max_size=40)


@st.composite
def syslog_lines(draw: st.DrawFn) -> bytes:
    pri = draw(_pri)
    if draw(st.booleans()):
        head = f"<{pri}>{draw(st.sampled_from(['', '1 ', '1']))}{draw(_stamp5424)}"
    else:
        head = f"<{pri}>{draw(st.sampled_from(['', '1 ']))}{draw(_stamp3164)}"
    host = draw(_host)
    return f"{head} {host} ".encode() + draw(_body)


def reference(line: bytes) -> tuple[dict[str, str], bytes]:
    """The regex path alone, on a fresh parser (no caches)."""
    return SyslogParser(tz=dt.UTC)._parse_one(line, NOW)


@settings(max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(syslog_lines(), min_size=1, max_size=4))
def test_cached_fast_paths_agree_with_the_regex_path(lines: list[bytes]) -> None:
    parser = SyslogParser(tz=dt.UTC)
    for line in lines + lines:  # the second round hits the caches
        assert parser.parse(line, NOW) == reference(line)


@MANY
@given(st.binary(max_size=80))
def test_parser_never_raises_and_always_reports_a_status_or_facility(line: bytes) -> None:
    headers, body = SyslogParser(tz=dt.UTC).parse(line, NOW)
    assert headers.get(STATUS) == INVALID or "Facility" in headers
    assert isinstance(body, bytes)


@MANY
@given(
    st.lists(st.binary(min_size=1, max_size=30).filter(lambda b: b"\n" not in b), max_size=8),
    st.lists(st.integers(1, 50), max_size=8),
)
def test_line_framing_loses_no_byte_whatever_the_read_sizes(
    lines: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(line + b"\n" for line in lines)
    framer = LineFramer(12)
    out = []
    pos = 0
    for cut in [*cuts, len(data)]:
        out += framer.feed(data[pos : pos + cut])
        pos += cut
    out += framer.finish()
    joined = b"".join(f.data if isinstance(f, Fragment) else f for f in out)
    expected = b"".join(line.removesuffix(b"\r") for line in lines)
    assert joined == expected
    assert all(len(f.data if isinstance(f, Fragment) else f) <= 12 for f in out)


@MANY
@given(
    st.lists(st.binary(min_size=1, max_size=30), max_size=6),
    st.lists(st.integers(1, 40), max_size=6),
)
def test_octet_counting_recovers_every_frame_whatever_the_read_sizes(
    frames: list[bytes], cuts: list[int]
) -> None:
    frames = [f for f in frames if f.rstrip(b"\r\n")]
    data = b"".join(b"%d %s" % (len(f), f) for f in frames)
    framer = StreamFramer(64)
    out = []
    pos = 0
    for cut in [*cuts, len(data)]:
        out += framer.feed(data[pos : pos + cut])
        pos += cut
    out += framer.finish()
    if frames and not frames[0][:1].isdigit():
        assert out == [f.removesuffix(b"\n").removesuffix(b"\r") for f in frames]


def test_random_streams_never_crash_a_connection_or_grow_its_buffer() -> None:
    rng = random.Random(20261121)
    alphabet = b"<>0123456789 \n\r\x00\xff:-TZNov.abc"
    parser = SyslogParser(tz=dt.UTC, now=lambda: NOW)
    for _ in range(100_000):
        s = SyslogStream(parser, 16)
        data = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 48)))
        events = s.feed(data[: len(data) // 2]) + s.feed(data[len(data) // 2 :]) + s.finish()
        for event in events:
            assert len(event.body) <= 16
            assert event.headers.get(STATUS) in (None, INVALID, INCOMPLETE)


_fraction = st.one_of(
    st.just(""),
    st.text("0123456789", min_size=0, max_size=11).map(lambda d: "." + d),
    st.sampled_from([".12a", ".+1", "..5", ".١٢"]),  # not ASCII digits
)


@st.composite
def same_second_5424_lines(draw: st.DrawFn) -> bytes:
    """RFC 5424 lines sharing ``<PRI>V STAMP`` but not the fraction, zone or host."""
    frac = draw(_fraction)
    zone = draw(st.sampled_from(["", "Z", "+02:00", "-05:30"]))
    host = draw(st.sampled_from(["h", "host.example", "-", "h2", ""]))
    sep = draw(st.sampled_from([" ", "  ", ""]))
    return f"<38>1 2026-11-21T05:26:28{frac}{zone}{sep}{host} ".encode() + draw(_body)


@settings(max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(same_second_5424_lines(), min_size=2, max_size=12))
def test_rfc5424_header_cache_agrees_with_the_regex_path_within_one_second(
    lines: list[bytes],
) -> None:
    parser = SyslogParser(tz=dt.UTC)
    for line in lines + lines:
        assert parser.parse(line, NOW) == reference(line)


@st.composite
def neighbour_lines(draw: st.DrawFn) -> bytes:
    """Lines from a small pool, so that consecutive ones share (or nearly share) a cache key."""
    pri = draw(st.sampled_from(["13", "38"]))
    host = draw(st.sampled_from(["h", "h2", "host", "-"]))
    if draw(st.booleans()):
        stamp = draw(st.sampled_from(["2026-11-21T05:26:28", "2026-11-21T05:26:29",
                                      "2026-11-22T05:26:28", "2026-02-30T05:26:28"]))
        frac = draw(st.sampled_from(["", ".5", ".123", ".123456", ".12x"]))
        zone = draw(st.sampled_from(["Z", "+02:00", ""]))
        return f"<{pri}>1 {stamp}{frac}{zone} {host} ".encode() + draw(_body)
    stamp = draw(st.sampled_from(["Nov 21 05:26:28", "Nov 21 05:26:29", "Nov  1 05:26:28"]))
    return f"<{pri}>{stamp} {host} ".encode() + draw(_body)


@settings(max_examples=2_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(syslog_lines(), same_second_5424_lines(), neighbour_lines()),
                min_size=1, max_size=12))
def test_one_batch_agrees_with_the_regex_path_message_by_message(lines: list[bytes]) -> None:
    """parse_many reuses the previous message's cache key inside a batch; it must not matter."""
    parsed = SyslogParser(tz=dt.UTC).parse_many(lines + lines, NOW)
    assert parsed == [reference(line) for line in lines + lines]
