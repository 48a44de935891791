"""One blocking client connection to a Thrift source: framed calls, answers checked.

Each call sends one frame and waits for the frame that answers it, checking the
method name and seqid. Any failure leaves the stream in an unknown state, so the
owner closes the connection and opens a new one for the next call.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Sequence

from flume_rpc_thrift._errors import DeliveryFailedError, ThriftRpcError
from flume_rpc_thrift._framing import FrameDecoder, encode_frame
from flume_rpc_thrift._messages import Codec, HasHeadersAndBody, ThriftStatus

__all__ = ["ThriftConnection"]

_CHUNK = 64 * 1024


class ThriftConnection:
    """A connected socket speaking ThriftSourceProtocol as a client.

    Use :meth:`open`; then :meth:`call` any number of times; then :meth:`close`.
    """

    def __init__(self, sock: socket.socket, address: str, codec: Codec) -> None:
        self._sock = sock
        self.address = address
        self._codec = codec
        self._seqid = 0
        self._decoder = FrameDecoder()
        self.opened_at = time.monotonic()

    @classmethod
    def open(cls, host: str, port: int, codec: Codec, *, timeout: float,
             ssl_context: ssl.SSLContext | None = None) -> ThriftConnection:
        """Connect (and shake hands for TLS) within ``timeout`` seconds."""
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if ssl_context is not None:
                sock = ssl_context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        return cls(sock, f"{host}:{port}", codec)

    def close(self) -> None:
        """Close the socket; idempotent."""
        self._sock.close()

    def closed_by_peer(self) -> bool:
        """True when the server closed this idle connection (EOF or data is pending)."""
        if self._sock.fileno() < 0:
            return True
        if isinstance(self._sock, ssl.SSLSocket) and self._sock.pending():
            return True
        readable, _, _ = select.select([self._sock], [], [], 0)
        return bool(readable)

    def call(self, method: str, events: Sequence[HasHeadersAndBody], timeout: float) -> None:
        """Send ``append`` or ``appendBatch`` and wait for ``OK``.

        Raises:
            DeliveryFailedError: the source answered another status or an exception.
            ThriftRpcError: the answer is not a valid reply to this call.
            OSError: sending or receiving failed; TimeoutError after ``timeout`` seconds.
        """
        self._seqid = (self._seqid + 1) & 0x7FFFFFFF
        deadline = time.monotonic() + timeout
        payload = self._codec.encode_call(method, self._seqid, events)
        self._sock.settimeout(timeout)
        self._sock.sendall(encode_frame(payload))
        reply = self._codec.decode_reply(self._receive(deadline, timeout))
        if reply.method != method or reply.seqid != self._seqid:
            msg = (f"{self.address} answered {reply.method!r} seqid {reply.seqid} to "
                   f"{method!r} seqid {self._seqid}")
            raise ThriftRpcError(msg)
        if reply.status is not ThriftStatus.OK:
            what = reply.exception or (reply.status.name if reply.status is not None else "?")
            msg = f"Thrift source {self.address} refused the {method} call: {what}"
            raise DeliveryFailedError(msg, status=reply.status)

    def _receive(self, deadline: float, timeout: float) -> bytes:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer from {self.address} within {timeout:g}s")
            self._sock.settimeout(remaining)
            try:
                data = self._sock.recv(_CHUNK)
            except TimeoutError:
                raise TimeoutError(f"no answer from {self.address} within {timeout:g}s") from None
            if not data:
                msg = f"{self.address} closed the connection before answering"
                raise ConnectionResetError(msg)
            frames = self._decoder.feed(data)
            if frames:
                if len(frames) > 1:
                    raise ThriftRpcError(f"{self.address} sent {len(frames)} answers to one call")
                return frames[0]
