"""TLS contexts for the Avro source and sink, from PEM files.

Java Flume reads JKS/PKCS12 keystores; Python's ``ssl`` reads PEM. Convert a keystore
once with ``keytool -importkeystore -srckeystore ks.jks -destkeystore ks.p12
-deststoretype PKCS12`` and ``openssl pkcs12 -in ks.p12 -out ks.pem -nodes``.
With TLS and deflate both on, the layering is Flume 1.9's: TLS outside, zlib inside.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence

__all__ = ["client_context", "server_context"]

_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
_MODERN = ("TLSv1.2", "TLSv1.3")  # TLSv1 and TLSv1.1 only when include-protocols names them


def _limit_versions(
    ctx: ssl.SSLContext, include: Sequence[str], exclude: Sequence[str]
) -> None:
    """Map Flume's include/exclude-protocols onto a minimum and maximum TLS version."""
    allowed = [v for v in (include or _MODERN) if v in _VERSIONS and v not in exclude]
    if not allowed:
        msg = (
            f"no TLS protocol left: include-protocols {list(include)} minus exclude-protocols "
            f"{list(exclude)}; allow at least one of {sorted(_VERSIONS)}"
        )
        raise ValueError(msg)
    versions = sorted(_VERSIONS[v] for v in allowed)
    ctx.minimum_version, ctx.maximum_version = versions[0], versions[-1]


def _set_ciphers(ctx: ssl.SSLContext, include: Sequence[str]) -> None:
    if include:
        ctx.set_ciphers(":".join(include))


def server_context(
    certfile: str,
    keyfile: str | None = None,
    password: str | None = None,
    *,
    include_protocols: Sequence[str] = (),
    exclude_protocols: Sequence[str] = ("SSLv3",),
    include_ciphers: Sequence[str] = (),
) -> ssl.SSLContext:
    """A server context presenting the PEM certificate chain in ``certfile``.

    Args:
        certfile: PEM certificate chain; may also hold the private key.
        keyfile: PEM private key, when not inside ``certfile``.
        password: the key's passphrase.
        include_protocols: Flume's ``include-protocols`` (``TLSv1.2 TLSv1.3``).
        exclude_protocols: Flume's ``exclude-protocols``.
        include_ciphers: OpenSSL cipher names (Java's names differ).
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile or None, password or None)
    _limit_versions(ctx, include_protocols, exclude_protocols)
    _set_ciphers(ctx, include_ciphers)
    return ctx


def client_context(
    *,
    trust_all: bool = False,
    truststore: str | None = None,
    include_protocols: Sequence[str] = (),
    exclude_protocols: Sequence[str] = ("SSLv3",),
    include_ciphers: Sequence[str] = (),
) -> ssl.SSLContext:
    """A client context verifying the server against ``truststore`` (PEM CAs) or the system CAs.

    ``trust_all`` accepts any certificate and host name, like Flume's ``trust-all-certs``.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if trust_all:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif truststore:
        ctx.load_verify_locations(cafile=truststore)
    else:
        ctx.load_default_certs()
    _limit_versions(ctx, include_protocols, exclude_protocols)
    _set_ciphers(ctx, include_ciphers)
    return ctx
