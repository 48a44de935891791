"""Errors of the Avro RPC protocol layer: the kernel's RPC errors, under this plugin's names.

Hierarchy (see ``flume_sdk`` for the whole tree)::

    RpcError = AvroRpcError (FlumeError, ValueError)   bytes on the wire are not Flume's Avro RPC
    ├── FrameTooLargeError                             a frame announced more bytes than allowed
    └── ProtocolMismatchError                          the peer speaks a different Avro protocol
    DeliveryFailedError (FlumeError, RuntimeError)     the source answered FAILED (a valid reply)

Every error closes the connection it happened on; the source counts it and keeps
serving other connections.
"""

from __future__ import annotations

from flume_sdk import DeliveryFailedError, FrameTooLargeError, ProtocolMismatchError, RpcError

__all__ = ["AvroRpcError", "DeliveryFailedError", "FrameTooLargeError", "ProtocolMismatchError"]

AvroRpcError = RpcError
"""Bytes received from a peer are not valid Flume Avro RPC (the kernel's ``RpcError``)."""
