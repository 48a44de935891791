"""The example sink keeps the sink contract from flume-testkit."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from flume_sdk import Event, Sink
from flume_sink_example import JsonLinesSink, read_events
from flume_testkit import SinkContract

__all__ = ["TestJsonLinesSinkContract"]


class TestJsonLinesSinkContract(SinkContract):
    # The one fixture every contract needs: overrides -> configured, unstarted sink.
    @pytest.fixture
    def make_sink(self, tmp_path: Path) -> Callable[..., Sink]:
        def make(**overrides: str) -> Sink:
            props = {"path": str(tmp_path / "out" / "events.jsonl"), **overrides}
            return JsonLinesSink.from_config("k1", props)
        (tmp_path / "out").mkdir()
        return make

    # What the destination holds, so the contract can see what was written and when.
    @pytest.fixture
    def delivered(self) -> Callable[[Sink], list[Event]]:
        return lambda sink: read_events(sink.settings.path)

    # Make writes fail (remove the directory) and succeed again (recreate it).
    @pytest.fixture
    def break_destination(self) -> Callable[[Sink], None]:
        return lambda sink: shutil.rmtree(sink.settings.path.parent)

    @pytest.fixture
    def heal_destination(self) -> Callable[[Sink], None]:
        return lambda sink: sink.settings.path.parent.mkdir()
