"""``flume-ng new-plugin sink NAME`` writes a distribution that registers its sink and passes its contract.

Installing the result into a fresh venv needs a build backend download, so these tests stay
in-process: the entry point declared in the generated pyproject.toml is resolved with the
new directory on ``sys.path``, and its own test module runs under pytester.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from flume_sdk import Sink
from flume_sdk.cli import main

__all__: list[str] = []

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("plugins")
    assert main(["new-plugin", "sink", "my_thing", "-d", str(parent)]) == 0
    return parent / "flume-sink-my-thing"


def _entry_points(directory: Path) -> dict[str, str]:
    project = tomllib.loads((directory / "pyproject.toml").read_text())["project"]
    return dict(project["entry-points"]["flume_sdk.sinks"])


def test_generated_distribution_declares_its_sink_under_the_name(generated: Path) -> None:
    project = tomllib.loads((generated / "pyproject.toml").read_text())["project"]
    assert project["name"] == "flume-sink-my-thing"
    assert _entry_points(generated) == {"my_thing": "flume_sink_my_thing:MyThingSink"}
    assert (generated / "flume_sink_my_thing" / "py.typed").exists()


def test_generated_entry_point_resolves_to_a_sink_class(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(generated))
    module_name, _, class_name = _entry_points(generated)["my_thing"].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert isinstance(cls, type) and issubclass(cls, Sink)


def test_generated_plugin_passes_its_sink_contract(
    generated: Path, pytester: pytest.Pytester
) -> None:
    shutil.copytree(generated / "tests", pytester.path / "tests")
    pytester.syspathinsert(generated)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                          "-q", "tests")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 15 and not outcomes.get("failed"), result.stdout.str()


def test_generated_code_is_lint_clean(generated: Path) -> None:
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                          cwd=generated, capture_output=True, text=True, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_existing_directory_is_refused(
    generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-plugin", "sink", "my_thing", "-d", str(generated.parent)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_a_name_that_cannot_be_a_package_is_refused_with_an_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-plugin", "sink", "My-Thing", "-d", str(tmp_path)]) == 2
    assert "e.g. 'mything'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
