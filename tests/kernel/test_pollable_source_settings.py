"""Flume's backoffSleepIncrement / maxBackoffSleep reach the runner of every pollable source."""

from __future__ import annotations

import pytest

from flume_sdk import ConfigurationError
from flume_sdk.components.seq_source import SequenceSource
from flume_sdk.components.taildir_source import TaildirSource


def test_seq_takes_the_backoff_keys_in_milliseconds() -> None:
    source = SequenceSource.from_config("r1", {"backoffSleepIncrement": "20",
                                               "maxBackoffSleep": "100"})
    assert (source.backoff_sleep_increment, source.max_backoff_sleep) == (0.02, 0.1)


def test_flume_defaults_are_one_and_five_seconds() -> None:
    source = SequenceSource.from_config("r1", {})
    assert (source.backoff_sleep_increment, source.max_backoff_sleep) == (1.0, 5.0)


def test_taildir_shares_the_declaration() -> None:
    source = TaildirSource.from_config("r1", {"filegroups": "g", "filegroups.g": "/tmp/x.log",
                                              "backoffSleepIncrement": "7"})
    assert source.backoff_sleep_increment == 0.007


def test_a_zero_increment_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigurationError, match="backoffSleepIncrement"):
        SequenceSource.from_config("r1", {"backoffSleepIncrement": "0"})
