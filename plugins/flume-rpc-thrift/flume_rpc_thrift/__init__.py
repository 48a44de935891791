"""Thrift RPC for flume-sdk: Flume's ``ThriftSourceProtocol`` over the framed transport.

The protocol layer (``ThriftRpcClient``, ``ThriftRpcServer``, ``codec``) needs nothing
from the agent kernel but ``Event``; ``flume_rpc_thrift.source.ThriftSource`` and
``flume_rpc_thrift.sink.ThriftSink`` are the ``thrift`` source and sink plugins built on it.
Both TCompactProtocol (Flume's default) and TBinaryProtocol are implemented here.
"""

from flume_rpc_thrift._client import ConnectionStats, ThriftRpcClient
from flume_rpc_thrift._errors import (
    DeliveryFailedError,
    FrameTooLargeError,
    ProtocolMismatchError,
    StalledClientError,
    ThriftRpcError,
    UnknownMethodError,
)
from flume_rpc_thrift._messages import PROTOCOLS, Call, Codec, Reply, ThriftStatus, codec
from flume_rpc_thrift._server import ServerOptions, ThriftRpcServer

__all__ = [
    "PROTOCOLS",
    "Call",
    "Codec",
    "ConnectionStats",
    "DeliveryFailedError",
    "FrameTooLargeError",
    "ProtocolMismatchError",
    "Reply",
    "ServerOptions",
    "StalledClientError",
    "ThriftRpcClient",
    "ThriftRpcError",
    "ThriftRpcServer",
    "ThriftStatus",
    "UnknownMethodError",
    "codec",
]
