"""The http sink keeps every sink promise against a real HTTP server on 127.0.0.1.

Two shapes: Flume's one POST per event (bodies only, as Flume sends them), and the opt-in
batched JSON array carrying every event's headers and body (base64), which is checked
event for event. The server answers 200 while healthy and 503 while "broken"; the sink
is configured as Flume's guide shows (``rollback.2XX = false``, 5XX rolled back).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import pytest
from flume_testkit import SinkContract
from flume_testkit.servers.http_peer import HttpPeer, running_http_peer

from flume_sdk import Event, Sink
from flume_sdk.components.http_sink import HttpSink

__all__ = ["TestHttpSinkBatchedContract", "TestHttpSinkContract"]

FLUME_GUIDE = {"rollback.2XX": "false", "backoff.2XX": "false", "incrementMetrics.2XX": "true"}


@pytest.fixture
def peer() -> Iterator[HttpPeer]:
    with running_http_peer() as started:
        yield started


def _break(peer: HttpPeer) -> Callable[[Sink], None]:
    def set_503(sink: Sink) -> None:
        peer.status = 503
    return set_503


def _heal(peer: HttpPeer) -> Callable[[Sink], None]:
    def set_200(sink: Sink) -> None:
        peer.status = 200
    return set_200


class TestHttpSinkContract(SinkContract):
    skip_contract: ClassVar[dict[str, str]] = {
        "test_delivers_every_edge_case_event_intact":
            "Flume's http sink sends only the body and consumes an empty event without a "
            "request; the batched shape below checks every edge case intact",
    }

    @pytest.fixture
    def make_sink(self, peer: HttpPeer) -> Callable[..., Sink]:
        return lambda **overrides: HttpSink.from_config(
            "k1", {"endpoint": peer.url("/flume"), **FLUME_GUIDE, **overrides})

    @pytest.fixture
    def delivered(self, peer: HttpPeer) -> Callable[[Sink], Sequence[Any]]:
        return lambda sink: [r.body for r in peer.accepted()]

    @pytest.fixture
    def break_destination(self, peer: HttpPeer) -> Callable[[Sink], None]:
        return _break(peer)

    @pytest.fixture
    def heal_destination(self, peer: HttpPeer) -> Callable[[Sink], None]:
        return _heal(peer)


def _decoded(body: bytes) -> list[Event]:
    return [Event(base64.b64decode(r["body"]), r["headers"]) for r in json.loads(body)]


class TestHttpSinkBatchedContract(SinkContract):
    @pytest.fixture
    def make_sink(self, peer: HttpPeer) -> Callable[..., Sink]:
        return lambda **overrides: HttpSink.from_config("k1", {
            "endpoint": peer.url("/flume"), **FLUME_GUIDE, "batchSize": "100",
            "batchFormat": "json", "batchBodyEncoding": "base64", **overrides})

    @pytest.fixture
    def delivered(self, peer: HttpPeer) -> Callable[[Sink], Sequence[Any]]:
        return lambda sink: [e for r in peer.accepted() for e in _decoded(r.body)]

    @pytest.fixture
    def break_destination(self, peer: HttpPeer) -> Callable[[Sink], None]:
        return _break(peer)

    @pytest.fixture
    def heal_destination(self, peer: HttpPeer) -> Callable[[Sink], None]:
        return _heal(peer)
