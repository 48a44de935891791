"""Flume's ``AvroSourceProtocol``: its JSON text, MD5, and the Avro IPC message encoding.

The protocol text is the exact compact JSON that Java Avro produces from Flume's
``flume.avdl`` (licence comment included as ``doc``), so its MD5 equals the one Java
Flume agents send in their handshakes and the handshake answers ``BOTH`` at once.

Message layout (Avro IPC, binary encoding), see ``reference/flume-rpc.md`` §1.2:
request = [HandshakeRequest] + meta map<bytes> + message name + parameters;
response = [HandshakeResponse] + meta map<bytes> + error flag + Status or error string.
"""

from __future__ import annotations

import enum
import hashlib
import io
import json
from collections.abc import Sequence
from typing import Any, BinaryIO

import attrs
import fastavro

from flume_rpc_avro._errors import AvroRpcError, ProtocolMismatchError

__all__ = [
    "PROTOCOL_JSON",
    "PROTOCOL_MD5",
    "AvroStatus",
    "HandshakeMatch",
    "HandshakeRequest",
    "HandshakeResponse",
    "RpcResponse",
    "check_flume_protocol",
    "decode_events",
    "decode_handshake_request",
    "decode_handshake_response",
    "decode_response_body",
    "encode_call",
    "encode_handshake_request",
    "encode_handshake_response",
    "encode_response_body",
    "read_call_header",
    "read_event",
    "read_event_batch",
    "write_long",
]

_LICENCE = "\n".join(
    [
        "* Licensed to the Apache Software Foundation (ASF) under one",
        " * or more contributor license agreements.  See the NOTICE file",
        " * distributed with this work for additional information",
        " * regarding copyright ownership.  The ASF licenses this file",
        " * to you under the Apache License, Version 2.0 (the",
        ' * "License"); you may not use this file except in compliance',
        " * with the License.  You may obtain a copy of the License at",
        " *",
        " * http://www.apache.org/licenses/LICENSE-2.0",
        " *",
        " * Unless required by applicable law or agreed to in writing,",
        " * software distributed under the License is distributed on an",
        ' * "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY',
        " * KIND, either express or implied.  See the License for the",
        " * specific language governing permissions and limitations",
        " * under the License.",
    ]
)

_EVENT_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "AvroFlumeEvent",
    "fields": [
        {"name": "headers", "type": {"type": "map", "values": "string"}},
        {"name": "body", "type": "bytes"},
    ],
}

_PROTOCOL: dict[str, Any] = {
    "protocol": "AvroSourceProtocol",
    "namespace": "org.apache.flume.source.avro",
    "doc": _LICENCE,
    "types": [
        {"type": "enum", "name": "Status", "symbols": ["OK", "FAILED", "UNKNOWN"]},
        _EVENT_SCHEMA,
    ],
    "messages": {
        "append": {"request": [{"name": "event", "type": "AvroFlumeEvent"}], "response": "Status"},
        "appendBatch": {
            "request": [
                {"name": "events", "type": {"type": "array", "items": "AvroFlumeEvent"}}
            ],
            "response": "Status",
        },
    },
}

PROTOCOL_JSON: str = json.dumps(_PROTOCOL, separators=(",", ":"))
"""The protocol text exactly as Java Avro re-serialises Flume's IDL."""

PROTOCOL_MD5: bytes = hashlib.md5(PROTOCOL_JSON.encode("utf-8")).digest()
"""``86aadae2c45474c0fe93ffd0f2350a65``: what Java Flume sends as clientHash/serverHash."""

_EVENT = fastavro.parse_schema(dict(_EVENT_SCHEMA, namespace="org.apache.flume.source.avro"))
_EVENT_ARRAY = fastavro.parse_schema(
    {"type": "array", "items": dict(_EVENT_SCHEMA, namespace="org.apache.flume.source.avro")}
)
_META = fastavro.parse_schema({"type": "map", "values": "bytes"})
_STRING = fastavro.parse_schema("string")
_MD5 = {"type": "fixed", "name": "MD5", "size": 16}
_HANDSHAKE_REQUEST = fastavro.parse_schema(
    {
        "type": "record",
        "name": "HandshakeRequest",
        "namespace": "org.apache.avro.ipc",
        "fields": [
            {"name": "clientHash", "type": _MD5},
            {"name": "clientProtocol", "type": ["null", "string"]},
            {"name": "serverHash", "type": "MD5"},
            {"name": "meta", "type": ["null", {"type": "map", "values": "bytes"}]},
        ],
    }
)
_HANDSHAKE_RESPONSE = fastavro.parse_schema(
    {
        "type": "record",
        "name": "HandshakeResponse",
        "namespace": "org.apache.avro.ipc",
        "fields": [
            {
                "name": "match",
                "type": {
                    "type": "enum",
                    "name": "HandshakeMatch",
                    "symbols": ["BOTH", "CLIENT", "NONE"],
                },
            },
            {"name": "serverProtocol", "type": ["null", "string"]},
            {"name": "serverHash", "type": ["null", _MD5]},
            {"name": "meta", "type": ["null", {"type": "map", "values": "bytes"}]},
        ],
    }
)


class AvroStatus(enum.IntEnum):
    """Flume's ``Status`` enum; the value is the index on the wire."""

    OK = 0
    FAILED = 1
    UNKNOWN = 2


class HandshakeMatch(enum.IntEnum):
    """Avro's ``HandshakeMatch`` enum; the value is the index on the wire."""

    BOTH = 0
    CLIENT = 1
    NONE = 2


@attrs.frozen
class HandshakeRequest:
    """A decoded ``org.apache.avro.ipc.HandshakeRequest``."""

    client_hash: bytes
    client_protocol: str | None
    server_hash: bytes


@attrs.frozen
class HandshakeResponse:
    """A decoded ``org.apache.avro.ipc.HandshakeResponse``."""

    match: HandshakeMatch
    server_protocol: str | None
    server_hash: bytes | None


@attrs.frozen
class RpcResponse:
    """The part of a response after the handshake: a status, or a remote error message."""

    status: AvroStatus | None
    error: str | None = None


def write_long(out: bytearray, value: int) -> None:
    """Append ``value`` as an Avro zig-zag varint to ``out``."""
    n = (value << 1) ^ (value >> 63)
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _write_string(out: bytearray, text: str) -> None:
    raw = text.encode("utf-8")
    write_long(out, len(raw))
    out += raw


def _read(stream: BinaryIO, schema: Any, what: str) -> Any:
    """Read one datum, turning every decoder failure into ``AvroRpcError``."""
    try:
        return fastavro.schemaless_reader(stream, schema, None)
    except (EOFError, ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError) as exc:
        msg = f"malformed Avro RPC message: cannot decode the {what} ({type(exc).__name__}: {exc})"
        raise AvroRpcError(msg) from exc


def encode_handshake_request(client_protocol: str | None, server_hash: bytes) -> bytes:
    """Encode the handshake a client sends first on a new connection (meta = empty map)."""
    out = bytearray(PROTOCOL_MD5)
    if client_protocol is None:
        out.append(0)
    else:
        out.append(2)
        _write_string(out, client_protocol)
    out += server_hash
    out += b"\x02\x00"
    return bytes(out)


def decode_handshake_request(stream: BinaryIO) -> HandshakeRequest:
    """Read a ``HandshakeRequest`` from ``stream``."""
    raw = _read(stream, _HANDSHAKE_REQUEST, "handshake request")
    return HandshakeRequest(raw["clientHash"], raw["clientProtocol"], raw["serverHash"])


def encode_handshake_response(match: HandshakeMatch) -> bytes:
    """Encode the server's handshake answer; any match but BOTH carries the protocol and hash."""
    if match is HandshakeMatch.BOTH:
        return b"\x00\x00\x00\x00"
    out = bytearray()
    write_long(out, int(match))
    out.append(2)
    _write_string(out, PROTOCOL_JSON)
    out.append(2)
    out += PROTOCOL_MD5
    out.append(0)
    return bytes(out)


def decode_handshake_response(stream: BinaryIO) -> HandshakeResponse:
    """Read a ``HandshakeResponse`` from ``stream``."""
    raw = _read(stream, _HANDSHAKE_RESPONSE, "handshake response")
    return HandshakeResponse(HandshakeMatch[raw["match"]], raw["serverProtocol"], raw["serverHash"])


def encode_call(message: str, events: Sequence[dict[str, Any]]) -> tuple[bytes, bytes]:
    """Encode call metadata + name, and the parameters, of ``append`` or ``appendBatch``.

    Args:
        message: ``"append"`` (exactly one event) or ``"appendBatch"``.
        events: events as ``{"headers": dict[str, str], "body": bytes}``.

    Returns:
        The two buffers Java's client sends: [meta + name] and [parameters].
    """
    head = bytearray(b"\x00")
    _write_string(head, message)
    params = io.BytesIO()
    if message == "append":
        fastavro.schemaless_writer(params, _EVENT, events[0])
    else:
        fastavro.schemaless_writer(params, _EVENT_ARRAY, events)
    return bytes(head), params.getvalue()


def read_call_header(stream: BinaryIO) -> str:
    """Read the call metadata and return the message name."""
    _read(stream, _META, "call metadata")
    name: str = _read(stream, _STRING, "message name")
    return name


def read_event_batch(stream: BinaryIO) -> list[dict[str, Any]]:
    """Read the ``appendBatch`` parameter: an array of ``AvroFlumeEvent``."""
    events: list[dict[str, Any]] = _read(stream, _EVENT_ARRAY, "appendBatch events")
    return events


def read_event(stream: BinaryIO) -> dict[str, Any]:
    """Read the ``append`` parameter: one ``AvroFlumeEvent``."""
    event: dict[str, Any] = _read(stream, _EVENT, "append event")
    return event


def decode_events(message: str, stream: BinaryIO) -> list[dict[str, Any]]:
    """Read the parameters of ``message`` as a list of event dicts."""
    if message == "appendBatch":
        return read_event_batch(stream)
    return [read_event(stream)]


_OK_BODY = b"\x00\x00\x00"


def encode_response_body(
    status: AvroStatus | None, error: str | None = None
) -> tuple[bytes, bytes]:
    """Encode [response metadata] and [error flag + value], as Java's server buffers them."""
    if error is None:
        assert status is not None
        return b"\x00", bytes((0, int(status) * 2))
    out = bytearray(b"\x01\x00")  # error flag true, union branch 0 = string (system error)
    _write_string(out, error)
    return b"\x00", bytes(out)


def decode_response_body(stream: BinaryIO) -> RpcResponse:
    """Read response metadata, the error flag and the Status (or the error string)."""
    _read(stream, _META, "response metadata")
    flag = stream.read(1)
    if flag == b"\x00":
        index = _read(stream, "long", "response status")
        if index not in (0, 1, 2):
            msg = f"malformed Avro RPC response: Status index must be 0, 1 or 2, got {index}"
            raise AvroRpcError(msg)
        return RpcResponse(AvroStatus(index))
    if flag == b"\x01":
        _read(stream, "long", "error union branch")
        return RpcResponse(None, _read(stream, _STRING, "error message"))
    msg = f"malformed Avro RPC response: error flag must be 00 or 01, got {flag.hex() or 'nothing'}"
    raise AvroRpcError(msg)


def _shape(schema: Any, names: dict[str, Any]) -> Any:
    """A comparable structural form of an Avro schema (names resolved, docs ignored)."""
    if isinstance(schema, str):
        short = schema.rsplit(".", 1)[-1]
        return _shape(names[short], names) if short in names else schema
    if isinstance(schema, list):
        return ["union", *[_shape(s, names) for s in schema]]
    kind = schema.get("type")
    if kind == "record":
        return ["record", [(f["name"], _shape(f["type"], names)) for f in schema["fields"]]]
    if kind == "enum":
        return ["enum", list(schema["symbols"])]
    if kind == "map":
        return ["map", _shape(schema["values"], names)]
    if kind == "array":
        return ["array", _shape(schema["items"], names)]
    if kind == "fixed":
        return ["fixed", schema["size"]]
    return _shape(kind, names)


def _message_shapes(protocol: dict[str, Any]) -> dict[str, Any]:
    names = {t["name"].rsplit(".", 1)[-1]: t for t in protocol.get("types", [])}
    shapes = {}
    for name in ("append", "appendBatch"):
        message = protocol["messages"][name]
        request = [_shape(p["type"], names) for p in message["request"]]
        shapes[name] = (request, _shape(message["response"], names))
    return shapes


_OUR_SHAPES = _message_shapes(_PROTOCOL)


def check_flume_protocol(protocol_text: str) -> None:
    """Check that ``protocol_text`` encodes ``append``/``appendBatch`` exactly like Flume's.

    Raises:
        ProtocolMismatchError: the text is not JSON, or its messages differ.
    """
    try:
        theirs = _message_shapes(json.loads(protocol_text))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        msg = (
            "handshake names a different Avro protocol: expected Flume's AvroSourceProtocol "
            f"with append/appendBatch, got one without them ({type(exc).__name__}: {exc})"
        )
        raise ProtocolMismatchError(msg) from exc
    if theirs != _OUR_SHAPES:
        msg = (
            "handshake names a different Avro protocol: its append/appendBatch messages do not "
            "match Flume's AvroSourceProtocol; point this client at an Avro RPC endpoint "
            "that speaks that protocol"
        )
        raise ProtocolMismatchError(msg)
