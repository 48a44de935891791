"""RFC 3164 and RFC 5424 parsing into Flume's headers, including where Flume is wrong."""

from __future__ import annotations

import datetime as dt

import pytest
from flume_source_syslog import (
    INVALID,
    STATUS,
    SyslogParser,
    TimestampReader,
    parse_keep_fields,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC).timestamp()


def ms(*args: int, tz: dt.tzinfo = UTC) -> str:
    return str(int(dt.datetime(*args, tzinfo=tz).timestamp() * 1000))


def parse(message: bytes, now: float = NOW, **kwargs: object) -> tuple[dict[str, str], bytes]:
    parser = SyslogParser(tz=UTC, **kwargs)  # type: ignore[arg-type]
    return parser.parse(message, now)


def test_rfc3164_message_gives_flume_headers_and_message_body() -> None:
    headers, body = parse(b"<38>Nov 21 05:26:28 localhost prg00000[1234]: seq: 1")
    assert headers == {
        "Facility": "4",
        "Severity": "6",
        "priority": "38",
        "timestamp": ms(2026, 11, 21, 5, 26, 28),
        "host": "localhost",
    }
    assert body == b"prg00000[1234]: seq: 1"


def test_rfc3164_single_digit_day_with_two_spaces_is_parsed() -> None:
    headers, body = parse(b"<13>Nov  1 05:26:28 host msg")
    assert headers["timestamp"] == ms(2026, 11, 1, 5, 26, 28)
    assert body == b"msg"


def test_rfc5424_example_from_the_rfc_gives_version_and_millisecond_timestamp() -> None:
    headers, body = parse(b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - hi")
    assert headers == {
        "Facility": "4",
        "Severity": "2",
        "priority": "34",
        "version": "1",
        "timestamp": ms(2003, 10, 11, 22, 14, 15) [:-3] + "003",
        "host": "mymachine.example.com",
    }
    assert body == b"su - ID47 - hi"


def test_rfc5424_fraction_is_scaled_to_milliseconds_not_read_as_a_count() -> None:
    headers, _ = parse(b"<34>1 2003-10-11T22:14:15.5Z host app - - - x")
    assert headers["timestamp"] == str(int(ms(2003, 10, 11, 22, 14, 15)) + 500)


def test_rfc5424_zone_offset_is_honoured_when_a_fraction_is_present() -> None:
    headers, _ = parse(b"<34>1 2003-10-11T22:14:15.52+02:00 host app - - - x")
    assert headers["timestamp"] == str(int(ms(2003, 10, 11, 20, 14, 15)) + 520)


def test_rfc5424_negative_offset_is_honoured() -> None:
    headers, _ = parse(b"<34>1 2003-10-11T22:14:15-05:00 host app - - - x")
    assert headers["timestamp"] == ms(2003, 10, 12, 3, 14, 15)


def test_rfc5424_nil_timestamp_and_nil_host_give_no_such_headers() -> None:
    headers, body = parse(b"<34>1 - - app - - - x")
    assert "timestamp" not in headers
    assert "host" not in headers
    assert body == b"app - - - x"


def test_rfc5424_ipv6_host_is_accepted() -> None:
    headers, _ = parse(b"<34>1 2003-10-11T22:14:15Z fe80::1 app - - - x")
    assert headers["host"] == "fe80::1"


def test_missing_priority_is_invalid_with_raw_line_and_no_other_headers() -> None:
    assert parse(b"Nov 21 05:26:28 host msg") == ({STATUS: INVALID}, b"Nov 21 05:26:28 host msg")


@pytest.mark.parametrize("line", [b"<192>x", b"<1234>x", b"<>x", b"<a1>x", b"<13", b"<"])
def test_out_of_range_or_malformed_priority_is_invalid(line: bytes) -> None:
    assert parse(line) == ({STATUS: INVALID}, line)


def test_valid_priority_without_a_known_layout_keeps_raw_line_and_sets_facility() -> None:
    assert parse(b"<13>just text") == ({"Facility": "1", "Severity": "5"}, b"<13>just text")


def test_invalid_event_after_a_valid_one_carries_no_stale_headers() -> None:
    parser = SyslogParser(tz=UTC)
    parser.parse(b"<34>1 2003-10-11T22:14:15Z host app - - - x", NOW)
    assert parser.parse(b"garbage", NOW) == ({STATUS: INVALID}, b"garbage")


def test_keep_fields_all_keeps_the_raw_line() -> None:
    line = b"<38>Nov 21 05:26:28 localhost app: x"
    assert parse(line, keep_fields=parse_keep_fields("all"))[1] == line


def test_keep_fields_true_means_all() -> None:
    assert parse_keep_fields("true") == parse_keep_fields("all")


def test_keep_fields_subset_readds_fields_in_flume_order() -> None:
    line = b"<34>1 2003-10-11T22:14:15.003Z host app - - - x"
    _, body = parse(line, keep_fields=parse_keep_fields("hostname priority"))
    assert body == b"<34>host app - - - x"


def test_keep_fields_none_and_false_keep_nothing() -> None:
    assert parse_keep_fields("none") == parse_keep_fields("false") == frozenset()


def test_keep_fields_unknown_name_is_rejected_with_the_accepted_names() -> None:
    with pytest.raises(ValueError, match="hostname"):
        parse_keep_fields("host")


def test_nul_bytes_and_invalid_utf8_in_the_message_pass_through_unaltered() -> None:
    _, body = parse(b"<38>Nov 21 05:26:28 h a\x00b\xff\xfe")
    assert body == b"a\x00b\xff\xfe"


def test_charset_reads_the_header_and_the_body_keeps_its_bytes() -> None:
    headers, body = parse(b"<38>Nov 21 05:26:28 h caf\xea d\xe9j\xe0", charset="iso-8859-1")
    assert headers["host"] == "h"
    assert body == b"caf\xea d\xe9j\xe0"


def test_bytes_undecodable_in_the_charset_give_an_invalid_event_with_raw_bytes() -> None:
    line = b"<38>Nov 21 05:26:28 h \xff"
    assert parse(line, charset="ascii") == ({STATUS: INVALID}, line)


def test_impossible_rfc3164_date_gives_no_timestamp_instead_of_rolling_over() -> None:
    headers, _ = parse(b"<38>Feb 30 05:26:28 h x")
    assert "timestamp" not in headers
    assert headers["host"] == "h"


class TestYearInference:
    """RFC 3164 has no year; Flume's multiport source gets 1999 or 2001 outside one month."""

    def at(self, *now: int) -> float:
        return dt.datetime(*now, tzinfo=UTC).timestamp()

    def test_december_message_received_just_after_new_year_is_last_year(self) -> None:
        reader = TimestampReader(UTC)
        assert reader.rfc3164(b"Dec 31 23:59:58", self.at(2026, 1, 1, 0, 0, 5)) == ms(
            2025, 12, 31, 23, 59, 58
        )

    def test_january_message_from_a_fast_clock_before_new_year_is_next_year(self) -> None:
        reader = TimestampReader(UTC)
        assert reader.rfc3164(b"Jan  1 00:00:01", self.at(2025, 12, 31, 23, 59, 59)) == ms(
            2026, 1, 1, 0, 0, 1
        )

    def test_message_from_six_months_ago_is_this_year_not_1999(self) -> None:
        reader = TimestampReader(UTC)
        assert reader.rfc3164(b"May 21 12:00:00", self.at(2026, 11, 21)) == ms(2026, 5, 21, 12)

    def test_february_29_is_placed_in_the_leap_year(self) -> None:
        reader = TimestampReader(UTC)
        assert reader.rfc3164(b"Feb 29 10:00:00", self.at(2029, 1, 10)) == ms(2028, 2, 29, 10)

    def test_stamp_is_read_in_the_configured_zone(self) -> None:
        plus2 = dt.timezone(dt.timedelta(hours=2))
        reader = TimestampReader(plus2)
        assert reader.rfc3164(b"Nov 21 05:26:28", self.at(2026, 11, 21)) == ms(
            2026, 11, 21, 3, 26, 28
        )


def test_cached_header_is_copied_so_events_do_not_share_headers() -> None:
    parser = SyslogParser(tz=UTC)
    first, _ = parser.parse(b"<38>Nov 21 05:26:28 h a", NOW)
    first["extra"] = "x"
    second, _ = parser.parse(b"<38>Nov 21 05:26:28 h b", NOW)
    assert "extra" not in second


class TestCachedRfc5424Timestamps:
    """The header cache appends the fraction's digits to the cached second as text.

    Every case parses a run of messages on one parser, so all but the first of each header
    shape take the cached path; the expected values are computed independently.
    """

    def stamps(self, *lines: bytes) -> list[str | None]:
        parser = SyslogParser(tz=UTC)
        return [parser.parse(line, NOW)[0].get("timestamp") for line in lines + lines]

    def test_fractions_of_every_length_in_one_second(self) -> None:
        base = int(ms(2026, 11, 21, 5, 26, 28))
        fractions = [b".5", b".52", b".523", b".5239", b".523999", b".000001", b".999999999"]
        lines = [b"<38>1 2026-11-21T05:26:28%sZ h app - - - x" % f for f in fractions]
        expected = [base + 500, base + 520, base + 523, base + 523, base + 523, base, base + 999]
        assert self.stamps(*lines) == [str(v) for v in expected * 2]

    def test_second_boundary_starts_a_new_cached_second(self) -> None:
        lines = [
            b"<38>1 2026-11-21T05:26:59.998Z h app - - - x",
            b"<38>1 2026-11-21T05:26:59.999Z h app - - - x",
            b"<38>1 2026-11-21T05:27:00.000Z h app - - - x",
            b"<38>1 2026-11-21T05:27:00.001Z h app - - - x",
            b"<38>1 2026-11-21T23:59:59.999Z h app - - - x",
            b"<38>1 2026-11-22T00:00:00.000Z h app - - - x",
        ]
        minute = int(ms(2026, 11, 21, 5, 27))
        midnight = int(ms(2026, 11, 22))
        expected = [minute - 2, minute - 1, minute, minute + 1, midnight - 1, midnight]
        assert self.stamps(*lines) == [str(v) for v in expected * 2]

    def test_offsets_shift_the_cached_second(self) -> None:
        lines = [
            b"<38>1 2026-11-21T05:26:28.250+02:00 h app - - - x",
            b"<38>1 2026-11-21T05:26:28.250-05:30 h app - - - x",
            b"<38>1 2026-11-21T05:26:28.250Z h app - - - x",
            b"<38>1 2026-11-21T05:26:28.250+00:00 h app - - - x",
        ]
        expected = [
            int(ms(2026, 11, 21, 3, 26, 28)) + 250,
            int(ms(2026, 11, 21, 10, 56, 28)) + 250,
            int(ms(2026, 11, 21, 5, 26, 28)) + 250,
            int(ms(2026, 11, 21, 5, 26, 28)) + 250,
        ]
        assert self.stamps(*lines) == [str(v) for v in expected * 2]

    def test_same_second_with_and_without_a_fraction(self) -> None:
        base = int(ms(2026, 11, 21, 5, 26, 28))
        lines = [
            b"<38>1 2026-11-21T05:26:28Z h app - - - x",
            b"<38>1 2026-11-21T05:26:28.7Z h app - - - x",
        ]
        assert self.stamps(*lines) == [str(base), str(base + 700)] * 2

    def test_stamps_around_the_epoch_are_exact(self) -> None:
        lines = [
            b"<38>1 1970-01-01T00:00:00.5Z h app - - - x",
            b"<38>1 1970-01-01T00:00:01.5Z h app - - - x",
            b"<38>1 1969-12-31T23:59:59.5Z h app - - - x",
            b"<38>1 1970-01-01T00:00:00Z h app - - - x",
        ]
        assert self.stamps(*lines) == ["500", "1500", "-500", "0"] * 2

    def test_impossible_date_stays_without_timestamp_when_cached(self) -> None:
        lines = [b"<38>1 2026-02-30T05:26:28.5Z h app - - - x"]
        assert self.stamps(*lines) == [None, None]

    def test_fraction_that_is_not_digits_is_not_taken_from_the_cache(self) -> None:
        parser = SyslogParser(tz=UTC)
        parser.parse(b"<38>1 2026-11-21T05:26:28.123Z h app - - - x", NOW)
        headers, body = parser.parse(b"<38>1 2026-11-21T05:26:28.1x3Z h app - - - x", NOW)
        assert "timestamp" not in headers
        assert body == b"<38>1 2026-11-21T05:26:28.1x3Z h app - - - x"


def test_message_sharing_the_previous_key_but_not_its_host_is_parsed_on_its_own() -> None:
    parser = SyslogParser(tz=UTC)
    first, second, third = parser.parse_many([
        b"<38>Nov 21 05:26:28 localhost a",
        b"<38>Nov 21 05:26:28 localhost2 b",
        b"<38>1 2026-11-21T05:26:28Z localhost x",
    ], NOW)
    assert (first[0]["host"], first[1]) == ("localhost", b"a")
    assert (second[0]["host"], second[1]) == ("localhost2", b"b")
    assert (third[0]["host"], third[1]) == ("localhost", b"x")
