"""The settings of the three syslog sources, declared once with Flume's key names.

Every Flume key of the three types (flume-features.md §3 and §9) is either implemented,
rejected with a message saying why (``format.*``), or, where it makes no sense in Python
(``numProcessors``), accepted with one logged warning by the source.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

import attrs

from flume_sdk import TlsServerSettings, at_least, bind_problems, in_range, namespace, setting
from flume_source_syslog._parser import parse_keep_fields

__all__ = ["MultiportSyslogTcpSettings", "SyslogTcpSettings", "SyslogUdpSettings"]


def _ports(value: str) -> tuple[int, ...]:
    try:
        ports = tuple(int(word) for word in value.split())
    except ValueError:
        msg = f"ports must be space-separated port numbers (got {value!r})"
        raise ValueError(msg) from None
    if not ports or any(not 0 <= p <= 65535 for p in ports):
        msg = f"ports must list at least one port in 0..65535 (got {value!r})"
        raise ValueError(msg)
    return ports


@attrs.frozen(kw_only=True)
class _Common:
    host: str = setting(required=True, help="address to listen on")
    keep_fields: frozenset[str] = setting(
        "keepFields", default=frozenset(), converter=parse_keep_fields,
        help="none, all, or a subset of: priority version timestamp hostname",
    )
    client_ip_header: str = setting("clientIPHeader", default="", help="header for the peer IP")
    client_hostname_header: str = setting(
        "clientHostnameHeader", default="", help="header for the peer host name (reverse DNS)"
    )
    batch_size: int = setting("batchSize", default=100, validator=at_least(1))
    charset: dict[str, str] = namespace(
        "charset.", help="charset.default, charset.port.<port>: the senders' encoding")
    format: dict[str, str] = namespace(
        "format.", help="Flume's custom timestamp format keys: rejected (not supported)")

    def ports_served(self) -> tuple[int, ...]:
        raise NotImplementedError

    def problems(self) -> Iterable[tuple[str, str]]:
        """Checks across keys, reported with the other configuration errors."""
        for key in self.format:
            yield f"format.{key}", (
                "Flume's custom timestamp formats (format.regex, format.search, "
                "format.replace, format.dateFormat) are not supported: only RFC 3164 and "
                "RFC 5424 stamps are parsed; remove the key, or extract a custom stamp with "
                "an interceptor (regex_extractor) into the timestamp header")
        yield from self._charset_problems()

    def _charset_problems(self) -> Iterator[tuple[str, str]]:
        served = {f"port.{p}" for p in self.ports_served()}
        for key, name in self.charset.items():
            if key != "default" and key not in served:
                yield f"charset.{key}", (
                    f"expected charset.default or charset.port.<port> for a configured port "
                    f"({', '.join(sorted(served))})")
                continue
            try:
                codecs.lookup(name)
            except LookupError:
                yield f"charset.{key}", f"unknown charset {name!r} (a Python codec name)"


@attrs.frozen(kw_only=True)
class _Tcp(TlsServerSettings, _Common):
    """The TCP sources' keys; TLS (``TlsServerSettings``) checks its keys after ``_Common``'s."""

    event_size: int = setting("eventSize", default=2500, validator=at_least(10))
    read_buffer_bytes: int = setting(
        "readBufferBytes", default=262144, validator=at_least(1024),
        aliases=("readBufferSize",),
        help="bytes per read, one buffer per source shared by its connections (Flume's guide "
        "says readBufferSize)")
    max_connections: int = setting(
        "maxConnections", default=2000, validator=at_least(1),
        help="connections served at once; more are closed at once (RefusedConnectionCount)")
    idle_timeout: float = setting(
        "idleTimeout", default=300.0, validator=at_least(0.01),
        help="seconds a connection may go without sending a complete message (idle or "
        "dripping bytes) before it is closed")
    num_processors: int | None = setting(
        "numProcessors", default=None,
        help="Flume's MINA thread count: accepted with a warning; one asyncio thread serves all")

    def warnings(self) -> Iterator[tuple[str, str]]:
        if self.num_processors is not None:
            yield "numProcessors", (
                f"= {self.num_processors} has no effect: one asyncio thread serves every "
                "connection of this source (Python threads would not parse in parallel)")


@attrs.frozen(kw_only=True)
class SyslogTcpSettings(_Tcp):
    """``syslogtcp``: one port."""

    port: int = setting(required=True, validator=in_range(0, 65535))

    def ports_served(self) -> tuple[int, ...]:
        return (self.port,)

    def preflight(self) -> Iterator[tuple[str, str]]:
        yield from bind_problems("port", self.host, self.port)


@attrs.frozen(kw_only=True)
class MultiportSyslogTcpSettings(_Tcp):
    """``multiport_syslogtcp``: several ports, each with an optional charset."""

    ports: tuple[int, ...] = setting(required=True, converter=_ports)
    port_header: str = setting("portHeader", default="", help="header for the local port")

    def ports_served(self) -> tuple[int, ...]:
        return self.ports

    def preflight(self) -> Iterator[tuple[str, str]]:
        for port in self.ports:
            yield from bind_problems("ports", self.host, port)


@attrs.frozen(kw_only=True)
class SyslogUdpSettings(_Common):
    """``syslogudp``: one datagram is one message."""

    port: int = setting(required=True, validator=in_range(0, 65535))

    def ports_served(self) -> tuple[int, ...]:
        return (self.port,)

    def preflight(self) -> Iterator[tuple[str, str]]:
        yield from bind_problems("port", self.host, self.port, udp=True)
