"""``flume-ng test``: pipeline unit tests through the real command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

FAILING = """\
config = "routing.conf"
agent = "a1"

[[test]]
name = "WARN lines page someone"
source = "r1"
input = [{ body = "2024-05-01T10:00:03Z WARN [db] slow query" },
         { body = "2024-05-01T10:00:04Z ERROR [db] down" }]
dropped = 1
[test.expect.page]
events = [{ headers = { level = "WARN" } }, { headers = { level = "ERROR" } }]
"""


def flume_ng_test(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flume_sdk.cli", "test", *map(str, args)],
                          capture_output=True, text=True, timeout=60, check=False)


def with_routing_conf(tmp_path: Path, test_text: str) -> Path:
    shutil.copy(EXAMPLES / "routing.conf", tmp_path / "routing.conf")
    test_file = tmp_path / "routing.test.toml"
    test_file.write_text(test_text)
    return test_file


def test_shipped_routing_example_passes() -> None:
    done = flume_ng_test(EXAMPLES / "routing.test.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed, 0 failed" in done.stdout
    assert done.stdout.count("  ok  ") == 3


def test_failed_expectation_prints_a_diff_and_exits_1(tmp_path: Path) -> None:
    done = flume_ng_test(with_routing_conf(tmp_path, FAILING))
    assert done.returncode == 1
    assert "FAIL  WARN lines page someone" in done.stdout
    assert "page (channel alerts):" in done.stdout
    assert "-headers={'level': 'WARN'}" in done.stdout
    assert "dropped by the interceptors: expected 1, got 0" in done.stdout
    assert "0 passed, 1 failed" in done.stdout


def test_count_mismatch_lists_what_arrived(tmp_path: Path) -> None:
    text = FAILING.replace('events = [{ headers = { level = "WARN" } }, { headers = { level = "ERROR" } }]',
                           "count = 0").replace("dropped = 1\n", "")
    done = flume_ng_test(with_routing_conf(tmp_path, text))
    assert done.returncode == 1
    assert "page (channel alerts): expected 0 event(s), got 1" in done.stdout
    assert "body='2024-05-01T10:00:04Z ERROR [db] down'" in done.stdout


def test_unknown_expectation_target_exits_2_naming_it(tmp_path: Path) -> None:
    done = flume_ng_test(with_routing_conf(tmp_path, FAILING.replace("expect.page", "expect.pager")))
    assert done.returncode == 2
    assert "expect.pager is neither a channel nor a sink" in done.stderr
    assert "known: alerts, archive, audit, page, store, audit_log" in done.stderr


def test_configuration_error_exits_2_with_file_and_line(tmp_path: Path) -> None:
    test_file = with_routing_conf(tmp_path, FAILING)
    conf = tmp_path / "routing.conf"
    conf.write_text(conf.read_text().replace("selector.type = multiplexing", "selector.type = multiplex"))
    done = flume_ng_test(test_file)
    assert done.returncode == 2
    assert "routing.conf:" in done.stderr
    assert "multiplex" in done.stderr


def test_missing_source_key_exits_2(tmp_path: Path) -> None:
    done = flume_ng_test(with_routing_conf(tmp_path, FAILING.replace('source = "r1"\n', "")))
    assert done.returncode == 2
    assert "test 'WARN lines page someone' needs source = <str>" in done.stderr
