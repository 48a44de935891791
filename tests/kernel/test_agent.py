"""The agent runtime: start order, reload keeping committed events, rejecting bad reloads."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flume_testkit.servers import wait_until

from flume_sdk import ConfigurationError
from flume_sdk._agent import Agent

CONF = """\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = {total}
a1.sources.r1.batchSize = 10
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
"""


def test_agent_runs_seq_to_null_and_counts(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text(CONF.format(total=500))
    agent = Agent("a1", [conf])
    agent.start()
    try:
        assert agent.pipeline is not None
        sink = agent.pipeline.sinks["k1"]
        wait_until(lambda: sink.counter.get("EventDrainSuccessCount") == 500)
    finally:
        agent.stop()
    assert agent.pipeline is None


def test_agent_with_config_error_starts_nothing(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text(CONF.format(total=5).replace("type = null", "type = nul"))
    agent = Agent("a1", [conf])
    with pytest.raises(ConfigurationError, match="did you mean 'null'"):
        agent.start()
    assert agent.pipeline is None


def test_bad_reload_is_rejected_and_pipeline_keeps_running(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text(CONF.format(total=100))
    agent = Agent("a1", [conf])
    agent.start()
    try:
        first = agent.pipeline
        conf.write_text(CONF.format(total=100).replace("type = memory", "type = memroy"))
        assert agent.reload() is False
        assert agent.pipeline is first
        assert "memroy" in str(agent.last_reload_error)
        assert agent.health()["lastReloadError"]
    finally:
        agent.stop()


def test_good_reload_reuses_unchanged_channel_with_its_events(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    no_sink = CONF.format(total=50).replace("a1.sinks = k1\n", "a1.sinks =\n")
    no_sink = "\n".join(line for line in no_sink.splitlines() if "sinks.k1" not in line)
    conf.write_text(no_sink.replace("a1.sinks =", "a1.sinks = "))
    conf.write_text(no_sink.replace("a1.sinks =\n", ""))
    agent = Agent("a1", [conf])
    agent.start()
    try:
        channel = agent.pipeline.channels["c1"]  # type: ignore[union-attr]
        wait_until(lambda: channel.size == 50)
        conf.write_text(CONF.format(total=0))
        assert agent.reload() is True
        assert agent.pipeline.channels["c1"] is channel  # type: ignore[union-attr]
        sink = agent.pipeline.sinks["k1"]  # type: ignore[union-attr]
        wait_until(lambda: sink.counter.get("EventDrainSuccessCount") == 50)
    finally:
        agent.stop()


def test_changed_memory_channel_hands_its_events_to_the_replacement(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    base = CONF.format(total=40)
    only_source = "\n".join(line for line in base.splitlines() if "sinks" not in line) + "\n"
    conf.write_text(only_source)
    agent = Agent("a1", [conf])
    agent.start()
    try:
        old = agent.pipeline.channels["c1"]  # type: ignore[union-attr]
        wait_until(lambda: old.size == 40)
        only_channel_changed = only_source.replace("capacity = 1000", "capacity = 2000")
        only_channel_changed = only_channel_changed.replace("totalEvents = 40", "totalEvents = 0")
        conf.write_text(only_channel_changed)
        assert agent.reload()
        new = agent.pipeline.channels["c1"]  # type: ignore[union-attr]
        assert new is not old and new.size == 40
    finally:
        agent.stop()


def test_reload_if_changed_notices_mtime(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text(CONF.format(total=1))
    agent = Agent("a1", [conf])
    agent.start()
    try:
        assert agent.reload_if_changed() is False
        conf.write_text(CONF.format(total=2))
        os.utime(conf, (time.time() + 5, time.time() + 5))
        assert agent.reload_if_changed() is True
        assert agent.generation == 2
    finally:
        agent.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_agent_answers_netcat_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    conf = tmp_path / "nc.conf"
    conf.write_text(f"""\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = {port}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
""")
    proc = subprocess.Popen([sys.executable, "-m", "flume_sdk.cli", "agent", "-n", "a1", "-f",
                             str(conf), "--no-reload-conf"], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "agent did not open its port"
                time.sleep(0.1)
        with client:
            client.sendall(b"hello\nworld\n")
            replies = b""
            while replies.count(b"\n") < 2:
                replies += client.recv(100)
        assert replies == b"OK\nOK\n"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert b"body: 68 65 6C 6C 6F hello" in err
    assert b"agent a1 stopped" in err


def test_cli_validate_exits_non_zero_naming_file_line_and_match(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text(CONF.format(total=1).replace("type = seq", "type = sequ"))
    done = subprocess.run([sys.executable, "-m", "flume_sdk.cli", "validate", "-f", str(conf)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"{conf}:4: a1.sources.r1.type" in done.stderr
    assert "did you mean 'seq'" in done.stderr
