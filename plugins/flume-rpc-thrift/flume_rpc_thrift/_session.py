"""One server-side connection: read frames, decode calls, run the handler, answer in order.

Sans threads and sockets of its own: :class:`ServerSession` is given a connected
(possibly TLS) socket and serves it until the client closes it, or raises for bad
input. Timeouts: ``frame_timeout`` is the deadline for a whole frame, from its first byte
(and for sending an answer), so a client dripping a frame a byte at a time is closed too;
``idle_timeout`` between frames; a client that never completed a frame before
``idle_timeout`` counts as bad input, an idle client that did is closed quietly.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

import attrs

from flume_rpc_thrift._errors import StalledClientError, ThriftRpcError, UnknownMethodError
from flume_rpc_thrift._framing import FrameDecoder, encode_frame
from flume_rpc_thrift._messages import Codec, ThriftStatus
from flume_sdk import Event

__all__ = ["CallHandler", "ServerSession", "SessionLimits"]

_log = logging.getLogger(__name__)
_CHUNK = 256 * 1024

CallHandler = Callable[[str, list[Event]], ThriftStatus]
"""Executes one call (``"append"``/``"appendBatch"``, events) and returns its status."""


@attrs.frozen(kw_only=True)
class SessionLimits:
    """What one connection may do before it is closed."""

    max_frame_size: int
    frame_timeout: float
    idle_timeout: float


class ServerSession:
    """Serve Flume's ThriftSourceProtocol on one connected socket.

    Args:
        sock: the connected socket (TLS already set up).
        peer: ``host:port`` of the client, for messages.
        codec: the configured protocol; the other one is refused.
        limits: frame size and timeouts.
        handler: runs each call.
    """

    def __init__(self, sock: socket.socket, peer: str, codec: Codec, limits: SessionLimits,
                 handler: CallHandler) -> None:
        self._sock = sock
        self._peer = peer
        self._codec = codec
        self._limits = limits
        self._handler = handler
        self.calls = 0

    def run(self) -> None:
        """Serve until the client closes the connection or goes idle.

        Raises:
            ThriftRpcError: bad input; the caller closes the connection and counts it.
            OSError: the connection broke.
        """
        decoder = FrameDecoder(self._limits.max_frame_size)
        deadline: float | None = None  # when the frame being received must be complete
        while True:
            data = self._receive(deadline)
            if data is None:
                return
            for payload in decoder.feed(data):
                deadline = None
                self._send(self._answer(payload))
            if not decoder.has_partial_frame:
                deadline = None
            elif deadline is None:
                deadline = time.monotonic() + self._limits.frame_timeout

    def _receive(self, deadline: float | None) -> bytes | None:
        limits = self._limits
        mid_frame = deadline is not None
        timeout = max(deadline - time.monotonic(), 0.001) if deadline is not None \
            else limits.idle_timeout
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(_CHUNK)
        except TimeoutError:
            if mid_frame:
                msg = (f"stalled Thrift client {self._peer}: a frame not complete within "
                       f"frame-timeout = {limits.frame_timeout:g}s of its first byte")
                raise StalledClientError(msg) from None
            if not self.calls:
                msg = (f"silent Thrift client {self._peer}: no call within "
                       f"{limits.idle_timeout:g}s of connecting (idle-timeout)")
                raise StalledClientError(msg) from None
            _log.debug("closing Thrift connection from %s: idle for %gs", self._peer,
                       limits.idle_timeout)
            return None
        if not data:
            if mid_frame:
                msg = f"truncated Thrift frame: {self._peer} closed the connection mid-frame"
                raise ThriftRpcError(msg)
            return None
        return data

    def _send(self, payload: bytes) -> None:
        self._sock.settimeout(self._limits.frame_timeout)
        try:
            self._sock.sendall(encode_frame(payload))
        except TimeoutError:
            msg = (f"stalled Thrift client {self._peer}: it does not read its answers "
                   f"(frame-timeout {self._limits.frame_timeout:g}s)")
            raise StalledClientError(msg) from None

    def _answer(self, payload: bytes) -> bytes:
        try:
            call = self._codec.decode_call(payload)
        except UnknownMethodError as exc:
            # answer as Thrift servers do, so the client sees why; then close (bad input)
            self._send(self._codec.encode_exception(exc.method, exc.seqid, str(exc)))
            raise
        self.calls += 1
        return self._codec.encode_reply(call.method, call.seqid, self._run(call.method,
                                                                           call.events))

    def _run(self, method: str, events: list[Event]) -> ThriftStatus:
        try:
            return self._handler(method, events)
        except Exception:
            _log.exception("Thrift %s handler failed; answering FAILED", method)
            return ThriftStatus.FAILED
