"""``flume-ng validate`` predicts the start: the same preflight, every error at once, sorted,
each with ``file:line``; the agent refuses to start on them. Through the real CLI."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from flume_sdk import ConfigurationError, parse_settings, setting


def flume_ng(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flume_sdk.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def _start_problems(tmp_path: Path, port: int) -> Path:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    conf = tmp_path / "start.conf"
    conf.write_text(f"""\
a1.sources = r1 r2
a1.channels = c1
a1.sinks = k1 k2
a1.sources.r1.type = spooldir
a1.sources.r1.spoolDir = {tmp_path}/missing
a1.sources.r1.channels = c1
a1.sources.r2.type = netcat
a1.sources.r2.bind = 127.0.0.1
a1.sources.r2.port = {port}
a1.sources.r2.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = file_roll
a1.sinks.k1.sink.directory = ${{env:OUT_DIR_NOT_SET_ANYWHERE}}/x
a1.sinks.k1.channel = c1
a1.sinks.k2.type = file_roll
a1.sinks.k2.sink.directory = {blocker}/sub
a1.sinks.k2.channel = c1
""")
    return conf


def _expected(conf: Path) -> list[str]:
    return [f"{conf}:5: a1.sources.r1.spoolDir: directory",
            f"{conf}:9: a1.sources.r2.port: cannot bind TCP 127.0.0.1:",
            f"{conf}:13: a1.sinks.k1.sink.directory: ${{env:OUT_DIR_NOT_SET_ANYWHERE}} cannot be "
            "resolved: environment variable 'OUT_DIR_NOT_SET_ANYWHERE' is not set",
            f"{conf}:16: a1.sinks.k2.sink.directory: directory"]


def _error_lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.startswith("  ")
            and not line.strip().startswith("warning:")]


def test_validate_reports_every_start_problem_at_once_sorted_by_line(
        tmp_path: Path, busy_port: int) -> None:
    conf = _start_problems(tmp_path, busy_port)
    done = flume_ng("validate", "-f", str(conf))
    assert done.returncode == 1
    lines = _error_lines(done.stderr)
    assert len(lines) == 4, done.stderr
    for line, start in zip(lines, _expected(conf), strict=True):
        assert line.startswith(start), (line, start)
    assert "it is in use" in lines[1]


def test_agent_refuses_to_start_on_the_same_problems(tmp_path: Path, busy_port: int) -> None:
    conf = _start_problems(tmp_path, busy_port)
    done = flume_ng("agent", "-n", "a1", "-f", str(conf), "--no-reload-conf")
    assert done.returncode == 1
    assert "nothing started" in done.stderr
    for start in _expected(conf):
        assert start in done.stderr


def test_validate_accepts_conf_dir_like_agent(tmp_path: Path) -> None:
    (tmp_path / "ok.conf").write_text(
        "a1.sources = r1\na1.channels = c1\na1.sinks = k1\na1.sources.r1.type = seq\n"
        "a1.sources.r1.channels = c1\na1.channels.c1.type = memory\na1.sinks.k1.type = null\n"
        "a1.sinks.k1.channel = c1\n")
    done = flume_ng("validate", "-c", str(tmp_path), "-f", "ok.conf", cwd=tmp_path.parent)
    assert done.returncode == 0, done.stderr
    assert "agent a1: OK" in done.stdout


def test_every_error_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("""\
a1.sources = r1
a1.channels = c1
a1.sinks = k1 k2
a1.sources.r1.type = seqq
a1.sources.r1.channels = c1
a1.sources.r1.interceptor = i1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10
a1.channels.c1.transactionCapacity = 100
a1.sinks.k1.type = null
a1.sinks.k1.channel = c2
a1.sinkgroups = g1
a1.sinkgroups.g1.sinks = k1
a1.sinkgroups.g1.processor.type = failover
a1.sinkgroups.g1.procesor.maxpenalty = 10
a1.sinkgroups.g1.policy.backoff = true
a1.sinks.k2.type = hive
a1.sinks.k2.channel = c1
""")
    done = flume_ng("validate", "-f", str(conf))
    assert done.returncode == 1
    lines = _error_lines(done.stderr)
    expected = [
        (4, "a1.sources.r1.type", "did you mean 'seq'?"),
        (6, "a1.sources.r1.interceptor", "did you mean 'interceptors'?"),
        (9, "a1.channels.c1.transactionCapacity", "raise capacity to at least 100"),
        (11, "a1.sinks.k1.channel", "defined channels: c1"),
        (15, "a1.sinkgroups.g1.procesor.maxpenalty", "did you mean 'processor.maxpenalty'?"),
        (16, "a1.sinkgroups.g1.policy.backoff", "a sink group's keys are sinks and processor.*"),
        (17, "a1.sinks.k2.type", "is not available in flume-sdk"),
    ]
    assert len(lines) == len(expected), done.stderr
    for line, (number, key, hint) in zip(lines, expected, strict=True):
        assert line.startswith(f"{conf}:{number}: {key}:") and hint in line, line
    assert "did you mean" not in lines[-1]


def test_bare_reference_resolves_from_a_second_file_and_fails_without_it(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text("a1.sources = r1\na1.channels = c1\na1.sinks = k1\n"
                    "a1.sources.r1.type = netcat\na1.sources.r1.bind = ${DEV_BIND}\n"
                    "a1.sources.r1.port = 0\na1.sources.r1.channels = c1\n"
                    "a1.channels.c1.type = memory\na1.sinks.k1.type = null\n"
                    "a1.sinks.k1.channel = c1\n")
    extra = tmp_path / "env.conf"
    extra.write_text("DEV_BIND = ${${sys:stage}_HOST}\nDEV_HOST = 127.0.0.1\n")
    assert flume_ng("validate", "-f", str(conf), "-f", str(extra), "-Dstage=DEV").returncode == 0
    alone = flume_ng("validate", "-f", str(conf))
    assert alone.returncode == 1
    assert f"{conf}:5: a1.sources.r1.bind: ${{DEV_BIND}} cannot be resolved" in alone.stderr


def test_file_without_agents_and_empty_values_are_reported(tmp_path: Path) -> None:
    conf = tmp_path / "none.conf"
    conf.write_text("something =\nsomething_else = value\n")
    done = flume_ng("validate", "-f", str(conf))
    assert done.returncode == 1
    assert f"{conf}:1: something: has an empty value (Flume: PROPERTY_VALUE_NULL)" in done.stderr
    assert f"{conf}:2: something_else: names no agent (Flume: AGENT_NAME_MISSING)" in done.stderr
    assert "no agent is configured" in done.stderr


@attrs.frozen(kw_only=True)
class _WithSecret:
    keystore_password: int = setting("keystore-password", default=0)
    batch_size: int = setting(default=1)


def test_values_of_secret_keys_are_never_echoed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(_WithSecret, {"keystore-password": "TopSecretNUM", "batchSize": "x1"})
    text = str(caught.value)
    assert "TopSecretNUM" not in text and "(value hidden)" in text
    assert "'x1'" in text


def test_plugin_components_run_the_preflight_too(tmp_path: Path, busy_port: int) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    conf = tmp_path / "plugins.conf"
    conf.write_text(f"""\
a1.sources = r1 r2
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = multiport_syslogtcp
a1.sources.r1.host = 127.0.0.1
a1.sources.r1.ports = {busy_port}
a1.sources.r1.channels = c1
a1.sources.r2.type = avro
a1.sources.r2.bind = 127.0.0.1
a1.sources.r2.port = {busy_port}
a1.sources.r2.channels = c1
a1.channels.c1.type = file
a1.channels.c1.checkpointDir = {tmp_path}/checkpoint
a1.channels.c1.dataDirs = {blocker}/data
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
""")
    done = flume_ng("validate", "-f", str(conf))
    assert done.returncode == 1
    lines = _error_lines(done.stderr)
    assert [line.split(": ")[1] for line in lines] == [
        "a1.sources.r1.ports", "a1.sources.r2.port", "a1.channels.c1.dataDirs"], lines
    assert f"{conf}:6:" in lines[0] and f"{conf}:14:" in lines[2]


def test_agent_refuses_an_empty_value_outside_any_agent_as_validate_does(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text("something =\na1.sources = r1\na1.channels = c1\na1.sinks = k1\n"
                    "a1.sources.r1.type = seq\na1.sources.r1.channels = c1\n"
                    "a1.channels.c1.type = memory\na1.sinks.k1.type = null\n"
                    "a1.sinks.k1.channel = c1\n")
    assert flume_ng("validate", "-f", str(conf)).returncode == 1
    done = flume_ng("agent", "-n", "a1", "-f", str(conf), "--no-reload-conf")
    assert done.returncode == 1
    assert f"{conf}:1: something: has an empty value (Flume: PROPERTY_VALUE_NULL)" in done.stderr
