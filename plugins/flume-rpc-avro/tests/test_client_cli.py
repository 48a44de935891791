"""``flume-ng avro-client`` sends lines as events, like Flume's AvroCLIClient."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from flume_rpc_avro.client_cli import main
from flume_rpc_avro.source import AvroSource
from flume_testkit import take_all

from flume_sdk import Channel

StartSource = Callable[..., AvroSource]


def test_file_lines_become_events_with_headers(
    start_source: StartSource, channel: Channel, tmp_path: Path
) -> None:
    source = start_source(channel)
    data = tmp_path / "in.txt"
    data.write_bytes(b"one\ntwo\r\nthree")
    headers = tmp_path / "h.properties"
    headers.write_text("host = web1\nenv=prod\n")
    code = main(["-H", "127.0.0.1", "-p", str(source.port), "-F", str(data), "-R", str(headers)])
    events = take_all(channel)
    assert code == 0
    assert [e.body for e in events] == [b"one", b"two", b"three"]
    assert events[0].headers == {"host": "web1", "env": "prod"}


def test_dirname_sends_every_file_in_name_order(
    start_source: StartSource, channel: Channel, tmp_path: Path
) -> None:
    source = start_source(channel)
    (tmp_path / "b.log").write_bytes(b"b1\n")
    (tmp_path / "a.log").write_bytes(b"a1\na2\n")
    assert main(["-H", "127.0.0.1", "-p", str(source.port), "--dirname", str(tmp_path)]) == 0
    assert [e.body for e in take_all(channel)] == [b"a1", b"a2", b"b1"]


def test_stdin_is_sent_in_batches_of_five(start_source: StartSource, channel: Channel) -> None:
    source = start_source(channel)
    lines = "".join(f"line{i}\n" for i in range(12)).encode()
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from flume_rpc_avro.client_cli import main; "
         "sys.exit(main(sys.argv[1:]))", "-H", "127.0.0.1", "-p", str(source.port)],
        input=lines, capture_output=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(take_all(channel)) == 12
    assert source.counter.get("AppendBatchAcceptedCount") == 3


def test_unreachable_source_exits_non_zero(tmp_path: Path) -> None:
    from flume_testkit.servers._process import free_port

    data = tmp_path / "in.txt"
    data.write_bytes(b"x\n")
    assert main(["-H", "127.0.0.1", "-p", str(free_port()), "-F", str(data)]) == 1
