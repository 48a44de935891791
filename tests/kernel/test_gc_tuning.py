"""The agent's garbage-collector setting."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from flume_sdk._gc_tuning import DEFAULT_GC_THRESHOLD, tune_garbage_collector


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_first_generation_threshold_is_raised() -> None:
    tune_garbage_collector()
    assert gc.get_threshold()[0] == DEFAULT_GC_THRESHOLD


def test_zero_leaves_pythons_setting() -> None:
    gc.set_threshold(700, 10, 10)
    tune_garbage_collector(0)
    assert gc.get_threshold() == (700, 10, 10)
