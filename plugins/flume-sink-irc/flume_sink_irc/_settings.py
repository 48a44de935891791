"""The IRC sink's keys: Flume's (``hostname`` … ``splitchars``) plus batching and pacing."""

from __future__ import annotations

import re

import attrs

from flume_sdk import at_least, in_range, setting

__all__ = ["IrcSinkSettings"]

_CHANNEL_PREFIXES = "#&+!"


@attrs.frozen(kw_only=True)
class IrcSinkSettings:
    """Flume's ``irc`` sink keys; ``batchSize``, ``window`` and the timeouts are flume-sdk's."""

    hostname: str = setting(required=True, help="IRC server host")
    port: int = setting(default=6667, validator=in_range(1, 65535), help="IRC server port")
    nick: str = setting(required=True, help="nickname the sink registers with")
    user: str = setting(default="", help="user name for USER (default: the nick)")
    password: str = setting(default="", help="server password, sent with PASS")
    chan: str = setting(required=True,
                        help="channel to relay to; '#' is prepended unless it starts with # & + !")
    name: str = setting(default="", help="real name for USER (default: the nick)")
    splitlines: bool = setting(default=False,
                               help="split each body by splitchars into several messages")
    splitchars: str = setting(default="\n",
                              help="regular expression the body is split by with splitlines")
    batch_size: int = setting("batchSize", default=100, validator=at_least(1),
                              help="events per channel transaction (Flume takes one at a time)")
    window: int = setting(default=4, validator=in_range(1, 1000),
                          help="messages sent before waiting for the server's PONG")
    connect_timeout: int = setting("connectTimeout", default=10_000, validator=at_least(1),
                                   help="ms to connect, register and join")
    request_timeout: int = setting("requestTimeout", default=60_000, validator=at_least(1),
                                   help="ms to wait for the server to process one window")

    @property
    def channel_name(self) -> str:
        """``chan`` as sent to the server: Flume prepends ``#``."""
        chan = self.chan.strip()
        return chan if chan[:1] in _CHANNEL_PREFIXES else "#" + chan

    @property
    def split_pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.splitchars) if self.splitlines else None

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for key, value in (("nick", self.nick), ("user", self.user), ("chan", self.chan)):
            if not value.strip() and key != "user":
                found.append((key, "must not be empty"))
            elif any(c in value for c in " ,\r\n\0\a"):
                found.append((key, f"must not contain spaces, commas or control characters "
                                   f"(got {value!r})"))
        if self.splitlines:
            try:
                re.compile(self.splitchars)
            except re.error as exc:
                found.append(("splitchars", f"is not a valid regular expression: {exc} "
                                            f"(got {self.splitchars!r})"))
            if self.splitchars == "":
                found.append(("splitchars", "must not be empty with splitlines = true"))
        return found

    def warnings(self) -> list[tuple[str, str]]:
        if self.splitchars != "\n" and not self.splitlines:
            return [("splitchars", "has no effect without splitlines = true "
                                   "(line breaks always end a message)")]
        return []
