"""A blocking Avro RPC client that behaves like Flume's ``NettyAvroRpcClient``.

Like Java's ``Requestor`` it sends the handshake only on the first call of a
connection, with ``clientProtocol = null`` and Flume's hash; if the server answers
``NONE`` it resends the same call with the protocol text. Any failure closes the
connection, because the state of the stream is then unknown; the next call reconnects.
"""

from __future__ import annotations

import io
import socket
import ssl
import time
from collections.abc import Sequence
from typing import Any

from flume_rpc_avro._compression import CHUNK_SIZE, Deflater, Inflater
from flume_rpc_avro._errors import AvroRpcError, DeliveryFailedError
from flume_rpc_avro._framing import FrameDecoder, encode_frame
from flume_rpc_avro._protocol import (
    PROTOCOL_JSON,
    PROTOCOL_MD5,
    AvroStatus,
    HandshakeMatch,
    RpcResponse,
    check_flume_protocol,
    decode_handshake_response,
    decode_response_body,
    encode_call,
    encode_handshake_request,
)

__all__ = ["AvroRpcClient"]


class AvroRpcClient:
    """Send events to an Avro source (Flume's or ours) over one TCP connection.

    Args:
        host: the source's host name or address.
        port: the source's port.
        connect_timeout: seconds to establish the connection (and TLS).
        request_timeout: seconds to wait for each response.
        compression_level: zlib level for ``compression-type = deflate``; None = none.
        ssl_context: wrap the connection in TLS with this client context.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        connect_timeout: float = 20.0,
        request_timeout: float = 20.0,
        compression_level: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self._level = compression_level
        self._ssl = ssl_context
        self._sock: socket.socket | None = None
        self._serial = 0
        self._connected = False
        self._send_text = False
        self._server_hash = PROTOCOL_MD5
        self._deflater: Deflater | None = None
        self._inflater: Inflater | None = None
        self._decoder = FrameDecoder()

    @property
    def is_open(self) -> bool:
        """True while a TCP connection is established."""
        return self._sock is not None

    def connect(self) -> None:
        """Open the connection now (calls also connect on demand)."""
        self.close()
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._serial, self._connected = 0, False
        self._decoder = FrameDecoder()
        if self._level is not None:
            self._deflater, self._inflater = Deflater(self._level), Inflater()

    def __enter__(self) -> AvroRpcClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; idempotent."""
        if self._sock is not None:
            sock, self._sock = self._sock, None
            sock.close()

    def append(self, event: dict[str, Any]) -> None:
        """Send one event with ``append``.

        Raises:
            DeliveryFailedError: the server answered FAILED/UNKNOWN or an error.
            AvroRpcError: the server's bytes are not Avro RPC.
            OSError: connecting, sending or receiving failed (TimeoutError on timeouts).
        """
        self._call("append", [event])

    def append_batch(self, events: Sequence[dict[str, Any]]) -> None:
        """Send events with one ``appendBatch`` call; raises as ``append``."""
        self._call("appendBatch", events)

    def _call(self, message: str, events: Sequence[dict[str, Any]]) -> None:
        try:
            if self._sock is None:
                self.connect()
            head, params = encode_call(message, events)
            response = self._round_trip(head, params)
        except BaseException:
            self.close()
            raise
        if response.error is not None or response.status is not AvroStatus.OK:
            what = response.error or (response.status.name if response.status else "?")
            msg = f"Avro source {self.host}:{self.port} refused the {message} call: {what}"
            raise DeliveryFailedError(msg, status=response.status)

    def _round_trip(self, head: bytes, params: bytes) -> RpcResponse:
        deadline = time.monotonic() + self.request_timeout
        for _attempt in range(2):
            handshake = b"" if self._connected else self._handshake()
            stream = io.BytesIO(self._exchange([handshake + head, params], deadline))
            if self._connected or self._accept_handshake(stream):
                return decode_response_body(stream)
        msg = "Avro RPC handshake failed: the server answered NONE twice"
        raise AvroRpcError(msg)

    def _handshake(self) -> bytes:
        text = PROTOCOL_JSON if self._send_text else None
        return encode_handshake_request(text, self._server_hash)

    def _accept_handshake(self, stream: io.BytesIO) -> bool:
        response = decode_handshake_response(stream)
        if response.server_protocol is not None:
            check_flume_protocol(response.server_protocol)
        if response.server_hash is not None:
            self._server_hash = response.server_hash
        if response.match is HandshakeMatch.NONE:
            self._send_text = True
            return False
        self._connected = True
        return True

    def _exchange(self, buffers: list[bytes], deadline: float) -> bytes:
        assert self._sock is not None
        self._serial += 1
        frame = encode_frame(self._serial, buffers)
        self._sock.settimeout(max(0.001, deadline - time.monotonic()))
        self._sock.sendall(self._deflater.compress(frame) if self._deflater else frame)
        return self._receive(self._serial, deadline)

    def _receive(self, serial: int, deadline: float) -> bytes:
        assert self._sock is not None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                msg = f"no response from {self.host}:{self.port} within {self.request_timeout:g}s"
                raise TimeoutError(msg)
            self._sock.settimeout(remaining)
            try:
                data = self._sock.recv(CHUNK_SIZE)
            except TimeoutError:
                msg = f"no response from {self.host}:{self.port} within {self.request_timeout:g}s"
                raise TimeoutError(msg) from None
            if not data:
                msg = f"{self.host}:{self.port} closed the connection before answering"
                raise ConnectionResetError(msg)
            for chunk in self._inflater.decompress(data) if self._inflater else (data,):
                for got, payload in self._decoder.feed(chunk):
                    if got == serial:
                        return payload
