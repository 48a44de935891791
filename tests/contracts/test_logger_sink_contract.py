"""The logger sink keeps every sink promise it can: its destination is the log."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import ClassVar

import pytest
from flume_testkit import LogRecorder, SinkContract

from flume_sdk import Sink
from flume_sdk.components.logger_sink import LoggerSink

__all__ = ["TestLoggerSinkContract"]

_CANNOT_FAIL = "the logger sink writes to Python logging, which never reports a failed write"


class TestLoggerSinkContract(SinkContract):
    skip_contract: ClassVar[dict[str, str]] = {
        "test_failed_write_rolls_back_and_keeps_the_events": _CANNOT_FAIL,
        "test_failed_write_is_reported": _CANNOT_FAIL,
        "test_delivers_everything_after_the_destination_heals": _CANNOT_FAIL,
        "test_outright_refusal_delivers_nothing_twice": _CANNOT_FAIL,
    }

    @pytest.fixture
    def event_log(self) -> Iterator[LogRecorder]:
        with LogRecorder("flume_sdk.sink.logger", logging.INFO) as recorder:
            yield recorder

    @pytest.fixture
    def make_sink(self, event_log: LogRecorder) -> Callable[..., Sink]:
        return lambda **overrides: LoggerSink.from_config("k1", overrides)

    @pytest.fixture
    def delivered(self, event_log: LogRecorder) -> Callable[[Sink], Sequence[str]]:
        return lambda sink: [m for m in event_log.messages() if m.startswith("Event: {")]
