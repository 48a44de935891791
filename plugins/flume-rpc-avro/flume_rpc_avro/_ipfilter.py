"""Flume's ``ipFilterRules``: ``allow|deny:ip|name:pattern`` rules, first match wins.

Example: ``allow:ip:127.*,allow:name:localhost,deny:ip:*``. Patterns use ``*`` and
``?`` wildcards (Netty's ``PatternRule``). A ``name`` pattern ``localhost`` matches any
loopback address without a DNS lookup; other name patterns match the reverse-DNS name
of the peer. A peer that no rule matches is allowed, as in Netty.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import socket

import attrs

__all__ = ["IpFilter", "IpFilterRule", "parse_ip_filter_rules"]


@attrs.frozen
class IpFilterRule:
    """One rule: allow or deny peers whose ``ip`` or ``name`` matches ``pattern``."""

    allow: bool
    kind: str
    pattern: re.Pattern[str]

    def matches(self, ip: str, name: str | None) -> bool:
        """True if this rule applies to the peer ``ip`` (reverse name ``name``)."""
        if self.kind == "ip":
            return bool(self.pattern.fullmatch(ip))
        if self.pattern.pattern == fnmatch.translate("localhost"):
            return ipaddress.ip_address(ip).is_loopback
        return name is not None and bool(self.pattern.fullmatch(name.lower()))


def _parse_rule(text: str) -> IpFilterRule:
    parts = [p.strip() for p in text.split(":", 2)]
    if len(parts) != 3 or parts[0] not in ("allow", "deny") or parts[1] not in ("ip", "name"):
        msg = (
            f"ipFilterRules entry {text!r} is not <allow|deny>:<ip|name>:<pattern>; "
            "for example allow:ip:127.*,deny:ip:*"
        )
        raise ValueError(msg)
    pattern = re.compile(fnmatch.translate(parts[2].lower()))
    return IpFilterRule(parts[0] == "allow", parts[1], pattern)


def parse_ip_filter_rules(text: str) -> tuple[IpFilterRule, ...]:
    """Parse a comma-separated ``ipFilterRules`` value.

    Raises:
        ValueError: an entry is not ``allow|deny:ip|name:pattern``.
    """
    return tuple(_parse_rule(item) for item in text.split(",") if item.strip())


@attrs.frozen
class IpFilter:
    """The ordered rules of one source."""

    rules: tuple[IpFilterRule, ...]

    @property
    def needs_name(self) -> bool:
        """True if some rule needs a reverse-DNS lookup."""
        translated = fnmatch.translate("localhost")
        return any(r.kind == "name" and r.pattern.pattern != translated for r in self.rules)

    def allows(self, ip: str) -> bool:
        """Decide whether peer ``ip`` may connect (may do a blocking reverse lookup)."""
        name = _reverse_name(ip) if self.needs_name else None
        for rule in self.rules:
            if rule.matches(ip, name):
                return rule.allow
        return True


def _reverse_name(ip: str) -> str | None:
    try:
        return socket.gethostbyaddr(ip)[0]
    except OSError:
        return None
