"""Errors of the Thrift RPC protocol layer.

Hierarchy::

    ThriftRpcError (ValueError)          bytes on the wire are not Flume's Thrift RPC
    ├── FrameTooLargeError               a frame announced more bytes than allowed
    ├── ProtocolMismatchError            unframed, or the other protocol (binary/compact)
    ├── StalledClientError               a client stalled mid-frame, or never sent a byte
    └── UnknownMethodError               a call to a method ThriftSourceProtocol lacks
    DeliveryFailedError (RuntimeError)   the source answered FAILED/ERROR/UNKNOWN or an
                                         application exception (a valid reply)

Every ThriftRpcError closes the connection it happened on; the source counts it and
keeps serving other connections.
"""

from __future__ import annotations

__all__ = [
    "DeliveryFailedError",
    "FrameTooLargeError",
    "ProtocolMismatchError",
    "StalledClientError",
    "ThriftRpcError",
    "UnknownMethodError",
]


class ThriftRpcError(ValueError):
    """Bytes received from a peer are not valid Flume Thrift RPC."""


class FrameTooLargeError(ThriftRpcError):
    """A frame announced more bytes than the configured maximum.

    Args:
        announced: the frame's length word.
        limit: the configured maximum.
    """

    def __init__(self, announced: int, limit: int) -> None:
        self.announced = announced
        self.limit = limit
        msg = (
            f"Thrift frame too large: it announces {announced} bytes, the limit is {limit} "
            f"bytes; raise the source's max-frame-size or send smaller batches"
        )
        super().__init__(msg)


class ProtocolMismatchError(ThriftRpcError):
    """The peer speaks unframed Thrift, or the protocol this side was not configured for."""


class StalledClientError(ThriftRpcError):
    """A client stopped sending in the middle of a frame, or connected and sent nothing."""


class UnknownMethodError(ThriftRpcError):
    """A call names a method other than ``append`` and ``appendBatch``.

    Args:
        method: the name the call gave.
        seqid: its sequence id, to answer with an application exception.
    """

    def __init__(self, method: str, seqid: int) -> None:
        self.method = method
        self.seqid = seqid
        super().__init__(f"unknown Thrift method {method!r}: ThriftSourceProtocol has "
                         f"append and appendBatch")


class DeliveryFailedError(RuntimeError):
    """The Thrift source answered a call with a status other than OK, or an exception.

    Args:
        message: what failed.
        status: the status answered (None for an application exception).
    """

    def __init__(self, message: str, *, status: object = None) -> None:
        super().__init__(message)
        self.status = status
