"""TLS for the TCP syslog sources: Flume's SSL keys, in Python's terms.

Flume reads JKS/PKCS12 keystores; Python's ``ssl`` reads PEM, so ``keystore`` (alias of
``ssl.certfile``) must name a PEM certificate chain and ``keystore-type`` must be ``PEM``.
Convert once: ``keytool -importkeystore -srckeystore ks.jks -destkeystore ks.p12
-deststoretype PKCS12`` then ``openssl pkcs12 -in ks.p12 -out ks.pem``.

* ``include-protocols`` / ``exclude-protocols``: ``TLSv1.2`` and ``TLSv1.3`` are offered;
  SSLv3, TLSv1 and TLSv1.1 never are (excluding them is accepted, including them is an error).
* ``include-cipher-suites`` / ``exclude-cipher-suites``: OpenSSL cipher names (Java's names
  differ: ``ECDHE-RSA-AES128-GCM-SHA256``, not ``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``).
  They apply to TLS 1.2; Python cannot restrict TLS 1.3's suites.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence

__all__ = ["cipher_spec", "server_context", "tls_versions"]

_OFFERED = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
_NEVER = frozenset({"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"})


def tls_versions(
    include: Sequence[str], exclude: Sequence[str]
) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    """The lowest and highest TLS version left by ``include-protocols``/``exclude-protocols``.

    Raises:
        ValueError: an unknown protocol name, an insecure one included, or nothing left.
    """
    unknown = [p for p in (*include, *exclude) if p not in _OFFERED and p not in _NEVER]
    if unknown:
        msg = f"unknown TLS protocol(s) {unknown}; use names from {sorted(_OFFERED)}"
        raise ValueError(msg)
    insecure = [p for p in include if p in _NEVER]
    if insecure:
        msg = f"{insecure} are never offered (the minimum is TLSv1.2); remove them"
        raise ValueError(msg)
    left = [v for name, v in _OFFERED.items()
            if (not include or name in include) and name not in exclude]
    if not left:
        msg = (f"no TLS protocol left (include {list(include)}, exclude {list(exclude)}); "
               f"allow at least one of {sorted(_OFFERED)}")
        raise ValueError(msg)
    return min(left), max(left)


def cipher_spec(include: Sequence[str], exclude: Sequence[str]) -> str | None:
    """An OpenSSL cipher string for the two cipher-suite keys (``None``: OpenSSL's default).

    Raises:
        ValueError: OpenSSL knows none of the included suites, naming them.
    """
    if not include and not exclude:
        return None
    spec = ":".join([*(include or ["DEFAULT"]), *(f"!{c}" for c in exclude)])
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).set_ciphers(spec)
    except ssl.SSLError:
        msg = (f"OpenSSL accepts no cipher from {spec!r}; use OpenSSL names such as "
               "ECDHE-RSA-AES128-GCM-SHA256 (Java's TLS_... names differ)")
        raise ValueError(msg) from None
    return spec


def server_context(
    *,
    certfile: str,
    keyfile: str = "",
    password: str = "",
    cafile: str = "",
    require_client_cert: bool = False,
    protocols: tuple[Sequence[str], Sequence[str]] = ((), ("SSLv3",)),
    ciphers: tuple[Sequence[str], Sequence[str]] = ((), ()),
) -> ssl.SSLContext:
    """A server context from PEM files and Flume's protocol and cipher keys.

    Args:
        certfile: PEM certificate chain (may hold the key too).
        keyfile: PEM private key, when not in ``certfile``.
        password: the private key's passphrase (Flume's ``keystore-password``).
        cafile: CAs that sign client certificates.
        require_client_cert: refuse clients without a certificate signed by ``cafile``.
        protocols: ``include-protocols`` and ``exclude-protocols``.
        ciphers: ``include-cipher-suites`` and ``exclude-cipher-suites``.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version, context.maximum_version = tls_versions(*protocols)
    spec = cipher_spec(*ciphers)
    if spec is not None:
        context.set_ciphers(spec)
    context.load_cert_chain(certfile, keyfile or None, password or None)
    if cafile:
        context.load_verify_locations(cafile)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
    return context
