"""Errors of the Thrift RPC protocol layer.

Hierarchy::

    RpcError = ThriftRpcError (FlumeError, ValueError)  bytes on the wire are not Flume's Thrift RPC
    ├── FrameTooLargeError               a frame announced more bytes than allowed (kernel)
    ├── ProtocolMismatchError            unframed, or the other protocol (binary/compact) (kernel)
    ├── StalledClientError               a client stalled mid-frame, or never sent a byte
    └── UnknownMethodError               a call to a method ThriftSourceProtocol lacks
    DeliveryFailedError (FlumeError, RuntimeError)  the source answered FAILED/ERROR/UNKNOWN or
                                         an application exception (a valid reply) (kernel)

Every ThriftRpcError closes the connection it happened on; the source counts it and
keeps serving other connections.
"""

from __future__ import annotations

from flume_sdk import DeliveryFailedError, FrameTooLargeError, ProtocolMismatchError, RpcError

__all__ = [
    "DeliveryFailedError",
    "FrameTooLargeError",
    "ProtocolMismatchError",
    "StalledClientError",
    "ThriftRpcError",
    "UnknownMethodError",
]


ThriftRpcError = RpcError
"""Bytes received from a peer are not valid Flume Thrift RPC (the kernel's ``RpcError``)."""


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
