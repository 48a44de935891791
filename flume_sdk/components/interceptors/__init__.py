"""Flume's interceptor set, registered under Flume's aliases and builder class names.

=================  ===============================================================
alias              Flume ``type`` also accepted
=================  ===============================================================
timestamp          org.apache.flume.interceptor.TimestampInterceptor$Builder
host               org.apache.flume.interceptor.HostInterceptor$Builder
static             org.apache.flume.interceptor.StaticInterceptor$Builder
remove_header      org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder
uuid               org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder
regex_filter       org.apache.flume.interceptor.RegexFilteringInterceptor$Builder
regex_extractor    org.apache.flume.interceptor.RegexExtractorInterceptor$Builder
search_replace     org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder
=================  ===============================================================

Regexes use Java's syntax where Python's ``re`` can express it (named groups
``(?<name>...)``, ``\\Q...\\E``); an invalid regex is a configuration error that
names the key.
"""

from flume_sdk.components.interceptors._headers import (
    HostInterceptor,
    RemoveHeaderInterceptor,
    StaticInterceptor,
    TimestampInterceptor,
    UUIDInterceptor,
)
from flume_sdk.components.interceptors._java import JodaParser, compile_java_regex
from flume_sdk.components.interceptors._regex import (
    MILLIS_SERIALIZER,
    RegexExtractorInterceptor,
    RegexFilteringInterceptor,
    SearchAndReplaceInterceptor,
)

__all__ = [
    "MILLIS_SERIALIZER",
    "HostInterceptor",
    "JodaParser",
    "RegexExtractorInterceptor",
    "RegexFilteringInterceptor",
    "RemoveHeaderInterceptor",
    "SearchAndReplaceInterceptor",
    "StaticInterceptor",
    "TimestampInterceptor",
    "UUIDInterceptor",
    "compile_java_regex",
]
