"""TLS from Flume's SSL keys: TlsServerSettings and TlsClientSettings, checked at config time and
proved by real handshakes on 127.0.0.1 (self-signed certificates from flume_testkit.tls)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from flume_testkit.tls import self_signed_certificate

from flume_sdk import (
    ConfigurationError,
    TlsClientSettings,
    TlsDefaults,
    TlsServerSettings,
    parse_settings,
    setting,
    settings_warnings,
)
from flume_sdk._agent import Agent
from flume_sdk._tls import using_tls_defaults
from flume_sdk.cli import main as cli_main


@pytest.fixture(autouse=True)
def _no_global_tls_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without FLUME_SSL_* variables, whatever the shell running it has."""
    for name in [n for n in os.environ if n.startswith("FLUME_SSL_")]:
        monkeypatch.delenv(name)

# -- settings classes built on the bases, the way plugins build theirs ------------------------


@attrs.frozen(kw_only=True)
class Server(TlsServerSettings):
    port: int = setting(default=0)

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from super().problems()
        if self.port == 1:
            yield "port", "port 1 is not served"


@attrs.frozen(kw_only=True)
class Client(TlsClientSettings):
    hostname: str = setting(default="127.0.0.1")

    def problems(self) -> list[tuple[str, str]]:  # a list, as some plugins return
        found = list(super().problems())
        if not self.hostname:
            found.append(("hostname", "must not be empty"))
        return found


@attrs.frozen(kw_only=True)
class _Own:
    """A slotted settings base of the component's own, with its own checks."""

    name: str = setting(default="x")

    def problems(self) -> Iterable[tuple[str, str]]:
        return [("name", "must not be y")] if self.name == "y" else []


@attrs.frozen(kw_only=True)
class Combined(TlsServerSettings, _Own):
    """TLS first in the bases: its problems() chains to _Own's."""


def server(**props: str) -> Server:
    return parse_settings(Server, props, component="a1.sources.r1")


def client(**props: str) -> Client:
    return parse_settings(Client, props, component="a1.sinks.k1")


def problems_of(cls: type, props: Mapping[str, str]) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_settings(cls, props, component="a1.sources.r1")
    return str(info.value)


@pytest.fixture(scope="module")
def other_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("other"))


@pytest.fixture(scope="module")
def encrypted_key(tls_certificate: tuple[Path, Path],
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tls_certificate key, encrypted with the passphrase ``s3cret``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is missing; install it with: apt-get install -y openssl")
    out = tmp_path_factory.mktemp("enc") / "key.pem"
    subprocess.run([openssl, "pkey", "-in", str(tls_certificate[1]), "-aes256",
                    "-passout", "pass:s3cret", "-out", str(out)],
                   check=True, capture_output=True, timeout=60)
    return out


@pytest.fixture
def pem(tls_certificate: tuple[Path, Path]) -> dict[str, str]:
    """Server keys naming the self-signed certificate and its key."""
    cert, key = tls_certificate
    return {"ssl": "true", "keystore": str(cert), "ssl.keyfile": str(key)}


def _context(settings: Server | Client) -> ssl.SSLContext:
    made = (settings.server_ssl_context("r1") if isinstance(settings, Server)
            else settings.client_ssl_context("k1"))
    assert made is not None
    return made


def _tls12_ciphers(context: ssl.SSLContext) -> set[str]:
    return {c["name"] for c in context.get_ciphers() if c["protocol"] != "TLSv1.3"}


# -- protocols --------------------------------------------------------------------------------


def test_tls12_and_tls13_are_offered_by_default(pem: dict[str, str]) -> None:
    context = _context(server(**pem))
    assert (context.minimum_version, context.maximum_version) == (
        ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)


@pytest.mark.parametrize(("props", "versions"), [
    ({"exclude-protocols": "SSLv3 TLSv1.3"}, (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)),
    ({"include-protocols": "TLSv1.3"}, (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)),
])
def test_protocol_keys_set_the_lowest_and_highest_version(
    pem: dict[str, str], props: dict[str, str], versions: tuple[ssl.TLSVersion, ...]
) -> None:
    context = _context(server(**pem, **props))
    assert (context.minimum_version, context.maximum_version) == versions


def test_excluding_the_old_protocols_is_accepted(pem: dict[str, str]) -> None:
    context = _context(server(**pem, **{"exclude-protocols": "SSLv2Hello SSLv3 TLSv1 TLSv1.1"}))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


@pytest.mark.parametrize("old", ["SSLv3", "TLSv1", "TLSv1.1"])
def test_including_an_insecure_protocol_is_an_error(pem: dict[str, str], old: str) -> None:
    message = problems_of(Server, {**pem, "include-protocols": f"TLSv1.2 {old}"})
    assert "a1.sources.r1.include-protocols" in message and "never offered" in message


@pytest.mark.parametrize("key", ["include-protocols", "exclude-protocols"])
def test_an_unknown_protocol_is_an_error_naming_its_key(pem: dict[str, str], key: str) -> None:
    message = problems_of(Server, {**pem, key: "TLSv1.2 TLSv9"})
    assert f"r1.{key}: unknown TLS protocol(s) ['TLSv9']" in message


def test_excluding_every_protocol_is_an_error(pem: dict[str, str]) -> None:
    message = problems_of(Server, {**pem, "exclude-protocols": "TLSv1.2 TLSv1.3"})
    assert "no TLS protocol left" in message


# -- cipher suites ----------------------------------------------------------------------------


def test_include_cipher_suites_limits_the_tls12_suites(pem: dict[str, str]) -> None:
    context = _context(server(**pem, **{"include-cipher-suites": "ECDHE-RSA-AES128-GCM-SHA256"}))
    assert _tls12_ciphers(context) == {"ECDHE-RSA-AES128-GCM-SHA256"}


def test_exclude_cipher_suites_removes_suites_from_the_default(pem: dict[str, str]) -> None:
    context = _context(server(**pem, **{"exclude-cipher-suites": "ECDHE-RSA-AES128-GCM-SHA256"}))
    assert "ECDHE-RSA-AES128-GCM-SHA256" not in _tls12_ciphers(context)
    assert "ECDHE-RSA-AES256-GCM-SHA384" in _tls12_ciphers(context)


@pytest.mark.parametrize("key", ["include-cipher-suites", "exclude-cipher-suites"])
def test_java_cipher_names_are_an_error_pointing_to_openssl_names(
    pem: dict[str, str], key: str
) -> None:
    message = problems_of(Server, {**pem, key: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"})
    assert f"r1.{key}" in message and "OpenSSL names" in message


def test_one_misspelt_cipher_among_good_ones_is_an_error_naming_it(pem: dict[str, str]) -> None:
    message = problems_of(Server, {**pem, "include-cipher-suites":
                                   "ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA385"})
    assert "['ECDHE-RSA-AES256-GCM-SHA385']" in message


def test_tls13_suite_names_are_an_error_saying_python_cannot_choose_them(
    pem: dict[str, str],
) -> None:
    message = problems_of(Server, {**pem, "include-cipher-suites": "TLS_AES_128_GCM_SHA256"})
    assert "TLSv1.3 suites" in message and "cannot choose" in message


def test_excluding_every_included_cipher_is_an_error(pem: dict[str, str]) -> None:
    suite = "ECDHE-RSA-AES128-GCM-SHA256"
    message = problems_of(Server, {**pem, "include-cipher-suites": suite,
                                   "exclude-cipher-suites": suite})
    assert "no cipher suite left" in message


# -- keystore and truststore files --------------------------------------------------------------


def test_ssl_off_builds_no_context_and_checks_no_tls_key() -> None:
    settings = server(**{"keystore-type": "JKS", "include-protocols": "TLSv1"})
    assert settings.server_ssl_context("r1") is None


def test_ssl_on_without_a_keystore_is_an_error() -> None:
    assert "r1.keystore: must name a PEM certificate chain" in problems_of(Server, {"ssl": "true"})


@pytest.mark.parametrize("alias", ["certfile", "ssl.certfile"])
def test_the_plugins_older_certificate_keys_are_aliases_of_keystore(
    tls_certificate: tuple[Path, Path], alias: str
) -> None:
    cert, key = tls_certificate
    settings = server(ssl="true", keyfile=str(key), **{alias: str(cert)})
    assert (settings.keystore, settings.ssl_keyfile) == (str(cert), str(key))


def test_a_keystore_holding_the_key_needs_no_keyfile(tmp_path: Path,
                                                     tls_certificate: tuple[Path, Path]) -> None:
    both = tmp_path / "both.pem"
    both.write_bytes(tls_certificate[0].read_bytes() + tls_certificate[1].read_bytes())
    assert _context(server(ssl="true", keystore=str(both)))


def test_keystore_type_other_than_pem_is_an_error_saying_how_to_convert(
    pem: dict[str, str],
) -> None:
    message = problems_of(Server, {**pem, "keystore-type": "JKS"})
    assert "only PEM is read (got 'JKS')" in message and "keytool -importkeystore" in message


def test_truststore_type_other_than_pem_is_an_error(tls_certificate: tuple[Path, Path]) -> None:
    message = problems_of(Client, {"ssl": "true", "truststore": str(tls_certificate[0]),
                                   "truststore-type": "PKCS12"})
    assert "truststore-type: only PEM is read" in message and "keytool -exportcert" in message


def test_a_missing_keystore_file_is_an_error_at_config_time(tmp_path: Path) -> None:
    message = problems_of(Server, {"ssl": "true", "keystore": str(tmp_path / "nope.pem")})
    assert "r1.keystore: cannot read" in message and "nope.pem" in message


def test_a_binary_keystore_is_an_error_saying_how_to_convert(tmp_path: Path) -> None:
    jks = tmp_path / "ks.jks"
    jks.write_bytes(b"\xfe\xed\xfe\xed\x00\x00\x00\x02garbage")
    message = problems_of(Server, {"ssl": "true", "keystore": str(jks)})
    assert "no PEM certificate" in message and "openssl pkcs12" in message


def test_a_key_of_another_certificate_is_an_error_naming_ssl_keyfile(
    tls_certificate: tuple[Path, Path], other_certificate: tuple[Path, Path]
) -> None:
    message = problems_of(Server, {"ssl": "true", "keystore": str(tls_certificate[0]),
                                   "ssl.keyfile": str(other_certificate[1])})
    assert "r1.ssl.keyfile" in message and "does not belong to the certificate" in message


def test_an_encrypted_key_without_password_is_an_error_not_a_prompt(
    tls_certificate: tuple[Path, Path], encrypted_key: Path
) -> None:
    message = problems_of(Server, {"ssl": "true", "keystore": str(tls_certificate[0]),
                                   "ssl.keyfile": str(encrypted_key)})
    assert "r1.keystore-password" in message and "encrypted" in message


def test_a_wrong_password_is_an_error_naming_keystore_password(
    tls_certificate: tuple[Path, Path], encrypted_key: Path
) -> None:
    message = problems_of(Server, {"ssl": "true", "keystore": str(tls_certificate[0]),
                                   "ssl.keyfile": str(encrypted_key),
                                   "keystore-password": "wrong"})
    assert "r1.keystore-password: does not decrypt" in message


def test_keystore_password_decrypts_the_key(tls_certificate: tuple[Path, Path],
                                            encrypted_key: Path) -> None:
    assert _context(server(ssl="true", keystore=str(tls_certificate[0]),
                           keyfile=str(encrypted_key), **{"keystore-password": "s3cret"}))


def test_require_client_cert_without_cafile_is_an_error(pem: dict[str, str]) -> None:
    message = problems_of(Server, {**pem, "ssl.requireClientCert": "true"})
    assert "r1.ssl.requireClientCert: needs ssl.cafile" in message


def test_settings_made_in_python_report_file_problems_when_the_context_is_built(
    tmp_path: Path,
) -> None:
    settings = Server(ssl=True, keystore=str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigurationError, match=r"a1\.sources\.r1\.keystore: cannot read"):
        settings.server_ssl_context("a1.sources.r1")


def test_truststore_password_is_accepted_with_a_warning_naming_the_component(
    tls_certificate: tuple[Path, Path],
) -> None:
    settings = client(ssl="true", truststore=str(tls_certificate[0]),
                      **{"truststore-password": "changeit"})
    [warning] = settings_warnings(settings, component="a1.sinks.k1")
    assert warning.severity == "warning"
    assert str(warning) == ("a1.sinks.k1.truststore-password: is not used: a PEM truststore has "
                            "no password")


def test_no_warning_when_ssl_is_off() -> None:
    settings = client(**{"truststore-password": "changeit"})
    assert settings_warnings(settings, component="a1.sinks.k1") == []


# -- problems() chaining ------------------------------------------------------------------------


def test_tls_problems_come_with_the_subclass_problems(pem: dict[str, str]) -> None:
    message = problems_of(Server, {**pem, "port": "1", "include-protocols": "TLSv1"})
    assert "r1.port" in message and "r1.include-protocols" in message


def test_a_subclass_returning_a_list_gets_the_tls_problems_too() -> None:
    message = problems_of(Client, {"ssl": "true", "hostname": "", "include-protocols": "TLSv9"})
    assert "hostname: must not be empty" in message and "include-protocols" in message


def test_a_tls_base_beside_another_settings_base_chains_to_its_problems() -> None:
    message = problems_of(Combined, {"ssl": "true", "name": "y"})
    assert "r1.name: must not be y" in message and "r1.keystore" in message


# -- real handshakes on 127.0.0.1 ---------------------------------------------------------------


def _exchange(server_context: ssl.SSLContext, client_context: ssl.SSLContext) -> tuple[Any, ...]:
    """Send ``ping`` through a TLS connection on 127.0.0.1; the server echoes it.

    Returns the negotiated version and the echo (``b""`` when the server hung up).
    Raises ssl.SSLError or OSError when the handshake fails on the client's side.
    """
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                with server_context.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(10)
                    tls.sendall(tls.recv(64))
            except (ssl.SSLError, OSError):
                pass  # the client sees the failure too; the test asserts on that side

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            with socket.create_connection(listener.getsockname(), timeout=10) as raw, \
                    client_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"ping")
                return tls.version(), tls.recv(64)
        finally:
            thread.join(10)


def _refused(server_context: ssl.SSLContext, client_context: ssl.SSLContext) -> bool:
    try:
        _, echo = _exchange(server_context, client_context)
    except (ssl.SSLError, OSError):
        return True
    return echo == b""


def test_server_and_client_settings_talk_tls13(pem: dict[str, str],
                                               tls_certificate: tuple[Path, Path]) -> None:
    trusting = client(ssl="true", truststore=str(tls_certificate[0]))
    assert _exchange(_context(server(**pem)), _context(trusting)) == ("TLSv1.3", b"ping")


def test_client_limited_to_tls12_talks_tls12_with_its_cipher(
    pem: dict[str, str], tls_certificate: tuple[Path, Path]
) -> None:
    suite = "ECDHE-RSA-AES128-GCM-SHA256"
    only12 = client(ssl="true", truststore=str(tls_certificate[0]),
                    **{"exclude-protocols": "TLSv1.3", "include-cipher-suites": suite})
    assert _exchange(_context(server(**pem)), _context(only12)) == ("TLSv1.2", b"ping")


def test_excluded_cipher_suite_is_refused_by_the_server(
    pem: dict[str, str], tls_certificate: tuple[Path, Path]
) -> None:
    suite = "ECDHE-RSA-AES128-GCM-SHA256"
    refusing = server(**pem, **{"exclude-protocols": "TLSv1.3", "exclude-cipher-suites": suite})
    only_that = client(ssl="true", truststore=str(tls_certificate[0]),
                       **{"exclude-protocols": "TLSv1.3", "include-cipher-suites": suite})
    assert _refused(_context(refusing), _context(only_that))


def test_server_limited_to_tls13_refuses_a_tls12_client(
    pem: dict[str, str], tls_certificate: tuple[Path, Path]
) -> None:
    only13 = server(**pem, **{"include-protocols": "TLSv1.3"})
    only12 = client(ssl="true", truststore=str(tls_certificate[0]),
                    **{"include-protocols": "TLSv1.2"})
    assert _refused(_context(only13), _context(only12))


def test_client_refuses_a_certificate_its_truststore_does_not_hold(
    pem: dict[str, str], other_certificate: tuple[Path, Path]
) -> None:
    stranger = client(ssl="true", truststore=str(other_certificate[0]))
    with pytest.raises(ssl.SSLCertVerificationError):
        _exchange(_context(server(**pem)), _context(stranger))


def test_trust_all_certs_accepts_any_certificate(pem: dict[str, str]) -> None:
    trusting = client(ssl="true", **{"trust-all-certs": "true"})
    assert _exchange(_context(server(**pem)), _context(trusting))[1] == b"ping"


def test_required_client_certificate_refuses_a_client_without_one(
    pem: dict[str, str], tls_certificate: tuple[Path, Path]
) -> None:
    strict = server(**pem, **{"ssl.cafile": str(tls_certificate[0]),
                              "ssl.requireClientCert": "true"})
    anonymous = client(ssl="true", truststore=str(tls_certificate[0]))
    assert _refused(_context(strict), _context(anonymous))


def test_a_client_presents_its_keystore_to_a_server_requiring_a_certificate(
    pem: dict[str, str], tls_certificate: tuple[Path, Path]
) -> None:
    cert, key = tls_certificate
    strict = server(**pem, **{"ssl.cafile": str(cert), "ssl.requireClientCert": "true"})
    known = client(ssl="true", truststore=str(cert), keystore=str(cert),
                   **{"ssl.keyfile": str(key)})
    assert _exchange(_context(strict), _context(known)) == ("TLSv1.3", b"ping")


def test_a_client_certificate_not_signed_by_cafile_is_refused(
    pem: dict[str, str], tls_certificate: tuple[Path, Path], other_certificate: tuple[Path, Path]
) -> None:
    strict = server(**pem, **{"ssl.cafile": str(tls_certificate[0]),
                              "ssl.requireClientCert": "true"})
    stranger = client(ssl="true", truststore=str(tls_certificate[0]),
                      keystore=str(other_certificate[0]), keyfile=str(other_certificate[1]))
    assert _refused(_context(strict), _context(stranger))


def test_a_client_keystore_with_an_encrypted_key_takes_keystore_password(
    pem: dict[str, str], tls_certificate: tuple[Path, Path], encrypted_key: Path
) -> None:
    cert = str(tls_certificate[0])
    strict = server(**pem, **{"ssl.cafile": cert, "ssl.requireClientCert": "true"})
    known = client(ssl="true", truststore=cert, keystore=cert, keyfile=str(encrypted_key),
                   **{"keystore-password": "s3cret"})
    assert _exchange(_context(strict), _context(known))[1] == b"ping"
    message = problems_of(Client, {"ssl": "true", "keystore": cert,
                                   "ssl.keyfile": str(encrypted_key)})
    assert "keystore-password" in message and "encrypted" in message


def test_client_keystore_problems_name_the_client_keys(tls_certificate: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    key = str(tls_certificate[1])
    assert "ssl.keyfile: needs keystore" in problems_of(Client, {"ssl": "true", "keyfile": key})
    jks = problems_of(Client, {"ssl": "true", "keystore": str(tls_certificate[0]), "keyfile": key,
                               "keystore-type": "JKS"})
    assert "keystore-type: only PEM is read (got 'JKS')" in jks
    missing = problems_of(Client, {"ssl": "true", "keystore": str(tmp_path / "nope.pem")})
    assert "keystore: cannot read" in missing


# -- Flume's global TLS settings: -D system properties, then FLUME_SSL_* ------------------------


def _both(tmp_path: Path, certificate: tuple[Path, Path]) -> Path:
    """One PEM file holding the certificate and its key, as a global keystore must."""
    both = tmp_path / "both.pem"
    both.write_bytes(certificate[0].read_bytes() + certificate[1].read_bytes())
    return both


def test_defaults_take_the_system_property_before_the_environment() -> None:
    defaults = TlsDefaults.resolve({"javax.net.ssl.keyStoreType": "PEM"},
                                   {"FLUME_SSL_KEYSTORE_TYPE": "JKS",
                                    "FLUME_SSL_TRUSTSTORE_TYPE": "JKS"})
    assert defaults.get("keystore-type") == ("PEM", "the system property javax.net.ssl.keyStoreType")
    assert defaults.get("truststore-type") == (
        "JKS", "the environment variable FLUME_SSL_TRUSTSTORE_TYPE")
    assert defaults.get("truststore") is None


def test_an_empty_global_value_counts_as_unset() -> None:
    defaults = TlsDefaults.resolve({"javax.net.ssl.keyStore": " "},
                                   {"FLUME_SSL_KEYSTORE_PATH": "/from/env.pem",
                                    "FLUME_SSL_KEYSTORE_TYPE": ""})
    assert defaults.get("keystore") == ("/from/env.pem",
                                        "the environment variable FLUME_SSL_KEYSTORE_PATH")
    assert defaults.get("keystore-type") is None


def test_the_component_key_beats_the_system_property_which_beats_the_environment(
    tmp_path: Path, tls_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_PATH", str(tmp_path / "env.pem"))
    monkeypatch.setenv("FLUME_SSL_INCLUDE_PROTOCOLS", "TLSv1.2")
    both = _both(tmp_path, tls_certificate)
    with using_tls_defaults(TlsDefaults.resolve({"javax.net.ssl.keyStore": str(both),
                                                 "flume.ssl.include.protocols": "TLSv1.3"})):
        from_system = _context(server(ssl="true"))
        own = _context(server(ssl="true", **{"include-protocols": "TLSv1.2"}))
    assert from_system.minimum_version == ssl.TLSVersion.TLSv1_3  # -D beat the environment
    assert own.maximum_version == ssl.TLSVersion.TLSv1_2  # the component beat -D
    from_env = problems_of(Server, {"ssl": "true"})  # outside: the environment alone
    assert "env.pem" in from_env and "FLUME_SSL_KEYSTORE_PATH" in from_env


def test_settings_keep_the_defaults_they_were_built_with(
    tmp_path: Path, tls_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_PATH", str(_both(tmp_path, tls_certificate)))
    built = server(ssl="true")
    monkeypatch.delenv("FLUME_SSL_KEYSTORE_PATH")
    assert _context(built)  # a restart builds the same context
    assert "r1.keystore: must name" in problems_of(Server, {"ssl": "true"})


def test_flume_ssl_keystore_path_makes_a_source_that_talks_tls(
    tmp_path: Path, tls_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_PATH", str(_both(tmp_path, tls_certificate)))
    trusting = client(ssl="true", truststore=str(tls_certificate[0]))
    assert _exchange(_context(server(ssl="true")), _context(trusting)) == ("TLSv1.3", b"ping")


def test_flume_ssl_keystore_password_decrypts_the_key(
    tls_certificate: tuple[Path, Path], encrypted_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_PASSWORD", "s3cret")
    assert _context(server(ssl="true", keystore=str(tls_certificate[0]),
                           keyfile=str(encrypted_key)))
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_PASSWORD", "wrong")
    message = problems_of(Server, {"ssl": "true", "keystore": str(tls_certificate[0]),
                                   "ssl.keyfile": str(encrypted_key)})
    assert "keystore-password: does not decrypt" in message
    assert "FLUME_SSL_KEYSTORE_PASSWORD" in message


@pytest.mark.parametrize(("system", "origin"), [
    ({}, "the environment variable FLUME_SSL_KEYSTORE_TYPE"),
    ({"javax.net.ssl.keyStoreType": "JKS"}, "the system property javax.net.ssl.keyStoreType"),
])
def test_a_global_jks_keystore_type_is_an_error_naming_where_it_came_from(
    pem: dict[str, str], monkeypatch: pytest.MonkeyPatch, system: dict[str, str], origin: str
) -> None:
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_TYPE", "JKS")
    with using_tls_defaults(TlsDefaults.resolve(system)):
        message = problems_of(Server, pem)
    assert "r1.keystore-type: only PEM is read (got 'JKS')" in message
    assert f"comes from {origin}; set keystore-type on the component" in message
    assert _context(server(**pem, **{"keystore-type": "PEM"}))  # the component's own wins


def test_flume_ssl_truststore_path_is_the_clients_truststore(
    pem: dict[str, str], tls_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUME_SSL_TRUSTSTORE_PATH", str(tls_certificate[0]))
    assert _exchange(_context(server(**pem)), _context(client(ssl="true")))[1] == b"ping"


def test_flume_ssl_truststore_password_warns_naming_the_variable(
    tls_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUME_SSL_TRUSTSTORE_PASSWORD", "changeit")
    [warning] = settings_warnings(client(ssl="true", truststore=str(tls_certificate[0])),
                                  component="a1.sinks.k1")
    assert "truststore-password: is not used" in str(warning)
    assert "FLUME_SSL_TRUSTSTORE_PASSWORD" in str(warning)


def test_flume_ssl_truststore_type_jks_is_an_error_naming_the_variable(
    tls_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUME_SSL_TRUSTSTORE_TYPE", "JKS")
    message = problems_of(Client, {"ssl": "true", "truststore": str(tls_certificate[0])})
    assert "truststore-type: only PEM is read" in message and "FLUME_SSL_TRUSTSTORE_TYPE" in message


@pytest.mark.parametrize(("value", "versions"), [
    ("TLSv1.3", (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)),
    ("TLSv1.2,TLSv1.3", (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)),  # Flume's commas
])
def test_flume_ssl_include_protocols(pem: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                     value: str, versions: tuple[ssl.TLSVersion, ...]) -> None:
    monkeypatch.setenv("FLUME_SSL_INCLUDE_PROTOCOLS", value)
    context = _context(server(**pem))
    assert (context.minimum_version, context.maximum_version) == versions


def test_flume_ssl_exclude_protocols(pem: dict[str, str], tls_certificate: tuple[Path, Path],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUME_SSL_EXCLUDE_PROTOCOLS", "SSLv3, TLSv1.3")
    trusting = client(ssl="true", truststore=str(tls_certificate[0]))
    assert _exchange(_context(server(**pem)), _context(trusting)) == ("TLSv1.2", b"ping")
    monkeypatch.setenv("FLUME_SSL_EXCLUDE_PROTOCOLS", "TLSv1.2 TLSv1.3")
    message = problems_of(Server, pem)
    assert "no TLS protocol left" in message and "FLUME_SSL_EXCLUDE_PROTOCOLS" in message


def test_flume_ssl_include_ciphersuites(pem: dict[str, str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUME_SSL_INCLUDE_CIPHERSUITES", "ECDHE-RSA-AES128-GCM-SHA256")
    assert _tls12_ciphers(_context(server(**pem))) == {"ECDHE-RSA-AES128-GCM-SHA256"}
    monkeypatch.setenv("FLUME_SSL_INCLUDE_CIPHERSUITES", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    message = problems_of(Server, pem)
    assert "OpenSSL names" in message and "FLUME_SSL_INCLUDE_CIPHERSUITES" in message


def test_flume_ssl_exclude_ciphersuites(pem: dict[str, str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUME_SSL_EXCLUDE_CIPHERSUITES", "ECDHE-RSA-AES128-GCM-SHA256")
    ciphers = _tls12_ciphers(_context(client(ssl="true", **{"trust-all-certs": "true"})))
    assert "ECDHE-RSA-AES128-GCM-SHA256" not in ciphers
    assert "ECDHE-RSA-AES256-GCM-SHA384" in ciphers


def test_a_client_never_takes_the_global_keystore(
    pem: dict[str, str], tls_certificate: tuple[Path, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_PATH", str(_both(tmp_path, tls_certificate)))
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_TYPE", "JKS")
    cert = str(tls_certificate[0])
    strict = server(**pem, **{"ssl.cafile": cert, "ssl.requireClientCert": "true",
                              "keystore-type": "PEM"})
    assert _refused(_context(strict), _context(client(ssl="true", truststore=cert)))


# -- the agent and flume-ng validate pass -D values on --------------------------------------------


HTTPS_AGENT = """a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = http
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.ssl = true
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
"""


def test_an_agent_source_takes_its_keystore_from_a_system_property(
    tmp_path: Path, tls_certificate: tuple[Path, Path]
) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text(HTTPS_AGENT)
    agent = Agent("a1", [conf], system_properties={
        "javax.net.ssl.keyStore": str(_both(tmp_path, tls_certificate))})
    agent.start()
    try:
        assert agent.pipeline is not None
        port = agent.pipeline.sources["r1"].port  # type: ignore[attr-defined]
        context = ssl.create_default_context(cafile=str(tls_certificate[0]))
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
        try:
            connection.request("POST", "/", body=b'[{"headers": {}, "body": "over tls"}]')
            assert connection.getresponse().status == 200
        finally:
            connection.close()
    finally:
        agent.stop()
    with pytest.raises(ConfigurationError, match=r"r1\.keystore: must name"):
        Agent("a1", [conf]).build()  # no -D, no environment: no keystore


def test_validate_reads_d_options_and_the_environment(
    tmp_path: Path, tls_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text(HTTPS_AGENT)
    both = str(_both(tmp_path, tls_certificate))
    assert cli_main(["validate", "-f", str(conf)]) == 1
    assert cli_main(["validate", "-f", str(conf), f"-Djavax.net.ssl.keyStore={both}"]) == 0
    monkeypatch.setenv("FLUME_SSL_KEYSTORE_PATH", both)
    assert cli_main(["validate", "-f", str(conf)]) == 0
    assert cli_main(["validate", "-f", str(conf), "-Djavax.net.ssl.keyStoreType=JKS"]) == 1
    assert "the system property javax.net.ssl.keyStoreType" in capsys.readouterr().err
