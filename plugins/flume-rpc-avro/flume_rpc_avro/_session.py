"""Server side of one Avro IPC connection: the handshake state and request decoding.

Java's ``Responder`` expects a ``HandshakeRequest`` only until the connection is
"connected" (a ``BOTH`` or ``CLIENT`` match); after that, requests carry none and
responses start with an empty handshake buffer. This class keeps that state for one
TCP connection; a reconnect starts a new session.
"""

from __future__ import annotations

import io
from typing import Any

import attrs

from flume_rpc_avro._protocol import (
    PROTOCOL_MD5,
    AvroStatus,
    HandshakeMatch,
    check_flume_protocol,
    decode_events,
    decode_handshake_request,
    encode_handshake_response,
    encode_response_body,
    read_call_header,
)

__all__ = ["Call", "ServerSession"]

_MESSAGES = frozenset({"append", "appendBatch"})


@attrs.frozen
class Call:
    """One decoded request, ready to execute and answer.

    Attributes:
        handshake: the handshake response buffer to send first (empty once connected).
        message: ``"append"``/``"appendBatch"``; None for a handshake-only reply.
        events: the events of the call, as ``{"headers", "body"}`` dicts.
        error: a system-error message to answer instead of executing (unknown message).
    """

    handshake: bytes
    message: str | None
    events: list[dict[str, Any]] = attrs.field(factory=list)
    error: str | None = None

    def reply(self, status: AvroStatus) -> list[bytes]:
        """The response buffers for this call, answered with ``status`` (or its error)."""
        if self.message is None:
            return [self.handshake]
        return [self.handshake, *encode_response_body(status, self.error)]


class ServerSession:
    """Handshake state of one connection.

    Args:
        known_hashes: client protocol hashes the server accepts; shared by all
            connections of a server and extended when a client sends a compatible text.
    """

    def __init__(self, known_hashes: set[bytes]) -> None:
        self._known = known_hashes
        self.connected = False

    def decode(self, payload: bytes) -> Call:
        """Decode one request payload (the concatenated buffers of one frame).

        Raises:
            AvroRpcError: the payload is malformed.
            ProtocolMismatchError: the client's protocol is not Flume's.
        """
        stream = io.BytesIO(payload)
        handshake = b""
        if not self.connected:
            match = self._handshake(stream)
            handshake = encode_handshake_response(match)
            if match is HandshakeMatch.NONE:
                return Call(handshake, None)
        name = read_call_header(stream)
        if name == "":
            return Call(handshake, None)
        if name not in _MESSAGES:
            return Call(handshake, name, error=f"No such remote message: {name}")
        return Call(handshake, name, decode_events(name, stream))

    def _handshake(self, stream: io.BytesIO) -> HandshakeMatch:
        request = decode_handshake_request(stream)
        if request.client_hash not in self._known:
            if request.client_protocol is None:
                return HandshakeMatch.NONE
            check_flume_protocol(request.client_protocol)
            self._known.add(request.client_hash)
        self.connected = True
        return HandshakeMatch.BOTH if request.server_hash == PROTOCOL_MD5 else HandshakeMatch.CLIENT
