"""Running a small plugin test module through pytester, as a plugin author's CI would."""

from __future__ import annotations

import textwrap

import pytest

__all__ = ["PluginRun"]

HEADER = """
from __future__ import annotations
import pytest
from flume_sdk import *
from flume_testkit import *
from flume_testkit.fakes import RecordingChannelSettings, RecordingSinkSettings
"""


class PluginRun:
    """Writes ``test_plugin.py`` (``HEADER`` + a body) and runs it in-process.

    The testkit registers itself through its pytest11 entry point, so the module
    sees the contract suites exactly as a plugin's own tests do.
    """

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester

    def __call__(self, body: str, *args: str) -> pytest.RunResult:
        self.pytester.makepyfile(test_plugin=HEADER + textwrap.dedent(body))
        # hypothesis' pytest plugin costs about a second per session; these runs do not need it
        return self.pytester.runpytest_inprocess("-p", "no:cacheprovider",
                                                 "-p", "no:hypothesispytest", "-q", *args)

    @staticmethod
    def failed_with(result: pytest.RunResult, promise: str) -> None:
        """At least one test failed, and a failure names ``promise`` (fnmatch pattern)."""
        outcomes = result.parseoutcomes()
        assert outcomes.get("failed", 0) >= 1, result.stdout.str()
        result.stdout.fnmatch_lines([f"*contract broken: {promise}*"])

    @staticmethod
    def passed(result: pytest.RunResult) -> None:
        """Nothing failed and nothing errored."""
        outcomes = result.parseoutcomes()
        assert outcomes.get("failed", 0) == 0 and outcomes.get("errors", 0) == 0, \
            result.stdout.str()


@pytest.fixture
def plugin_run(pytester: pytest.Pytester) -> PluginRun:
    """Run a plugin test module body against the contract suites (needs ``pytester``)."""
    return PluginRun(pytester)
