"""Interceptors driven by a regular expression: regex_filter, regex_extractor, search_replace."""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs

from flume_sdk import SYSTEM_CLOCK, Clock, Event, Interceptor, namespace, setting
from flume_sdk.components.interceptors._java import (
    JodaParser,
    java_replacement,
    regex_setting_converter,
)

__all__ = [
    "MILLIS_SERIALIZER",
    "PASS_THROUGH_SERIALIZER",
    "RegexExtractorInterceptor",
    "RegexExtractorInterceptorSettings",
    "RegexFilteringInterceptor",
    "RegexFilteringInterceptorSettings",
    "SearchAndReplaceInterceptor",
    "SearchAndReplaceInterceptorSettings",
]

log = logging.getLogger("flume_sdk.interceptor")

PASS_THROUGH_SERIALIZER = (
    "org.apache.flume.interceptor.RegexExtractorInterceptorPassThroughSerializer")
MILLIS_SERIALIZER = "org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer"
_PASS_THROUGH_TYPES = frozenset({"default", "passthrough", PASS_THROUGH_SERIALIZER.lower()})
_MILLIS_TYPES = frozenset({"millis", MILLIS_SERIALIZER.lower()})


def _decode(body: bytes, charset: str = "utf-8") -> str:
    return body.decode(charset, errors="replace")


# -- regex_filter ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RegexFilteringInterceptorSettings:
    regex: re.Pattern[str] = setting(
        default=re.compile(".*"), converter=regex_setting_converter,
        help="searched for anywhere in the body (decoded as UTF-8)")
    exclude_events: bool = setting(default=False,
                                   help="drop matching events instead of keeping them")


class RegexFilteringInterceptor(Interceptor):
    """``regex_filter``: keeps events whose body contains a match (drops them if excluding)."""

    Settings: ClassVar[type] = RegexFilteringInterceptorSettings
    settings: RegexFilteringInterceptorSettings

    def intercept(self, event: Event) -> Event | None:
        found = self.settings.regex.search(_decode(event.body)) is not None
        return event if found != self.settings.exclude_events else None


# -- regex_extractor ------------------------------------------------------------------------


Serialize = Callable[[str], str | None]


def _pass_through(value: str) -> str | None:
    return value


def _millis_serializer(parser: JodaParser) -> Serialize:
    def serialize(value: str) -> str | None:
        try:
            return str(parser.millis(value))
        except ValueError:
            log.debug("regex_extractor: %r does not match the pattern %r", value, parser.pattern)
            return None
    return serialize


def _build_serializer(sid: str, props: Mapping[str, str]) -> tuple[str, Serialize]:
    """One ``serializers.<id>.*`` group as (header name, function); ValueError names the key."""
    for key in props:
        if key not in ("name", "type", "pattern"):
            msg = f"serializers.{sid}.{key}: unknown key (expected name, type or pattern)"
            raise ValueError(msg)
    name = props.get("name", "").strip()
    if not name:
        msg = f"serializers.{sid}.name: is required (the header the group's text goes to)"
        raise ValueError(msg)
    kind = props.get("type", "default").strip().lower()
    if kind in _PASS_THROUGH_TYPES:
        return name, _pass_through
    if kind not in _MILLIS_TYPES:
        msg = (f"serializers.{sid}.type: must be default or {MILLIS_SERIALIZER} "
               f"(got {props['type']!r})")
        raise ValueError(msg)
    pattern = props.get("pattern", "")
    if not pattern:
        msg = f"serializers.{sid}.pattern: is required by the millis serializer (a Joda pattern)"
        raise ValueError(msg)
    try:
        return name, _millis_serializer(JodaParser(pattern))
    except ValueError as exc:
        msg = f"serializers.{sid}.pattern: {exc}"
        raise ValueError(msg) from None


def _split_props(props: Mapping[str, str]) -> dict[str, dict[str, str]]:
    by_id: dict[str, dict[str, str]] = {}
    for key, value in props.items():
        sid, _, sub = key.partition(".")
        by_id.setdefault(sid, {})[sub] = value
    return by_id


@attrs.frozen(kw_only=True)
class RegexExtractorInterceptorSettings:
    regex: re.Pattern[str] = setting(
        required=True, converter=regex_setting_converter,
        help="its groups are copied into headers")
    serializers: tuple[str, ...] = setting(required=True,
                                           help="space-separated ids, one per regex group")
    serializer_properties: dict[str, str] = namespace(
        "serializers.", help="serializers.<id>.name / .type / .pattern")

    def build(self) -> list[tuple[str, Serialize]]:
        """The (header, serializer) per group, in order.

        Raises:
            ValueError: naming the ``serializers.<id>.<key>`` at fault.
        """
        by_id = _split_props(self.serializer_properties)
        for sid in by_id:
            if sid not in self.serializers:
                msg = f"serializers.{sid}.*: {sid!r} is not listed in serializers"
                raise ValueError(msg)
        return [_build_serializer(sid, by_id.get(sid, {})) for sid in self.serializers]

    def problems(self) -> list[tuple[str, str]]:
        try:
            self.build()
        except ValueError as exc:
            key, _, message = str(exc).partition(": ")
            return [(key, message)]
        return []


class RegexExtractorInterceptor(Interceptor):
    """``regex_extractor``: on the first match, group i goes to header of serializer i.

    Groups without a serializer are ignored; a group that did not take part in the
    match, or a value the millis serializer cannot parse, sets no header (Flume would
    fail the event). Without a match the event is unchanged.
    """

    Settings: ClassVar[type] = RegexExtractorInterceptorSettings
    settings: RegexExtractorInterceptorSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self.serializers = self.settings.build()

    def intercept(self, event: Event) -> Event | None:
        match = self.settings.regex.search(_decode(event.body))
        if match is None:
            return event
        headers = event.headers
        for (header, serialize), value in zip(self.serializers, match.groups(), strict=False):
            if value is None:
                continue
            out = serialize(value)
            if out is not None:
                headers[header] = out
        return event


# -- search_replace -------------------------------------------------------------------------


def _charset(text: str) -> str:
    try:
        return codecs.lookup(text.strip()).name
    except LookupError:
        msg = f"is not a known charset (got {text!r}); use e.g. UTF-8 or ISO-8859-1"
        raise ValueError(msg) from None


@attrs.frozen(kw_only=True)
class SearchAndReplaceInterceptorSettings:
    search_pattern: re.Pattern[str] = setting(
        required=True, converter=regex_setting_converter,
        help="regex replaced everywhere in the body")
    replace_string: str = setting(default="", help="replacement; $1 and ${name} insert groups")
    charset: str = setting(default="utf-8", converter=_charset, help="the body's charset")

    def problems(self) -> list[tuple[str, str]]:
        if not self.search_pattern.pattern:
            return [("searchPattern", "must not be empty")]
        try:
            java_replacement(self.replace_string, self.search_pattern)
        except ValueError as exc:
            return [("replaceString", str(exc))]
        return []


class SearchAndReplaceInterceptor(Interceptor):
    """``search_replace``: Java's ``replaceAll`` on the body decoded with ``charset``."""

    Settings: ClassVar[type] = SearchAndReplaceInterceptorSettings
    settings: SearchAndReplaceInterceptorSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._replace = java_replacement(self.settings.replace_string, self.settings.search_pattern)

    def intercept(self, event: Event) -> Event | None:
        charset = self.settings.charset
        text = _decode(event.body, charset)
        event.body = self.settings.search_pattern.sub(self._replace, text).encode(
            charset, errors="replace")
        return event
