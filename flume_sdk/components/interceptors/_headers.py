"""Interceptors that add or remove headers: timestamp, host, static, uuid, remove_header."""

from __future__ import annotations

import logging
import re
import socket
import uuid
from typing import Any, ClassVar

import attrs

from flume_sdk import SYSTEM_CLOCK, Clock, Event, Interceptor, setting
from flume_sdk.components.interceptors._java import regex_setting_converter

__all__ = [
    "HostInterceptor",
    "HostInterceptorSettings",
    "RemoveHeaderInterceptor",
    "RemoveHeaderInterceptorSettings",
    "StaticInterceptor",
    "StaticInterceptorSettings",
    "TimestampInterceptor",
    "TimestampInterceptorSettings",
    "UUIDInterceptor",
    "UUIDInterceptorSettings",
]

log = logging.getLogger("flume_sdk.interceptor")


def _set_header(event: Event, key: str, value: str, preserve: bool) -> Event:
    if not (preserve and key in event.headers):
        event.headers[key] = value
    return event


@attrs.frozen(kw_only=True)
class TimestampInterceptorSettings:
    header_name: str = setting(default="timestamp", aliases=("header",),
                               help="header that receives the epoch milliseconds")
    preserve_existing: bool = setting(default=False, help="keep a header already present")


class TimestampInterceptor(Interceptor):
    """``timestamp``: sets ``headerName`` to the current time in epoch milliseconds."""

    Settings: ClassVar[type] = TimestampInterceptorSettings
    settings: TimestampInterceptorSettings

    def intercept(self, event: Event) -> Event | None:
        settings = self.settings
        if settings.preserve_existing and settings.header_name in event.headers:
            return event
        event.headers[settings.header_name] = str(int(self.clock.time() * 1000))
        return event


@attrs.frozen(kw_only=True)
class HostInterceptorSettings:
    host_header: str = setting(default="host", help="header that receives the host")
    use_ip: bool = setting("useIP", default=True,
                           help="the IP address (true) or the canonical host name (false)")
    preserve_existing: bool = setting(default=False, help="keep a header already present")


def local_host(use_ip: bool) -> str | None:
    """This machine's address, or canonical name, as Java's ``InetAddress.getLocalHost()``."""
    try:
        name = socket.gethostname()
        return socket.gethostbyname(name) if use_ip else socket.getfqdn(name)
    except OSError as exc:
        log.warning("host interceptor: could not look up the local host: %s", exc)
        return None


class HostInterceptor(Interceptor):
    """``host``: sets ``hostHeader`` to the agent's IP or canonical name, looked up once."""

    Settings: ClassVar[type] = HostInterceptorSettings
    settings: HostInterceptorSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self.host = local_host(self.settings.use_ip)

    def intercept(self, event: Event) -> Event | None:
        if self.host is None:
            return event
        return _set_header(event, self.settings.host_header, self.host,
                           self.settings.preserve_existing)


@attrs.frozen(kw_only=True)
class StaticInterceptorSettings:
    key: str = setting(default="key", help="header name")
    value: str = setting(default="value", help="header value")
    preserve_existing: bool = setting(default=True, help="keep a header already present")


class StaticInterceptor(Interceptor):
    """``static``: adds one fixed header."""

    Settings: ClassVar[type] = StaticInterceptorSettings
    settings: StaticInterceptorSettings

    def intercept(self, event: Event) -> Event | None:
        settings = self.settings
        return _set_header(event, settings.key, settings.value, settings.preserve_existing)


@attrs.frozen(kw_only=True)
class UUIDInterceptorSettings:
    header_name: str = setting(default="id", help="header that receives the UUID")
    preserve_existing: bool = setting(default=True, help="keep a header already present")
    prefix: str = setting(default="", help="put before the UUID")


class UUIDInterceptor(Interceptor):
    """``uuid``: adds a random UUID (a key for de-duplicating downstream)."""

    Settings: ClassVar[type] = UUIDInterceptorSettings
    settings: UUIDInterceptorSettings

    def intercept(self, event: Event) -> Event | None:
        settings = self.settings
        if settings.preserve_existing and settings.header_name in event.headers:
            return event
        event.headers[settings.header_name] = settings.prefix + str(uuid.uuid4())
        return event


@attrs.frozen(kw_only=True)
class RemoveHeaderInterceptorSettings:
    with_name: str = setting(default="", help="one header name to remove")
    from_list: str = setting(default="", help="header names to remove, split by fromListSeparator")
    from_list_separator: re.Pattern[str] = setting(
        default=re.compile(r"\s*,\s*"), aliases=("listSeparator",),
        converter=regex_setting_converter, help="regex that splits fromList")
    matching: re.Pattern[str] | None = setting(
        default=None, converter=regex_setting_converter,
        help="remove every header whose whole name matches this regex")


class RemoveHeaderInterceptor(Interceptor):
    """``remove_header``: removes headers by name, by list and by regex; the modes combine."""

    Settings: ClassVar[type] = RemoveHeaderInterceptorSettings
    settings: RemoveHeaderInterceptorSettings

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        listed = self.settings.from_list_separator.split(self.settings.from_list) \
            if self.settings.from_list else []
        self.names = frozenset(n for n in (self.settings.with_name, *listed) if n)

    def intercept(self, event: Event) -> Event | None:
        headers = event.headers
        for key in self.names.intersection(headers):
            del headers[key]
        matching = self.settings.matching
        if matching is not None:
            for key in [k for k in headers if matching.fullmatch(k)]:
                del headers[key]
        return event
