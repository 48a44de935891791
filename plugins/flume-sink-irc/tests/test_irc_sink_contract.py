"""The IRC sink keeps the testkit's sink contract against a real ngircd."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flume_sink_irc import IrcSink
from flume_testkit import SinkContract
from flume_testkit.servers.ircd import IrcListener, Ngircd

from flume_sdk import Sink


class TestIrcSinkContract(SinkContract):
    skip_contract = {
        "test_delivers_every_edge_case_event_intact":
            "IRC carries text lines, not events: headers are not sent (as in Flume), an empty "
            "body sends nothing, a body with line breaks or over 400 bytes becomes several "
            "messages; test_irc_sink.py checks each edge case's messages instead",
    }

    @pytest.fixture
    def make_sink(self, make_irc_sink: Callable[..., IrcSink]) -> Callable[..., Sink]:
        return make_irc_sink

    @pytest.fixture
    def delivered(self, listener: IrcListener) -> Callable[[Sink], list[str]]:
        return lambda sink: listener.sync()

    @pytest.fixture
    def break_destination(self, ngircd: Ngircd) -> Callable[[Sink], None]:
        return lambda sink: ngircd.stop()

    @pytest.fixture
    def heal_destination(self, ngircd: Ngircd,
                         listener: IrcListener) -> Callable[[Sink], None]:
        def heal(sink: Sink) -> None:
            ngircd.start_and_wait()
            listener.close()
            listener.connect()
        return heal
