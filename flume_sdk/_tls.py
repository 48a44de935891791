"""TLS from Flume's SSL keys, in Python's terms.

A TLS server's settings class (the avro source, ``syslogtcp``) extends
:class:`TlsServerSettings`; a TLS client's (the avro sink) extends :class:`TlsClientSettings`.
Both declare Flume's keys once, check them in ``problems()`` when ``ssl = true`` (the keys
have no effect otherwise) and build the ``ssl.SSLContext``.

Where Python's ``ssl`` differs from Java's:

* Keystores and truststores are PEM files. Convert a JKS store once with ``keytool
  -importkeystore -srckeystore ks.jks -destkeystore ks.p12 -deststoretype PKCS12`` then
  ``openssl pkcs12 -in ks.p12 -out ks.pem``; export a trusted CA with ``keytool -exportcert -rfc``.
* Only TLSv1.2 and TLSv1.3 are offered. Excluding an older protocol is accepted; including one
  is an error.
* Cipher suites use OpenSSL's names (``ECDHE-RSA-AES128-GCM-SHA256``, not Java's
  ``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``) and apply to TLSv1.2: Python cannot restrict the
  TLSv1.3 suites. A name OpenSSL does not know is an error, in either list.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from ssl import SSLContext
from typing import ClassVar

import attrs

from flume_sdk._errors import ConfigurationError, Problem
from flume_sdk._settings import setting

__all__ = ["TlsClientSettings", "TlsServerSettings"]


_OFFERED = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
_NEVER = frozenset({"SSLv2", "SSLv2Hello", "SSLv3", "TLSv1", "TLSv1.1"})
_CONVERT_KEYSTORE = ("convert it with keytool -importkeystore -deststoretype PKCS12, then "
                     "openssl pkcs12 -in ks.p12 -out ks.pem")
_EXPORT_CA = "export the CA with keytool -exportcert -rfc"
_Problems = Iterator[tuple[str, str]]


class _KeyProblem(ValueError):
    """A problem with one key, raised while building a context."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


# -- protocols and cipher suites ---------------------------------------------------------------


def _versions(
    include: Sequence[str], exclude: Sequence[str]
) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    """The lowest and highest TLS version ``include-protocols`` minus ``exclude-protocols`` leave."""
    unknown = [p for p in (*include, *exclude) if p not in _OFFERED and p not in _NEVER]
    if unknown:
        msg = f"unknown TLS protocol(s) {unknown}; use names from {sorted(_OFFERED)}"
        raise _KeyProblem("include-protocols" if set(unknown) & set(include) else
                          "exclude-protocols", msg)
    insecure = [p for p in include if p in _NEVER]
    if insecure:
        msg = f"{insecure} are never offered (the minimum is TLSv1.2); remove them"
        raise _KeyProblem("include-protocols", msg)
    left = [v for name, v in _OFFERED.items()
            if (not include or name in include) and name not in exclude]
    if not left:
        msg = (f"no TLS protocol left (include {list(include)}, exclude {list(exclude)}); "
               f"allow at least one of {sorted(_OFFERED)}")
        raise _KeyProblem("include-protocols", msg)
    return min(left), max(left)


def _selects_a_cipher(spec: str) -> bool:
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).set_ciphers(spec)
    except ssl.SSLError:
        return False
    return True


@functools.cache
def _tls13_suites() -> frozenset[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    return frozenset(c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.3")


def _check_cipher_names(key: str, names: Sequence[str]) -> None:
    """Every name must select at least one cipher, so a typo never goes unnoticed."""
    tls13 = [n for n in names if n in _tls13_suites()]
    if tls13:
        msg = (f"{tls13} are TLSv1.3 suites, which Python always offers and cannot choose; "
               "remove them (exclude-protocols = TLSv1.3 to turn TLSv1.3 off)")
        raise _KeyProblem(key, msg)
    unknown = [n for n in names if not _selects_a_cipher(n)]
    if unknown:
        msg = (f"OpenSSL knows no cipher named {unknown}; use OpenSSL names such as "
               "ECDHE-RSA-AES128-GCM-SHA256 (Java's TLS_... names differ: openssl ciphers "
               "-stdname lists both)")
        raise _KeyProblem(key, msg)


def _cipher_spec(include: Sequence[str], exclude: Sequence[str]) -> str | None:
    """An OpenSSL cipher string for the two cipher-suite keys (``None``: OpenSSL's default)."""
    if not include and not exclude:
        return None
    _check_cipher_names("include-cipher-suites", include)
    _check_cipher_names("exclude-cipher-suites", exclude)
    spec = ":".join([*(include or ["DEFAULT"]), *(f"!{c}" for c in exclude)])
    if not _selects_a_cipher(spec):
        msg = f"no cipher suite left: include-cipher-suites minus exclude-cipher-suites ({spec!r})"
        raise _KeyProblem("exclude-cipher-suites", msg)
    return spec


# -- PEM files -------------------------------------------------------------------------------


def _read_pem(key: str, path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise _KeyProblem(key, f"cannot read {path!r}: {exc.strerror or exc}") from None


def _load_chain(context: SSLContext, chain: tuple[str, str], keyfile: tuple[str, str],
                password: str) -> None:
    """Load a PEM certificate chain and its key; ``chain`` and ``keyfile`` are (key, path)."""
    if "-----BEGIN CERTIFICATE-----" not in _read_pem(*chain):
        raise _KeyProblem(chain[0], f"no PEM certificate in {chain[1]!r}; {_CONVERT_KEYSTORE}")
    key_text = _read_pem(*keyfile)
    if "PRIVATE KEY-----" not in key_text:
        raise _KeyProblem(keyfile[0], f"no PEM private key in {keyfile[1]!r}; name the key "
                                      "file with ssl.keyfile")
    encrypted = "ENCRYPTED" in key_text
    if encrypted and not password:
        raise _KeyProblem("keystore-password", f"the private key in {keyfile[1]!r} is encrypted; "
                                               "set keystore-password")
    try:
        # A password is always passed: without one, OpenSSL would prompt on the terminal.
        context.load_cert_chain(chain[1], keyfile[1], password)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise _KeyProblem(keyfile[0], f"the key in {keyfile[1]!r} does not belong to the "
                                          f"certificate in {chain[1]!r}") from None
        if encrypted:
            raise _KeyProblem("keystore-password", "does not decrypt the private key in "
                                                   f"{keyfile[1]!r}") from None
        raise _KeyProblem(chain[0], f"OpenSSL cannot use {chain[1]!r}: {exc}") from None


def _load_cas(context: SSLContext, key: str, path: str) -> None:
    if "-----BEGIN CERTIFICATE-----" not in _read_pem(key, path):
        raise _KeyProblem(key, f"no PEM certificate in {path!r}; {_EXPORT_CA}")
    try:
        context.load_verify_locations(cafile=str(Path(path).expanduser()))
    except ssl.SSLError as exc:
        raise _KeyProblem(key, f"OpenSSL cannot use {path!r}: {exc}") from None


def _only_pem(key: str, value: str, convert: str) -> _Problems:
    if value.upper() != "PEM":
        yield key, f"only PEM is read (got {value!r}); {convert}"


# -- the settings bases ----------------------------------------------------------------------


# Not slotted, so that a settings class may combine a TLS base with a slotted base of its own.
@attrs.frozen(kw_only=True, slots=False)
class _TlsSettings:
    """The keys servers and clients share, and the checks and context they build."""

    _server_side: ClassVar[bool] = True

    ssl: bool = setting(default=False, help="use TLS (the other TLS keys apply only when true)")
    include_protocols: tuple[str, ...] = setting(
        "include-protocols", default=(), help="TLS versions allowed: TLSv1.2 TLSv1.3 (the default)")
    exclude_protocols: tuple[str, ...] = setting(
        "exclude-protocols", default=("SSLv3",), help="TLS versions refused")
    include_cipher_suites: tuple[str, ...] = setting(
        "include-cipher-suites", default=(), help="OpenSSL cipher names allowed (TLSv1.2)")
    exclude_cipher_suites: tuple[str, ...] = setting(
        "exclude-cipher-suites", default=(), help="OpenSSL cipher names refused (TLSv1.2)")

    def problems(self) -> Iterable[tuple[str, str]]:
        """The TLS keys' problems, after those of the next settings base, if it has any."""
        parent = getattr(super(), "problems", None)
        if callable(parent):
            yield from parent()
        if not self.ssl:
            return
        found = list(self._key_problems())
        yield from found
        if not found:  # the names are right: try the files too
            try:
                self._new_context()
            except _KeyProblem as problem:
                yield problem.key, problem.message

    def _key_problems(self) -> _Problems:
        for check in (lambda: _versions(self.include_protocols, self.exclude_protocols),
                      lambda: _cipher_spec(self.include_cipher_suites, self.exclude_cipher_suites)):
            try:
                check()
            except _KeyProblem as problem:
                yield problem.key, problem.message

    def _context_or_none(self, component: str) -> SSLContext | None:
        if not self.ssl:
            return None
        try:
            return self._new_context()
        except _KeyProblem as problem:
            raise ConfigurationError([Problem(component, problem.message, problem.key)]) from None

    def _new_context(self) -> SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if self._server_side
                                 else ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version, context.maximum_version = _versions(
            self.include_protocols, self.exclude_protocols)
        spec = _cipher_spec(self.include_cipher_suites, self.exclude_cipher_suites)
        if spec is not None:
            context.set_ciphers(spec)
        self._load(context)
        return context

    def _load(self, context: SSLContext) -> None:
        raise NotImplementedError  # pragma: no cover - each side loads its own files


@attrs.frozen(kw_only=True, slots=False)
class TlsServerSettings(_TlsSettings):
    """Flume's TLS keys of a server (a source), as a base of the component's settings class.

    ``keystore`` is a PEM certificate chain (it may hold the key; otherwise ``ssl.keyfile``
    names the key). ``ssl.cafile`` and ``ssl.requireClientCert`` are ours: they verify client
    certificates, which Flume cannot do.
    """

    keystore: str = setting(default="", aliases=("certfile", "ssl.certfile"),
                            help="PEM certificate chain, may hold the key (aliases: certfile, ssl.certfile)")
    ssl_keyfile: str = setting("ssl.keyfile", default="", aliases=("keyfile",),
                               help="PEM private key, when not in keystore (alias: keyfile)")
    keystore_password: str = setting("keystore-password", default="",
                                     help="passphrase of the private key")
    keystore_type: str = setting("keystore-type", default="PEM", help="only PEM is read")
    ssl_cafile: str = setting("ssl.cafile", default="",
                              help="PEM CAs that sign client certificates (verified when sent)")
    ssl_require_client_cert: bool = setting(
        "ssl.requireClientCert", default=False,
        help="refuse clients without a certificate signed by ssl.cafile")

    def server_ssl_context(self, component: str) -> SSLContext | None:
        """The server context (``None`` when ``ssl`` is false).

        Args:
            component: the component's config path, for messages (``a1.sources.r1``).

        Raises:
            ConfigurationError: a key names an unusable file or value.
        """
        return self._context_or_none(component)

    def _key_problems(self) -> _Problems:
        yield from super()._key_problems()
        if not self.keystore:
            yield "keystore", "must name a PEM certificate chain when ssl = true"
        yield from _only_pem("keystore-type", self.keystore_type, _CONVERT_KEYSTORE)
        if self.ssl_require_client_cert and not self.ssl_cafile:
            yield "ssl.requireClientCert", "needs ssl.cafile, the CAs that sign client certificates"

    def _load(self, context: SSLContext) -> None:
        keyfile = ("ssl.keyfile", self.ssl_keyfile) if self.ssl_keyfile else ("keystore",
                                                                              self.keystore)
        _load_chain(context, ("keystore", self.keystore), keyfile, self.keystore_password)
        if self.ssl_cafile:
            _load_cas(context, "ssl.cafile", self.ssl_cafile)
            context.verify_mode = ssl.CERT_OPTIONAL
        if self.ssl_require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED


@attrs.frozen(kw_only=True, slots=False)
class TlsClientSettings(_TlsSettings):
    """Flume's TLS keys of a client (a sink), as a base of the component's settings class.

    The server is verified against ``truststore`` (PEM CAs), or the system's CAs when it is
    empty, and its certificate must name the host connected to; ``trust-all-certs`` skips both.
    """

    _server_side: ClassVar[bool] = False

    trust_all_certs: bool = setting("trust-all-certs", default=False,
                                    help="accept any server certificate and host name")
    truststore: str = setting(default="", help="PEM file of trusted CAs (default: system CAs)")
    truststore_password: str = setting("truststore-password", default="",
                                       help="accepted with a warning: a PEM file has none")
    truststore_type: str = setting("truststore-type", default="PEM", help="only PEM is read")

    def client_ssl_context(self, component: str) -> SSLContext | None:
        """The client context (``None`` when ``ssl`` is false).

        Args:
            component: the component's config path, for messages (``a1.sinks.k1``).

        Raises:
            ConfigurationError: a key names an unusable file or value.
        """
        return self._context_or_none(component)

    def warnings(self) -> Iterable[tuple[str, str]]:
        """Keys that are accepted but do nothing, after those of the next settings base."""
        parent = getattr(super(), "warnings", None)
        if callable(parent):
            yield from parent()
        if self.ssl and self.truststore_password:
            yield "truststore-password", "is not used: a PEM truststore has no password"
        if self.ssl and self.trust_all_certs and self.truststore:
            yield "truststore", "is not used: trust-all-certs = true accepts any certificate"

    def _key_problems(self) -> _Problems:
        yield from super()._key_problems()
        if self.truststore:
            yield from _only_pem("truststore-type", self.truststore_type, _EXPORT_CA)

    def _load(self, context: SSLContext) -> None:
        if self.trust_all_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif self.truststore:
            _load_cas(context, "truststore", self.truststore)
        else:
            context.load_default_certs()
