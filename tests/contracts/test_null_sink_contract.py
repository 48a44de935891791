"""The null sink keeps every sink promise that has something to observe."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import pytest
from flume_testkit import SinkContract

from flume_sdk import Sink
from flume_sdk.components.null_sink import NullSink

__all__ = ["TestNullSinkContract"]

_NOWHERE = "the null sink writes nowhere: there is no destination to observe or break"


class TestNullSinkContract(SinkContract):
    skip_contract: ClassVar[dict[str, str]] = {
        "test_delivers_every_edge_case_event_intact": _NOWHERE,
        "test_commits_only_after_the_write": _NOWHERE,
        "test_failed_write_rolls_back_and_keeps_the_events": _NOWHERE,
        "test_failed_write_is_reported": _NOWHERE,
        "test_delivers_everything_after_the_destination_heals": _NOWHERE,
        "test_outright_refusal_delivers_nothing_twice": _NOWHERE,
    }

    @pytest.fixture
    def make_sink(self) -> Callable[..., Sink]:
        return lambda **overrides: NullSink.from_config("k1", overrides)

    @pytest.fixture
    def delivered(self) -> Callable[[Sink], Sequence[object]]:
        return lambda sink: []
