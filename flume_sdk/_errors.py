"""The exception hierarchy of flume-sdk.

::

    FlumeError
    ├── ConfigurationError (ValueError)     a config problem; ``problems`` lists every one found
    ├── PluginError                          a component type could not be used
    │   ├── PluginNotFoundError (LookupError)
    │   ├── PluginLoadError (ImportError)
    │   ├── PluginInvalidError (TypeError)
    │   └── PluginConflictError
    ├── ChannelException                     a channel refused a put, take or commit
    │   └── ChannelFullException             no room for the commit within keep-alive
    ├── TransactionStateError (RuntimeError) a transaction used out of order or from another thread
    ├── EventDeliveryException               a sink could not deliver a batch; it was rolled back
    ├── RpcError (ValueError)                bytes received on an RPC tier (Avro, Thrift) are not
    │   │                                    the protocol; the connection is closed
    │   ├── FrameTooLargeError               a frame announced more bytes than allowed
    │   └── ProtocolMismatchError            the peer speaks another protocol (or variant)
    └── DeliveryFailedError (RuntimeError)   an RPC source answered FAILED (a valid reply)

Plugins raise these or subclasses of them: every error a component raises is a ``FlumeError``
(a plugin's own error also subclasses the builtin it specialises, e.g. ``OSError``).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = [
    "ChannelException",
    "ChannelFullException",
    "ConfigurationError",
    "DeliveryFailedError",
    "EventDeliveryException",
    "FlumeError",
    "FrameTooLargeError",
    "Location",
    "PluginConflictError",
    "PluginError",
    "PluginInvalidError",
    "PluginLoadError",
    "PluginNotFoundError",
    "Problem",
    "ProtocolMismatchError",
    "RpcError",
    "TransactionStateError",
]


class FlumeError(Exception):
    """Base class of every error flume-sdk raises on purpose."""


@attrs.frozen
class Location:
    """Where a configuration value came from."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@attrs.frozen
class Problem:
    """One configuration problem: which component, which key, what is wrong, how to fix it."""

    component: str
    message: str
    key: str | None = None
    location: Location | None = None
    suggestion: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        what = f"{self.component}.{self.key}" if self.key else self.component
        hint = f" ({self.suggestion})" if self.suggestion else ""
        return f"{where}{what}: {self.message}{hint}"


class ConfigurationError(FlumeError, ValueError):
    """One or more configuration problems; nothing starts while any remains.

    Args:
        problems: every problem found, or a single message.
    """

    def __init__(self, problems: Iterable[Problem] | str, component: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(component=component or "config", message=problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PluginError(FlumeError):
    """A component type could not be found, loaded or used.

    Args:
        message: what went wrong.
        kind: the component kind ("sink").
        type_name: the configured ``type``.
        distribution: the distribution that registered it, with version, if known.
    """

    def __init__(
        self, message: str, *, kind: str = "", type_name: str = "", distribution: str = ""
    ) -> None:
        self.kind = kind
        self.type_name = type_name
        self.distribution = distribution
        super().__init__(message)


class PluginNotFoundError(PluginError, LookupError):
    """No plugin is registered under that type for that kind."""


class PluginLoadError(PluginError, ImportError):
    """The plugin is registered but importing it failed."""


class PluginInvalidError(PluginError, TypeError):
    """The plugin loaded but is not a component of the expected kind."""


class PluginConflictError(PluginError):
    """Two distributions registered the same type for the same kind."""


class ChannelException(FlumeError):
    """A channel refused a put, take or commit; the caller must roll back."""


class ChannelFullException(ChannelException):
    """The channel had no room for the commit within its keep-alive."""


class TransactionStateError(FlumeError, RuntimeError):
    """A transaction was used in the wrong state or from a thread that does not own it."""


class EventDeliveryException(FlumeError):
    """A sink could not deliver a batch; the channel transaction was rolled back."""


class RpcError(FlumeError, ValueError):
    """Bytes received from an RPC peer are not valid for the protocol (the connection closes)."""


class FrameTooLargeError(RpcError):
    """A frame announced more bytes than the configured maximum.

    Args:
        announced: the number of bytes the frame would need.
        limit: the configured maximum.
        protocol: the protocol's name in the message (``"Avro RPC"``, ``"Thrift"``).
    """

    def __init__(self, announced: int, limit: int, protocol: str = "RPC") -> None:
        self.announced = announced
        self.limit = limit
        msg = (f"{protocol} frame too large: it needs at least {announced} bytes, the limit is "
               f"{limit} bytes; raise the source's max-frame-size or send smaller batches")
        super().__init__(msg)


class ProtocolMismatchError(RpcError):
    """The peer speaks another protocol, or another variant of this one."""


class DeliveryFailedError(FlumeError, RuntimeError):
    """An RPC source answered a call with FAILED (or an error): a valid reply, not a crash.

    Args:
        message: what failed.
        status: the status the server answered (``None`` for a remote error).
    """

    def __init__(self, message: str, *, status: object = None) -> None:
        super().__init__(message)
        self.status = status
