"""Avro RPC for flume-sdk: Flume's ``AvroSourceProtocol`` over Netty framing.

The protocol layer (``AvroRpcClient``, ``AvroRpcServer``) needs nothing from the agent
kernel; ``flume_rpc_avro.source.AvroSource`` and ``flume_rpc_avro.sink.AvroSink`` are
the ``avro`` source and sink plugins built on it.
"""

from flume_rpc_avro._client import AvroRpcClient
from flume_rpc_avro._errors import (
    AvroRpcError,
    DeliveryFailedError,
    FrameTooLargeError,
    ProtocolMismatchError,
)
from flume_rpc_avro._protocol import PROTOCOL_JSON, PROTOCOL_MD5, AvroStatus
from flume_rpc_avro._server import AvroRpcServer, ServerOptions

__all__ = [
    "PROTOCOL_JSON",
    "PROTOCOL_MD5",
    "AvroRpcClient",
    "AvroRpcError",
    "AvroRpcServer",
    "AvroStatus",
    "DeliveryFailedError",
    "FrameTooLargeError",
    "ProtocolMismatchError",
    "ServerOptions",
]
