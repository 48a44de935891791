"""Errors of the Avro RPC protocol layer.

Hierarchy::

    AvroRpcError (ValueError)            bytes on the wire are not Flume's Avro RPC
    ├── FrameTooLargeError               a frame announced more bytes than allowed
    └── ProtocolMismatchError            the peer speaks a different Avro protocol
    DeliveryFailedError (RuntimeError)   the source answered FAILED (a valid reply)

Every error closes the connection it happened on; the source counts it and keeps
serving other connections.
"""

from __future__ import annotations

__all__ = ["AvroRpcError", "DeliveryFailedError", "FrameTooLargeError", "ProtocolMismatchError"]


class AvroRpcError(ValueError):
    """Bytes received from a peer are not valid Flume Avro RPC."""


class FrameTooLargeError(AvroRpcError):
    """A Netty frame announced more bytes than the configured maximum.

    Args:
        announced: the number of bytes the frame would need.
        limit: the configured maximum.
    """

    def __init__(self, announced: int, limit: int) -> None:
        self.announced = announced
        self.limit = limit
        msg = (
            f"Avro RPC frame too large: it needs at least {announced} bytes, the limit is "
            f"{limit} bytes; raise the source's max-frame-size or send smaller batches"
        )
        super().__init__(msg)


class ProtocolMismatchError(AvroRpcError):
    """The peer's handshake names an Avro protocol other than Flume's AvroSourceProtocol."""


class DeliveryFailedError(RuntimeError):
    """The Avro source answered a call with FAILED/UNKNOWN or a remote error.

    Args:
        message: what failed.
        status: the Status the server answered (None for a remote error string).
    """

    def __init__(self, message: str, *, status: object = None) -> None:
        super().__init__(message)
        self.status = status
