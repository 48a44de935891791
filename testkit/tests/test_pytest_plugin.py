"""The pytest11 plugin adds fixtures and nothing else; the fakes import without pytest."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from flume_testkit import FakeClock, RecordingChannel
from flume_testkit import pytest_plugin as plugin

__all__: list[str] = []

pytest_plugins = ["pytester"]


def test_plugin_has_no_autouse_fixtures() -> None:
    for name, value in vars(plugin).items():
        marker = getattr(value, "_fixture_function_marker", None)
        assert marker is None or not marker.autouse, f"{name} is autouse"


def test_plugin_defines_no_hooks() -> None:
    hooks = [n for n, v in vars(plugin).items() if n.startswith("pytest_") and inspect.isfunction(v)]
    assert hooks == []


def test_fakes_clock_and_drivers_import_without_pytest() -> None:
    code = ("import sys, flume_testkit, flume_testkit.drivers, flume_testkit.fakes; "
            "print('pytest' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_fixtures_are_registered(fake_clock: FakeClock,
                                 recording_channel: RecordingChannel) -> None:
    assert recording_channel.lifecycle_state.value == "START" and fake_clock.sleeps == []


def test_a_project_not_using_the_testkit_sees_no_difference(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=1)
