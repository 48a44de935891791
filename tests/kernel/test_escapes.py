"""escape_string: Flume's escapes, rounding, zones, host names and timestamp errors."""

from __future__ import annotations

import socket

import pytest
from flume_testkit.clock import FakeClock

from flume_sdk._escapes import (
    EscapeError,
    EscapeTemplate,
    MissingTimestampError,
    escape_string,
    round_down,
)

__all__: list[str] = []

# 2023-11-14 22:15:23.456 UTC, a Tuesday
STAMP = 1_700_000_123_456
HEADERS = {"timestamp": str(STAMP), "app": "web"}


def _utc(template: str, **kwargs: object) -> str:
    return escape_string(template, HEADERS, time_zone="UTC", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("escape", "expected"), [
    ("%Y", "2023"), ("%y", "23"), ("%m", "11"), ("%n", "11"), ("%d", "14"), ("%e", "14"),
    ("%H", "22"), ("%k", "22"), ("%I", "10"), ("%l", "10"), ("%M", "15"), ("%S", "23"),
    ("%p", "PM"), ("%a", "Tue"), ("%A", "Tuesday"), ("%b", "Nov"), ("%B", "November"),
    ("%c", "Tue Nov 14 22:15:23 2023"), ("%D", "11/14/23"), ("%j", "318"), ("%z", "+0000"),
    ("%s", "1700000123"), ("%t", str(STAMP)),
])
def test_time_escape_formats_like_java(escape: str, expected: str) -> None:
    assert _utc(escape) == expected


def test_unpadded_escapes_drop_leading_zeros() -> None:
    headers = {"timestamp": str(1_675_234_800_000)}  # 2023-02-01 07:00:00 UTC
    assert escape_string("%e %n %k %l", headers, time_zone="UTC") == "1 2 7 7"


def test_header_escape_inserts_value_and_missing_header_is_empty() -> None:
    assert _utc("/logs/%{app}/%{absent}/x") == "/logs/web//x"


def test_header_values_are_inserted_literally() -> None:
    headers = {"app": r"$1\n%Y"}
    assert escape_string("/%{app}", headers) == r"/$1\n%Y"


def test_double_percent_is_a_literal_percent_without_timestamp() -> None:
    assert escape_string("100%%", {}) == "100%"


def test_unknown_escape_becomes_empty() -> None:
    assert escape_string("a%Qb", {}) == "ab"


def test_zone_is_applied_with_its_offset() -> None:
    assert escape_string("%H %z", HEADERS, time_zone="America/Los_Angeles") == "14 -0800"


def test_rounding_down_to_ten_minutes_zeroes_seconds() -> None:
    got = _utc("%H:%M:%S", round=True, round_value=10, round_unit="minute")
    assert got == "22:10:00"


def test_rounding_by_hour_in_zone_truncates_hours() -> None:
    got = escape_string("%H:%M", HEADERS, time_zone="Asia/Kolkata", round=True, round_value=6,
                        round_unit="hour")
    assert got == "00:00"  # 03:45 IST rounds to 00:00 IST


def test_t_escape_is_never_rounded_but_s_is() -> None:
    got = _utc("%t %s", round=True, round_value=1, round_unit="hour")
    assert got == f"{STAMP} 1699999200"


def test_round_value_out_of_range_is_rejected() -> None:
    with pytest.raises(EscapeError, match="between 1 and 60"):
        _utc("%H", round=True, round_value=61, round_unit="minute")


def test_round_down_seconds_keeps_whole_multiples() -> None:
    assert round_down(STAMP, "second", 15, None) == 1_700_000_115_000


def test_missing_timestamp_header_names_the_fix() -> None:
    with pytest.raises(MissingTimestampError, match="useLocalTimeStamp"):
        escape_string("%Y", {})


def test_non_numeric_timestamp_header_is_an_error() -> None:
    with pytest.raises(MissingTimestampError, match="epoch millis"):
        escape_string("%Y", {"timestamp": "yesterday"})


def test_local_timestamp_reads_the_clock_once() -> None:
    clock = FakeClock(start=1_700_000_123.456)
    got = escape_string("%H:%M:%S", {}, clock=clock, use_local_timestamp=True, time_zone="UTC")
    assert got == "22:15:23"


def test_local_timestamp_ignores_the_header() -> None:
    got = escape_string("%Y", {"timestamp": "0"}, timestamp=STAMP, use_local_timestamp=True,
                        time_zone="UTC")
    assert got == "2023"


def test_host_escapes_name_this_host_in_any_case() -> None:
    assert escape_string("%[localhost]/%[FQDN]", {}) == \
        f"{socket.gethostname()}/{socket.getfqdn(socket.gethostname())}"
    assert escape_string("%[ip]", {}) == escape_string("%[IP]", {})


def test_unknown_host_escape_is_rejected_when_parsed() -> None:
    with pytest.raises(EscapeError, match="localhost"):
        EscapeTemplate(template="/x/%[hostname]")


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(EscapeError, match="IANA"):
        EscapeTemplate(template="%Y", time_zone="Mars/Olympus")


def test_template_without_time_escapes_needs_no_timestamp() -> None:
    template = EscapeTemplate(template="/data/%{app}")
    assert not template.needs_time
    assert template.resolve({"app": "x"}) == "/data/x"


def test_resolve_all_gives_what_resolve_gives_for_each_event() -> None:
    template = EscapeTemplate(template="/d/%{app}/%Y-%m-%d/%H%M%S", time_zone="UTC")
    batch = [{"timestamp": str(STAMP + step), "app": app}
             for step in (0, 1, 543, 544, 1544, -457, 3_600_000) for app in ("web", "db")]
    batch.append({"timestamp": str(STAMP)})  # no app header: empty, as resolve() does

    assert template.resolve_all(batch) == [template.resolve(h) for h in batch]


def test_resolve_all_keeps_milliseconds_apart_for_the_t_escape() -> None:
    template = EscapeTemplate(template="/d/%t")
    batch = [{"timestamp": str(STAMP)}, {"timestamp": str(STAMP + 1)}]

    assert template.resolve_all(batch) == [f"/d/{STAMP}", f"/d/{STAMP + 1}"]


def test_resolve_all_reads_the_clock_once_for_a_batch_on_local_time() -> None:
    clock = FakeClock(start=STAMP / 1000)
    template = EscapeTemplate(template="/d/%S", use_local_timestamp=True, clock=clock,
                              time_zone="UTC")

    assert template.resolve_all([{}, {}]) == ["/d/23", "/d/23"]


def test_resolve_all_raises_for_a_missing_timestamp() -> None:
    with pytest.raises(MissingTimestampError):
        EscapeTemplate(template="/d/%H").resolve_all([{"timestamp": str(STAMP)}, {}])
