"""The command line tells the truth about itself: versions, help with examples, one row per
plugin component with its Flume class names. Through the real ``flume-ng``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flume_sdk import __version__


def flume_ng(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flume_sdk.cli", *args], capture_output=True,
                          text=True, timeout=60)


def test_version_option_prints_the_version() -> None:
    done = flume_ng("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"flume-sdk {__version__}"


@pytest.mark.parametrize("command", ["agent", "validate", "plugins", "version", "new-plugin",
                                     "graph", "test", "top", "avro-client", "channel"])
def test_each_subcommand_help_shows_its_usage_and_an_example(command: str) -> None:
    done = flume_ng(command, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith(f"usage: flume-ng {command}")
    assert f"example:\n  flume-ng {command}" in done.stdout


def test_top_level_help_shows_no_internal_module_paths() -> None:
    text = flume_ng("--help").stdout
    assert ":main" not in text and "provided by" not in text
    assert "send lines of a file, a directory or stdin to an Avro source" in text


def test_plugins_lists_each_component_once_with_its_flume_class_name() -> None:
    lines = flume_ng("plugins").stdout.splitlines()
    rows = [(line[:16].strip(), line[17:].split()[0]) for line in lines if not line.startswith(" ")]
    assert len(rows) == len(set(rows))
    assert ("source", "seq") in rows
    assert not any(name.startswith("org.apache") for _, name in rows)
    seq = next(n for n, line in enumerate(lines) if line.split()[:2] == ["source", "seq"])
    assert "also: org.apache.flume.source.SequenceGeneratorSource" in lines[seq + 1]


def test_plugins_check_text_documents_settings() -> None:
    done = flume_ng("plugins", "--check")
    assert done.returncode == 0, done.stdout[-2000:]
    text = done.stdout
    start = text.index("source           netcat ")
    block = text[start:text.index("\nsource ", start + 1)]
    assert "port (int, required)" in block
    assert "max-line-length (int, default 512)" in block


def test_every_distribution_declares_its_license_as_an_spdx_string() -> None:
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    files = [root / "pyproject.toml", root / "testkit" / "pyproject.toml",
             *sorted(root.glob("plugins/*/pyproject.toml"))]
    for file in files:
        doc = tomllib.loads(file.read_text())
        assert isinstance(doc["project"].get("license"), str), file  # a table is deprecated
        assert any(r.startswith("setuptools>=77") for r in doc["build-system"]["requires"]), file
