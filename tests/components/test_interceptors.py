"""The interceptor set: Flume's keys and defaults, Java regex syntax, config errors, batches."""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

import pytest

from flume_sdk import ConfigurationError, Event, Interceptor, PluginKind, PluginRegistry
from flume_sdk.components.interceptors import (
    MILLIS_SERIALIZER,
    HostInterceptor,
    JodaParser,
    RegexExtractorInterceptor,
    RegexFilteringInterceptor,
    RemoveHeaderInterceptor,
    SearchAndReplaceInterceptor,
    StaticInterceptor,
    TimestampInterceptor,
    UUIDInterceptor,
    compile_java_regex,
)
from flume_sdk.components.interceptors._headers import local_host


class FixedClock:
    """Wall time that stands still (the testkit's FakeClock is not merged yet)."""

    def __init__(self, wall: float) -> None:
        self.wall = wall

    def monotonic(self) -> float:
        return 0.0

    def time(self) -> float:
        return self.wall

    def sleep(self, seconds: float) -> None:
        """Time does not move."""

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.is_set()


def _build(cls: type[Interceptor], props: dict[str, str] | None = None, **kw: Any) -> Interceptor:
    return cls.from_config("i1", props or {}, component="a1.sources.r1.interceptors.i1", **kw)


def _one(cls: type[Interceptor], props: dict[str, str], event: Event, **kw: Any) -> Event | None:
    return _build(cls, props, **kw).intercept(event)


# -- timestamp -----------------------------------------------------------------------------------


def test_timestamp_sets_epoch_millis_from_the_clock() -> None:
    out = _one(TimestampInterceptor, {}, Event(), clock=FixedClock(1_700_000_000.123))
    assert out is not None and out.headers == {"timestamp": "1700000000123"}


def test_timestamp_overwrites_an_existing_header_by_default() -> None:
    out = _one(TimestampInterceptor, {}, Event(headers={"timestamp": "1"}), clock=FixedClock(2.0))
    assert out is not None and out.headers["timestamp"] == "2000"


def test_timestamp_preserve_existing_keeps_the_header() -> None:
    out = _one(TimestampInterceptor, {"preserveExisting": "true"},
               Event(headers={"timestamp": "1"}), clock=FixedClock(2.0))
    assert out is not None and out.headers["timestamp"] == "1"


@pytest.mark.parametrize("key", ["headerName", "header"])
def test_timestamp_header_name_is_configurable(key: str) -> None:
    out = _one(TimestampInterceptor, {key: "ts"}, Event(), clock=FixedClock(1.0))
    assert out is not None and out.headers == {"ts": "1000"}


# -- host ----------------------------------------------------------------------------------------


def test_host_sets_the_ip_by_default() -> None:
    out = _one(HostInterceptor, {}, Event())
    assert out is not None and out.headers == {"host": local_host(True)}


def test_host_use_ip_false_sets_the_canonical_name() -> None:
    out = _one(HostInterceptor, {"useIP": "false", "hostHeader": "h"}, Event())
    assert out is not None and out.headers == {"h": local_host(False)}


def test_host_preserve_existing_keeps_the_header() -> None:
    out = _one(HostInterceptor, {"preserveExisting": "true"}, Event(headers={"host": "x"}))
    assert out is not None and out.headers == {"host": "x"}


# -- static --------------------------------------------------------------------------------------


def test_static_defaults_add_key_equals_value() -> None:
    out = _one(StaticInterceptor, {}, Event())
    assert out is not None and out.headers == {"key": "value"}


def test_static_preserves_an_existing_header_by_default() -> None:
    out = _one(StaticInterceptor, {"key": "dc", "value": "b"}, Event(headers={"dc": "a"}))
    assert out is not None and out.headers == {"dc": "a"}


def test_static_preserve_existing_false_overwrites() -> None:
    out = _one(StaticInterceptor, {"key": "dc", "value": "b", "preserveExisting": "false"},
               Event(headers={"dc": "a"}))
    assert out is not None and out.headers == {"dc": "b"}


# -- uuid ----------------------------------------------------------------------------------------


def test_uuid_adds_a_prefixed_random_uuid_under_id() -> None:
    out = _one(UUIDInterceptor, {"prefix": "agent1-"}, Event())
    assert out is not None
    value = out.headers["id"]
    assert value.startswith("agent1-")
    uuid.UUID(value.removeprefix("agent1-"))


def test_uuid_gives_each_event_a_different_id() -> None:
    interceptor = _build(UUIDInterceptor)
    ids = {e.headers["id"] for e in interceptor.intercept_batch([Event() for _ in range(100)])}
    assert len(ids) == 100


def test_uuid_preserves_an_existing_id_by_default() -> None:
    out = _one(UUIDInterceptor, {"headerName": "eid"}, Event(headers={"eid": "keep"}))
    assert out is not None and out.headers == {"eid": "keep"}


# -- remove_header -------------------------------------------------------------------------------


HEADERS = {"a": "1", "b": "2", "c": "3", "xa": "4", "ax": "5"}


def _remaining(props: dict[str, str]) -> set[str]:
    out = _one(RemoveHeaderInterceptor, props, Event(headers=dict(HEADERS)))
    assert out is not None
    return set(out.headers)


def test_remove_header_without_keys_changes_nothing() -> None:
    assert _remaining({}) == set(HEADERS)


def test_remove_header_with_name_removes_that_header() -> None:
    assert _remaining({"withName": "a"}) == {"b", "c", "xa", "ax"}


def test_remove_header_from_list_splits_on_comma_with_spaces() -> None:
    assert _remaining({"fromList": "a ,b,  c"}) == {"xa", "ax"}


@pytest.mark.parametrize("key", ["fromListSeparator", "listSeparator"])
def test_remove_header_list_separator_is_a_regex(key: str) -> None:
    assert _remaining({"fromList": "a|b", key: r"\|"}) == {"c", "xa", "ax"}


def test_remove_header_matching_must_match_the_whole_name() -> None:
    assert _remaining({"matching": "a"}) == {"b", "c", "xa", "ax"}
    assert _remaining({"matching": "x.*"}) == {"a", "b", "c", "ax"}


def test_remove_header_modes_combine() -> None:
    assert _remaining({"withName": "b", "fromList": "c", "matching": ".*x"}) == {"a", "xa"}


@pytest.mark.parametrize("key", ["matching", "fromListSeparator"])
def test_remove_header_invalid_regex_is_a_configuration_error_naming_the_key(key: str) -> None:
    with pytest.raises(ConfigurationError,
                       match=rf"interceptors\.i1\.{key}: is not a valid regular expression"):
        _build(RemoveHeaderInterceptor, {key: "[a"})


# -- regex_filter --------------------------------------------------------------------------------


def test_regex_filter_default_keeps_everything() -> None:
    assert _one(RegexFilteringInterceptor, {}, Event(b"anything")) is not None


def test_regex_filter_searches_anywhere_in_the_body() -> None:
    assert _one(RegexFilteringInterceptor, {"regex": "ERR"}, Event(b"an ERROR here")) is not None


def test_regex_filter_drops_events_without_a_match() -> None:
    assert _one(RegexFilteringInterceptor, {"regex": "ERR"}, Event(b"INFO fine")) is None


def test_regex_filter_exclude_events_drops_matches_and_keeps_the_rest() -> None:
    interceptor = _build(RegexFilteringInterceptor, {"regex": "DEBUG", "excludeEvents": "true"})
    out = interceptor.intercept_batch([Event(b"DEBUG x"), Event(b"INFO y")])
    assert [e.body for e in out] == [b"INFO y"]


def test_regex_filter_undecodable_bytes_do_not_fail() -> None:
    assert _one(RegexFilteringInterceptor, {"regex": "ok"}, Event(b"\xff\xfe ok")) is not None


def test_regex_filter_invalid_regex_is_a_configuration_error_naming_the_key() -> None:
    with pytest.raises(ConfigurationError, match=r"i1\.regex: is not a valid regular expression"):
        _build(RegexFilteringInterceptor, {"regex": "(unclosed"})


def test_unknown_key_is_a_configuration_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigurationError, match=r"i1\.excludeEvent: unknown key.*excludeEvents"):
        _build(RegexFilteringInterceptor, {"excludeEvent": "true"})


# -- regex_extractor -----------------------------------------------------------------------------


EXTRACT = {"regex": r"(\d):(\d):(\d)", "serializers": "s1 s2",
           "serializers.s1.name": "one", "serializers.s2.name": "two"}


def test_regex_extractor_copies_group_i_to_serializer_i_and_ignores_extra_groups() -> None:
    out = _one(RegexExtractorInterceptor, EXTRACT, Event(b"x 1:2:3 y"))
    assert out is not None and out.headers == {"one": "1", "two": "2"}


def test_regex_extractor_leaves_events_without_a_match_unchanged() -> None:
    out = _one(RegexExtractorInterceptor, EXTRACT, Event(b"no digits", {"k": "v"}))
    assert out is not None and out.headers == {"k": "v"}


def test_regex_extractor_uses_only_the_first_match() -> None:
    out = _one(RegexExtractorInterceptor, EXTRACT, Event(b"1:2:3 4:5:6"))
    assert out is not None and out.headers == {"one": "1", "two": "2"}


def test_regex_extractor_accepts_java_named_groups() -> None:
    props = {"regex": r"user=(?<user>\w+)", "serializers": "u", "serializers.u.name": "user"}
    out = _one(RegexExtractorInterceptor, props, Event(b"user=bob"))
    assert out is not None and out.headers == {"user": "bob"}


def test_regex_extractor_millis_serializer_parses_a_joda_pattern_as_local_time() -> None:
    props = {"regex": r"^(\S+ \S+)", "serializers": "t",
             "serializers.t.name": "timestamp", "serializers.t.type": MILLIS_SERIALIZER,
             "serializers.t.pattern": "yyyy-MM-dd HH:mm:ss.SSS"}
    out = _one(RegexExtractorInterceptor, props, Event(b"2012-10-17 14:34:44.123 msg"))
    expected = int(time.mktime((2012, 10, 17, 14, 34, 44, 0, 0, -1))) * 1000 + 123
    assert out is not None and out.headers == {"timestamp": str(expected)}


def test_regex_extractor_millis_serializer_honours_a_zone_in_the_pattern() -> None:
    props = {"regex": r"^(.+)$", "serializers": "t", "serializers.t.name": "ts",
             "serializers.t.type": "millis", "serializers.t.pattern": "yyyy-MM-dd'T'HH:mm:ssZ"}
    out = _one(RegexExtractorInterceptor, props, Event(b"1970-01-01T00:00:01+0000"))
    assert out is not None and out.headers == {"ts": "1000"}


def test_regex_extractor_millis_value_that_does_not_parse_sets_no_header() -> None:
    props = {"regex": r"^(\S+)", "serializers": "t", "serializers.t.name": "ts",
             "serializers.t.type": MILLIS_SERIALIZER, "serializers.t.pattern": "yyyy-MM-dd"}
    out = _one(RegexExtractorInterceptor, props, Event(b"not-a-date"))
    assert out is not None and out.headers == {}


@pytest.mark.parametrize(("props", "key"), [
    ({"regex": "(a)", "serializers": "s1"}, "serializers.s1.name"),
    ({"regex": "(a)", "serializers": "s1", "serializers.s1.name": "h",
      "serializers.s1.type": "com.example.Nope"}, "serializers.s1.type"),
    ({"regex": "(a)", "serializers": "s1", "serializers.s1.name": "h",
      "serializers.s1.type": MILLIS_SERIALIZER}, "serializers.s1.pattern"),
    ({"regex": "(a)", "serializers": "s1", "serializers.s1.name": "h",
      "serializers.s1.nmae": "x"}, "serializers.s1.nmae"),
    ({"regex": "(a)", "serializers": "s1", "serializers.s1.name": "h",
      "serializers.s2.name": "x"}, "serializers.s2.*"),
    ({"regex": "(a", "serializers": "s1", "serializers.s1.name": "h"}, "regex"),
    ({"serializers": "s1", "serializers.s1.name": "h"}, "regex"),
])
def test_regex_extractor_config_errors_name_the_key(props: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"interceptors\.i1\.{re.escape(key)}: "):
        _build(RegexExtractorInterceptor, props)


# -- search_replace ------------------------------------------------------------------------------


def test_search_replace_replaces_every_match() -> None:
    out = _one(SearchAndReplaceInterceptor, {"searchPattern": "a", "replaceString": "b"},
               Event(b"banana"))
    assert out is not None and out.body == b"bbnbnb"


def test_search_replace_default_replacement_deletes_matches() -> None:
    out = _one(SearchAndReplaceInterceptor, {"searchPattern": r"^\d+ "}, Event(b"123 message"))
    assert out is not None and out.body == b"message"


def test_search_replace_dollar_group_references_follow_java() -> None:
    props = {"searchPattern": r"(?<k>\w+)=(\w+)", "replaceString": r"$2:${k} \$1"}
    out = _one(SearchAndReplaceInterceptor, props, Event(b"a=1 b=2"))
    assert out is not None and out.body == b"1:a $1 2:b $1"


def test_search_replace_backslash_is_taken_literally_in_the_replacement() -> None:
    props = {"searchPattern": "x", "replaceString": r"\\n"}
    out = _one(SearchAndReplaceInterceptor, props, Event(b"axb"))
    assert out is not None and out.body == b"a\\nb"


def test_search_replace_uses_the_configured_charset() -> None:
    props = {"searchPattern": "é", "replaceString": "e", "charset": "ISO-8859-1"}
    out = _one(SearchAndReplaceInterceptor, props, Event("café".encode("latin-1")))
    assert out is not None and out.body == b"cafe"


@pytest.mark.parametrize(("props", "key"), [
    ({}, "searchPattern"),
    ({"searchPattern": "(x"}, "searchPattern"),
    ({"searchPattern": "(x)", "replaceString": "$2"}, "replaceString"),
    ({"searchPattern": "x", "replaceString": "a$"}, "replaceString"),
    ({"searchPattern": "x", "charset": "UTF-9"}, "charset"),
])
def test_search_replace_config_errors_name_the_key(props: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"interceptors\.i1\.{key}: "):
        _build(SearchAndReplaceInterceptor, props)


# -- shared behaviour ----------------------------------------------------------------------------


ALL: list[tuple[type[Interceptor], dict[str, str]]] = [
    (TimestampInterceptor, {}),
    (HostInterceptor, {}),
    (StaticInterceptor, {}),
    (UUIDInterceptor, {}),
    (RemoveHeaderInterceptor, {"withName": "drop"}),
    (RegexFilteringInterceptor, {"regex": "keep"}),
    (RegexExtractorInterceptor, {"regex": r"(\d+)", "serializers": "n",
                                 "serializers.n.name": "num"}),
    (SearchAndReplaceInterceptor, {"searchPattern": "keep", "replaceString": "kept"}),
]


def _without_uuid(event: Event) -> tuple[bytes, dict[str, str]]:
    """The event minus the uuid header, which differs by design between two runs."""
    return event.body, {k: v for k, v in event.headers.items() if k != "id"}


def _sample() -> list[Event]:
    return [Event(b"keep 1", {"drop": "x"}), Event(b"lose 2"), Event(b""), Event(b"keep \xff 3")]


@pytest.mark.parametrize(("cls", "props"), ALL, ids=[c.__name__ for c, _ in ALL])
def test_intercept_batch_equals_the_filtered_map_of_intercept(
        cls: type[Interceptor], props: dict[str, str]) -> None:
    clock = FixedClock(1.5)
    one_by_one = [out for e in _sample()
                  if (out := _build(cls, props, clock=clock).intercept(e)) is not None]
    batched = _build(cls, props, clock=clock).intercept_batch(_sample())
    assert [_without_uuid(e) for e in batched] == [_without_uuid(e) for e in one_by_one]


def test_java_quoted_sections_are_literal() -> None:
    assert compile_java_regex(r"\Qa.b\E").fullmatch("a.b")
    assert not compile_java_regex(r"\Qa.b\E").fullmatch("axb")


def test_joda_parser_rejects_unsupported_pattern_letters() -> None:
    with pytest.raises(ValueError, match="pattern letter 'G'"):
        JodaParser("G yyyy")


# -- registration --------------------------------------------------------------------------------


FLUME_NAMES = {
    "timestamp": TimestampInterceptor,
    "org.apache.flume.interceptor.TimestampInterceptor$Builder": TimestampInterceptor,
    "host": HostInterceptor,
    "org.apache.flume.interceptor.HostInterceptor$Builder": HostInterceptor,
    "static": StaticInterceptor,
    "org.apache.flume.interceptor.StaticInterceptor$Builder": StaticInterceptor,
    "remove_header": RemoveHeaderInterceptor,
    "org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder": RemoveHeaderInterceptor,
    "uuid": UUIDInterceptor,
    "org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder": UUIDInterceptor,
    "regex_filter": RegexFilteringInterceptor,
    "org.apache.flume.interceptor.RegexFilteringInterceptor$Builder": RegexFilteringInterceptor,
    "regex_extractor": RegexExtractorInterceptor,
    "org.apache.flume.interceptor.RegexExtractorInterceptor$Builder": RegexExtractorInterceptor,
    "search_replace": SearchAndReplaceInterceptor,
    "org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder":
        SearchAndReplaceInterceptor,
}


@pytest.mark.parametrize("type_name", sorted(FLUME_NAMES))
def test_alias_and_flume_builder_name_load_the_interceptor(type_name: str) -> None:
    registry = PluginRegistry()
    if not registry.available(PluginKind.INTERCEPTOR):
        pytest.skip("the kernel's flume_sdk.interceptors entry points are not installed yet")
    assert registry.load(PluginKind.INTERCEPTOR, type_name) is FLUME_NAMES[type_name]
