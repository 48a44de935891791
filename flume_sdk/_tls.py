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

Flume's global settings (:class:`TlsDefaults`) fill in what a component leaves unset: the
``javax.net.ssl.*`` and ``flume.ssl.*`` system properties (``flume-ng agent -D...``), then the
``FLUME_SSL_*`` environment variables. A server takes the global keystore, a client the global
truststore, both the global protocol and cipher lists. A problem with a global value names
where it came from.
"""

from __future__ import annotations

import contextlib
import functools
import os
import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from ssl import SSLContext
from typing import Any, ClassVar

import attrs

from flume_sdk._errors import ConfigurationError, Problem
from flume_sdk._settings import setting

__all__ = ["TlsClientSettings", "TlsDefaults", "TlsServerSettings", "using_tls_defaults"]


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
        raise _KeyProblem("exclude-protocols" if exclude else "include-protocols", msg)
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


# -- Flume's global TLS settings --------------------------------------------------------------

# (component key, system property, environment variable), in Flume's SSLUtil order.
_GLOBAL_KEYS = (
    ("keystore", "javax.net.ssl.keyStore", "FLUME_SSL_KEYSTORE_PATH"),
    ("keystore-password", "javax.net.ssl.keyStorePassword", "FLUME_SSL_KEYSTORE_PASSWORD"),
    ("keystore-type", "javax.net.ssl.keyStoreType", "FLUME_SSL_KEYSTORE_TYPE"),
    ("truststore", "javax.net.ssl.trustStore", "FLUME_SSL_TRUSTSTORE_PATH"),
    ("truststore-password", "javax.net.ssl.trustStorePassword", "FLUME_SSL_TRUSTSTORE_PASSWORD"),
    ("truststore-type", "javax.net.ssl.trustStoreType", "FLUME_SSL_TRUSTSTORE_TYPE"),
    ("include-protocols", "flume.ssl.include.protocols", "FLUME_SSL_INCLUDE_PROTOCOLS"),
    ("exclude-protocols", "flume.ssl.exclude.protocols", "FLUME_SSL_EXCLUDE_PROTOCOLS"),
    ("include-cipher-suites", "flume.ssl.include.cipherSuites", "FLUME_SSL_INCLUDE_CIPHERSUITES"),
    ("exclude-cipher-suites", "flume.ssl.exclude.cipherSuites", "FLUME_SSL_EXCLUDE_CIPHERSUITES"),
)


@attrs.frozen
class TlsDefaults:
    """Flume's global TLS settings: what a component's own TLS keys override.

    Each value comes from a system property (``-Djavax.net.ssl.keyStore=...``) or else an
    environment variable (``FLUME_SSL_KEYSTORE_PATH``); build one with :meth:`resolve`.
    Immutable: a settings object keeps the defaults it was built with (``tls_defaults``), so
    a restart or a reload never sees different ones.
    """

    found: tuple[tuple[str, str, str], ...] = ()  # (component key, value, where it came from)

    @classmethod
    def resolve(cls, system_properties: Mapping[str, str] | None = None,
                environ: Mapping[str, str] | None = None) -> TlsDefaults:
        """The global settings from ``-D`` values, then the environment (``os.environ``).

        An empty value counts as unset.
        """
        system = system_properties or {}
        env = os.environ if environ is None else environ
        found = []
        for key, prop, var in _GLOBAL_KEYS:
            if system.get(prop, "").strip():
                found.append((key, system[prop].strip(), f"the system property {prop}"))
            elif env.get(var, "").strip():
                found.append((key, env[var].strip(), f"the environment variable {var}"))
        return cls(tuple(found))

    def get(self, key: str) -> tuple[str, str] | None:
        """``(value, origin)`` of the component key ``key`` (``keystore``), or ``None``."""
        return next(((value, origin) for k, value, origin in self.found if k == key), None)


_AMBIENT: ContextVar[TlsDefaults | None] = ContextVar("flume_tls_defaults", default=None)


@contextlib.contextmanager
def using_tls_defaults(defaults: TlsDefaults) -> Iterator[TlsDefaults]:
    """TLS settings built inside the block (in this thread) take ``defaults``.

    The agent and ``flume-ng validate`` build their pipeline inside one, with the defaults
    resolved from their ``-D`` values; elsewhere settings resolve the environment alone.
    """
    token = _AMBIENT.set(defaults)
    try:
        yield defaults
    finally:
        _AMBIENT.reset(token)


def _ambient_defaults() -> TlsDefaults:
    found = _AMBIENT.get()
    return found if found is not None else TlsDefaults.resolve()


def _from(origins: Mapping[str, str], key: str, message: str) -> str:
    origin = origins.get(key)
    if not origin:
        return message
    return f"{message} (the value comes from {origin}; set {key} on the component to override it)"


# -- the settings bases ----------------------------------------------------------------------


# Not slotted, so that a settings class may combine a TLS base with a slotted base of its own.
@attrs.frozen(kw_only=True, slots=False)
class _TlsSettings:
    """The keys servers and clients share, and the checks and context they build."""

    _server_side: ClassVar[bool] = True
    # The keys Flume's global settings fill in on this side: key -> field name.
    _global_fields: ClassVar[Mapping[str, str]] = {
        "include-protocols": "include_protocols", "exclude-protocols": "exclude_protocols",
        "include-cipher-suites": "include_cipher_suites",
        "exclude-cipher-suites": "exclude_cipher_suites"}

    ssl: bool = setting(default=False, help="use TLS (the other TLS keys apply only when true)")
    include_protocols: tuple[str, ...] = setting(
        "include-protocols", default=(), help="TLS versions allowed: TLSv1.2 TLSv1.3 (the default)")
    exclude_protocols: tuple[str, ...] = setting(
        "exclude-protocols", default=(), help="TLS versions refused (SSLv3 and older always are)")
    include_cipher_suites: tuple[str, ...] = setting(
        "include-cipher-suites", default=(), help="OpenSSL cipher names allowed (TLSv1.2)")
    exclude_cipher_suites: tuple[str, ...] = setting(
        "exclude-cipher-suites", default=(), help="OpenSSL cipher names refused (TLSv1.2)")
    keystore: str = setting(default="", aliases=("certfile", "ssl.certfile"),
                            help="PEM certificate chain, may hold the key (aliases: certfile, "
                                 "ssl.certfile)")
    ssl_keyfile: str = setting("ssl.keyfile", default="", aliases=("keyfile",),
                               help="PEM private key, when not in keystore (alias: keyfile)")
    keystore_password: str = setting("keystore-password", default="",
                                     help="passphrase of the private key")
    keystore_type: str = setting("keystore-type", default="", help="only PEM is read (the default)")
    tls_defaults: TlsDefaults = attrs.field(factory=_ambient_defaults, repr=False)
    """Flume's global TLS settings (by default: the agent's, or the environment's)."""

    def problems(self) -> Iterable[tuple[str, str]]:
        """The TLS keys' problems, after those of the next settings base, if it has any."""
        parent = getattr(super(), "problems", None)
        if callable(parent):
            yield from parent()
        if not self.ssl:
            return
        effective, origins = self._effective()
        found = [(key, _from(origins, key, message))
                 for key, message in effective._key_problems()]
        yield from found
        if not found:  # the names are right: try the files too
            try:
                effective._new_context()
            except _KeyProblem as problem:
                yield problem.key, _from(origins, problem.key, problem.message)

    def _effective(self) -> tuple[Any, dict[str, str]]:
        """A copy with the global settings filled in, and where each filled-in key came from."""
        changes: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for key, name in self._global_fields.items():
            own = getattr(self, name)
            found = None if own else self.tls_defaults.get(key)
            if found is not None:
                value, origins[key] = found
                changes[name] = (tuple(value.replace(",", " ").split()) if isinstance(own, tuple)
                                 else value)
        return (attrs.evolve(self, **changes) if changes else self), origins

    def _key_problems(self) -> _Problems:
        for check in (lambda: _versions(self.include_protocols, self.exclude_protocols),
                      lambda: _cipher_spec(self.include_cipher_suites, self.exclude_cipher_suites)):
            try:
                check()
            except _KeyProblem as problem:
                yield problem.key, problem.message
        if self.keystore:
            yield from _only_pem("keystore-type", self.keystore_type or "PEM", _CONVERT_KEYSTORE)

    def _context_or_none(self, component: str) -> SSLContext | None:
        if not self.ssl:
            return None
        effective, origins = self._effective()
        try:
            context: SSLContext = effective._new_context()
        except _KeyProblem as problem:
            message = _from(origins, problem.key, problem.message)
            raise ConfigurationError([Problem(component, message, problem.key)]) from None
        return context

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

    def _load_keystore(self, context: SSLContext) -> None:
        keyfile = ("ssl.keyfile", self.ssl_keyfile) if self.ssl_keyfile else ("keystore",
                                                                              self.keystore)
        _load_chain(context, ("keystore", self.keystore), keyfile, self.keystore_password)

    def _load(self, context: SSLContext) -> None:
        raise NotImplementedError  # pragma: no cover - each side loads its own files


@attrs.frozen(kw_only=True, slots=False)
class TlsServerSettings(_TlsSettings):
    """Flume's TLS keys of a server (a source), as a base of the component's settings class.

    ``keystore`` is a PEM certificate chain (it may hold the key; otherwise ``ssl.keyfile``
    names the key); Flume's global keystore settings apply when it is not set. ``ssl.cafile``
    and ``ssl.requireClientCert`` are ours: they verify client certificates, which Flume
    cannot do.
    """

    _global_fields: ClassVar[Mapping[str, str]] = {
        **_TlsSettings._global_fields, "keystore": "keystore",
        "keystore-password": "keystore_password", "keystore-type": "keystore_type"}

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
            yield "keystore", ("must name a PEM certificate chain when ssl = true (or set "
                               "-Djavax.net.ssl.keyStore or FLUME_SSL_KEYSTORE_PATH)")
        if self.ssl_require_client_cert and not self.ssl_cafile:
            yield "ssl.requireClientCert", "needs ssl.cafile, the CAs that sign client certificates"

    def _load(self, context: SSLContext) -> None:
        self._load_keystore(context)
        if self.ssl_cafile:
            _load_cas(context, "ssl.cafile", self.ssl_cafile)
            context.verify_mode = ssl.CERT_OPTIONAL
        if self.ssl_require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED


@attrs.frozen(kw_only=True, slots=False)
class TlsClientSettings(_TlsSettings):
    """Flume's TLS keys of a client (a sink), as a base of the component's settings class.

    The server is verified against ``truststore`` (PEM CAs; Flume's global truststore
    settings apply when it is not set), or the system's CAs when there is none, and its
    certificate must name the host connected to; ``trust-all-certs`` skips both.
    ``keystore`` (with ``ssl.keyfile``, ``keystore-password``) is the client certificate
    presented to servers that ask for one; it is ours (Flume's sinks have none) and is never
    taken from the global keystore settings, which are the servers'.
    """

    _server_side: ClassVar[bool] = False
    _global_fields: ClassVar[Mapping[str, str]] = {
        **_TlsSettings._global_fields, "truststore": "truststore",
        "truststore-password": "truststore_password", "truststore-type": "truststore_type"}

    trust_all_certs: bool = setting("trust-all-certs", default=False,
                                    help="accept any server certificate and host name")
    truststore: str = setting(default="", help="PEM file of trusted CAs (default: system CAs)")
    truststore_password: str = setting("truststore-password", default="",
                                       help="accepted with a warning: a PEM file has none")
    truststore_type: str = setting("truststore-type", default="",
                                   help="only PEM is read (the default)")

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
        if not self.ssl:
            return
        effective, origins = self._effective()
        if effective.truststore_password:
            yield "truststore-password", _from(
                origins, "truststore-password", "is not used: a PEM truststore has no password")
        if self.trust_all_certs and self.truststore:
            yield "truststore", "is not used: trust-all-certs = true accepts any certificate"

    def _key_problems(self) -> _Problems:
        yield from super()._key_problems()
        if self.truststore:
            yield from _only_pem("truststore-type", self.truststore_type or "PEM", _EXPORT_CA)
        if self.ssl_keyfile and not self.keystore:
            yield "ssl.keyfile", "needs keystore, the client certificate chain it is the key of"

    def _load(self, context: SSLContext) -> None:
        if self.trust_all_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif self.truststore:
            _load_cas(context, "truststore", self.truststore)
        else:
            context.load_default_certs()
        if self.keystore:
            self._load_keystore(context)
