"""The settings of the three syslog sources, declared once with Flume's key names."""

from __future__ import annotations

import attrs

from flume_sdk import at_least, in_range, namespace, setting
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
    charset: dict[str, str] = namespace("charset.")


@attrs.frozen(kw_only=True)
class _Tcp(_Common):
    event_size: int = setting("eventSize", default=2500, validator=at_least(10))
    read_buffer_bytes: int = setting("readBufferBytes", default=262144, validator=at_least(1024))
    num_processors: int = setting("numProcessors", default=0, help="accepted; one I/O thread")
    ssl: bool = setting(default=False, help="serve TLS")
    ssl_certfile: str = setting("ssl.certfile", default="", aliases=("keystore",))
    ssl_keyfile: str = setting("ssl.keyfile", default="")
    ssl_cafile: str = setting("ssl.cafile", default="", help="CA bundle for client certificates")
    ssl_require_client_cert: bool = setting("ssl.requireClientCert", default=False)


@attrs.frozen(kw_only=True)
class SyslogTcpSettings(_Tcp):
    """``syslogtcp``: one port."""

    port: int = setting(required=True, validator=in_range(0, 65535))


@attrs.frozen(kw_only=True)
class MultiportSyslogTcpSettings(_Tcp):
    """``multiport_syslogtcp``: several ports, each with an optional charset."""

    ports: tuple[int, ...] = setting(required=True, converter=_ports)
    port_header: str = setting("portHeader", default="", help="header for the local port")


@attrs.frozen(kw_only=True)
class SyslogUdpSettings(_Common):
    """``syslogudp``: one datagram is one message."""

    port: int = setting(required=True, validator=in_range(0, 65535))
