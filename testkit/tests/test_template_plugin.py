"""The copy-me plugin in plugins/_template registers a sink and passes its contract.

Installing it into a fresh venv needs a build backend download, so these tests
stay in-process instead: the entry point declared in its pyproject.toml is
resolved with the template directory on ``sys.path``, and its own test module
runs under pytester. (``pip install --no-deps ./plugins/_template`` builds it;
see the testkit README.)
"""

from __future__ import annotations

import importlib
import shutil
import tomllib
from pathlib import Path

import pytest

from flume_sdk import Sink

__all__: list[str] = []

pytest_plugins = ["pytester"]

TEMPLATE = Path(__file__).resolve().parents[2] / "plugins" / "_template"


def _entry_points() -> dict[str, str]:
    project = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())["project"]
    return dict(project["entry-points"]["flume_sdk.sinks"])


def test_template_declares_one_sink_entry_point() -> None:
    assert list(_entry_points()) == ["example"]


def test_template_entry_point_resolves_to_a_sink_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(TEMPLATE))
    module_name, _, class_name = _entry_points()["example"].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert isinstance(cls, type) and issubclass(cls, Sink)


def test_template_passes_its_sink_contract(pytester: pytest.Pytester) -> None:
    shutil.copytree(TEMPLATE / "tests", pytester.path / "tests")
    pytester.syspathinsert(TEMPLATE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                          "-q", "tests")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 10 and not outcomes.get("failed"), result.stdout.str()
