"""The keys the thrift source and sink share: ``protocol`` and Flume's Kerberos keys.

Kerberos needs a SASL (GSSAPI) transport this plugin does not have: ``kerberos = true``
is a configuration error, and the principal and keytab keys are accepted with a warning
(they do nothing without it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from flume_rpc_thrift._messages import PROTOCOLS
from flume_sdk import one_of, setting

__all__ = ["ThriftCommonSettings"]

_NO_KERBEROS = ("is not supported: Flume's Kerberos transport (SASL/GSSAPI) is not "
                "implemented by this plugin; use ssl = true, or keep a Java Flume hop "
                "for Kerberos")


# Not slotted, so that it combines with the TLS settings bases.
@attrs.frozen(kw_only=True, slots=False)
class ThriftCommonSettings:
    """``protocol`` and ``kerberos``; subclasses list their principal/keytab keys."""

    protocol: str = setting(default="compact", validator=one_of(*PROTOCOLS),
                            help="compact (Flume's default) or binary; must match the peer")
    kerberos: bool = setting(default=False, help="refused when true (no SASL transport)")

    def kerberos_keys(self) -> dict[str, str]:
        """Override: the component's Kerberos principal/keytab keys and their values."""
        return {}

    def problems(self) -> Iterable[tuple[str, str]]:
        parent = getattr(super(), "problems", None)
        if callable(parent):
            yield from parent()
        if self.kerberos:
            yield "kerberos", _NO_KERBEROS

    def warnings(self) -> Iterator[tuple[str, str]]:
        parent = getattr(super(), "warnings", None)
        if callable(parent):
            yield from parent()
        if self.protocol != self.protocol.lower():
            yield "protocol", (f"{self.protocol!r} selects {self.protocol.lower()} here, but "
                               "Java Flume selects binary only for the exact lowercase "
                               "'binary': check that the peer agrees")
        for key, value in self.kerberos_keys().items():
            if value and not self.kerberos:
                yield key, "has no effect: kerberos is not supported by this plugin"
