"""Flume's ``kafka.producer.sasl.jaas.config`` / ``kafka.consumer.sasl.jaas.config``.

Java clients take SASL credentials as one JAAS login-module line::

    org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";

Neither Python library reads JAAS: both take a mechanism, a user name and a password. This
module reads the PLAIN and SCRAM login modules into those three; any other module is a
configuration error. Messages never contain the value (it holds a password).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

__all__ = ["JAAS_KEY", "SaslLogin", "sasl_login", "sasl_options"]

JAAS_KEY = "sasl.jaas.config"
_MECHANISM_KEY = "sasl.mechanism"

_PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
_SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"
_SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
_LINE = re.compile(r"\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\b(.*?);?\s*$", re.S)
_OPTION = re.compile(r'\s*([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s";]+))')


@attrs.frozen(repr=False)
class SaslLogin:
    """A mechanism (``PLAIN``, ``SCRAM-SHA-256``, ``SCRAM-SHA-512``) and its credentials."""

    mechanism: str
    username: str
    password: str

    def __repr__(self) -> str:  # never show the password
        return f"SaslLogin(mechanism={self.mechanism!r}, username={self.username!r})"


def _options(body: str) -> dict[str, str]:
    found: dict[str, str] = {}
    position = 0
    while position < len(body.rstrip()):
        match = _OPTION.match(body, position)
        if match is None:
            msg = ("expected key=\"value\" options after the login module and its flag, got "
                   "text that is not such an option (the value is not shown: it holds a secret)")
            raise ValueError(msg)
        quoted, bare = match.group(2), match.group(3)
        found[match.group(1)] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        position = match.end()
    return found


def sasl_login(raw: Mapping[str, str]) -> SaslLogin | None:
    """The SASL login of the pass-through keys ``raw`` (Java spelling, prefix stripped), or
    ``None`` when they hold no ``sasl.jaas.config``.

    ``sasl.mechanism`` defaults to ``PLAIN`` for the PLAIN module and must name a SCRAM
    mechanism for the SCRAM module.

    Raises:
        ValueError: the line does not parse, names another login module, lacks a username or
            password, or does not match ``sasl.mechanism`` (the message never holds the value).
    """
    text = raw.get(JAAS_KEY)
    if text is None:
        return None
    line = _LINE.match(text)
    if line is None:
        msg = ("expected '<LoginModule class> required username=\"...\" password=\"...\";' "
               "(the value is not shown: it holds a secret)")
        raise ValueError(msg)
    module, options = line.group(1), _options(line.group(3))
    mechanism = raw.get(_MECHANISM_KEY, "").strip().upper()
    if module == _PLAIN:
        if mechanism not in ("", "PLAIN"):
            msg = f"PlainLoginModule needs sasl.mechanism = PLAIN (got {mechanism!r})"
            raise ValueError(msg)
        mechanism = "PLAIN"
    elif module == _SCRAM:
        if mechanism not in _SCRAM_MECHANISMS:
            msg = (f"ScramLoginModule needs sasl.mechanism = SCRAM-SHA-256 or SCRAM-SHA-512 "
                   f"(got {mechanism or 'none'!r})")
            raise ValueError(msg)
    else:
        msg = (f"login module {module!r} is not supported; use {_PLAIN} or {_SCRAM} (Kerberos "
               "and OAUTHBEARER are not mapped)")
        raise ValueError(msg)
    missing = [name for name in ("username", "password") if not options.get(name)]
    if missing:
        msg = f"the login module options lack {' and '.join(missing)}"
        raise ValueError(msg)
    return SaslLogin(mechanism, options["username"], options["password"])


def sasl_options(raw: Mapping[str, str], prefix: str, names: tuple[str, str, str],
                 problems: list[tuple[str, str]]) -> dict[str, str]:
    """The library options (``names``: its spelling of mechanism, username, password) for
    the ``sasl.jaas.config`` of ``raw``; a bad line is added to ``problems`` under
    ``prefix + sasl.jaas.config``."""
    try:
        login = sasl_login(raw)
    except ValueError as exc:
        problems.append((prefix + JAAS_KEY, str(exc)))
        return {}
    if login is None:
        return {}
    return dict(zip(names, (login.mechanism, login.username, login.password), strict=True))
