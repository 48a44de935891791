"""Newline and RFC 6587 octet-counting framing, detected per connection, with bounded buffers."""

from __future__ import annotations

from flume_source_syslog import Fragment, LineFramer, OctetFramer, StreamFramer


def frames(framer: LineFramer | OctetFramer | StreamFramer, *chunks: bytes) -> list[object]:
    out: list[object] = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    out.extend(framer.finish())
    return out


def test_newline_framing_splits_lines_across_reads() -> None:
    assert frames(LineFramer(100), b"<1>a\n<1>b", b"c\n<1>d\n") == [b"<1>a", b"<1>bc", b"<1>d"]


def test_carriage_return_before_newline_is_dropped() -> None:
    assert frames(LineFramer(100), b"<1>a\r\n<1>b\r\n") == [b"<1>a", b"<1>b"]


def test_empty_lines_are_skipped() -> None:
    assert frames(LineFramer(100), b"\n\n<1>a\n\n") == [b"<1>a"]


def test_unterminated_last_line_is_delivered_when_the_stream_ends() -> None:
    assert frames(LineFramer(100), b"<1>a\n<1>b") == [b"<1>a", b"<1>b"]


def test_line_longer_than_the_limit_is_cut_into_flagged_pieces_without_loss() -> None:
    out = frames(LineFramer(4), b"abcdefghij\nxy\n")
    assert out == [
        Fragment(b"abcd", True),
        Fragment(b"efgh", False),
        Fragment(b"ij", False),
        b"xy",
    ]


def test_unterminated_long_line_keeps_the_buffer_bounded() -> None:
    framer = LineFramer(8)
    pieces = [framer.feed(b"x" * 5) for _ in range(100)]
    assert len(framer._pending) <= 8
    emitted = [f for chunk in pieces for f in chunk] + framer.finish()
    assert sum(len(f.data) for f in emitted if isinstance(f, Fragment)) == 500


def test_octet_counting_frames_are_split_by_length_not_by_newline() -> None:
    assert frames(OctetFramer(100), b"5 <1>a\n4 <1>", b"b") == [b"<1>a", b"<1>b"]


def test_octet_counted_frame_may_contain_newlines() -> None:
    assert frames(OctetFramer(100), b"7 <1>a\nbc") == [b"<1>a\nbc"]


def test_octet_frame_longer_than_the_limit_is_streamed_in_pieces() -> None:
    out = frames(OctetFramer(4), b"10 abcd", b"efghij2 xy")
    assert out == [
        Fragment(b"abcd", True),
        Fragment(b"efgh", False),
        Fragment(b"ij", False),
        b"xy",
    ]


def test_bad_octet_length_header_falls_back_to_newline_framing() -> None:
    framer = OctetFramer(100)
    assert frames(framer, b"3 <1>12x <2>b\n<3>c\n") == [b"<1>", b"12x <2>b", b"<3>c"]
    assert framer.fell_back


def test_octet_frame_cut_short_by_the_end_of_stream_is_a_fragment() -> None:
    assert frames(OctetFramer(100), b"50 <1>abc") == [Fragment(b"<1>abc", True)]


def test_first_digit_selects_octet_counting_for_the_connection() -> None:
    framer = StreamFramer(100)
    assert frames(framer, b"4 <1>a4 <1>b") == [b"<1>a", b"<1>b"]
    assert framer.octet_counting


def test_first_angle_bracket_selects_newline_framing() -> None:
    framer = StreamFramer(100)
    assert frames(framer, b"<1>a\n") == [b"<1>a"]
    assert not framer.octet_counting


def test_connection_that_sends_nothing_yields_nothing() -> None:
    assert frames(StreamFramer(100)) == []
