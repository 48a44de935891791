"""The offline ``check`` command: a read-only verdict on a channel's directories."""

from __future__ import annotations

from pathlib import Path

import pytest
from flume_channel_file import check_channel, main
from flume_channel_file._log import Log
from flume_channel_file._log_config import LogConfig

from flume_sdk import Event


def _fill(config: LogConfig, batches: int) -> None:
    log: Log[Event] = Log(config, Event)
    log.open()
    for i in range(batches):
        log.put([Event(f"{i}-{k}".encode() * 10, {}) for k in range(10)])
    log.close()


@pytest.fixture
def config(tmp_path: Path) -> LogConfig:
    return LogConfig(
        checkpoint_dir=tmp_path / "ck",
        data_dirs=(tmp_path / "data",),
        minimum_required_space=0,
        max_file_size=8192,
        preallocate_chunk=8192,
    )


def test_check_of_a_healthy_channel_reports_ok(config: LogConfig) -> None:
    _fill(config, 20)
    report = check_channel([config.checkpoint_dir, *config.data_dirs])
    assert report.ok
    assert report.queued_events == 200


def test_check_reports_a_damaged_segment_with_its_range(config: LogConfig) -> None:
    _fill(config, 20)
    first = sorted(config.data_dirs[0].glob("log-*.seg"))[0]
    data = bytearray(first.read_bytes())
    data[100] ^= 0x01
    first.write_bytes(bytes(data))
    report = check_channel([config.checkpoint_dir, *config.data_dirs])
    assert not report.ok
    assert "damaged bytes [" in report.render()


def test_check_changes_nothing_on_disk(config: LogConfig) -> None:
    _fill(config, 20)
    first = sorted(config.data_dirs[0].glob("log-*.seg"))[0]
    data = bytearray(first.read_bytes())
    data[100] ^= 0x01
    first.write_bytes(bytes(data))
    before = {p: p.read_bytes() for p in config.data_dirs[0].rglob("*") if p.is_file()}
    check_channel([config.checkpoint_dir, *config.data_dirs])
    after = {p: p.read_bytes() for p in config.data_dirs[0].rglob("*") if p.is_file()}
    assert before == after


def test_check_command_exits_nonzero_when_it_finds_damage(
    config: LogConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(config, 20)
    slot = next(config.checkpoint_dir.glob("checkpoint.?"))
    slot.write_bytes(b"junk")
    code = main(["check", "--dir", str(config.checkpoint_dir), "--dir", str(config.data_dirs[0])])
    assert code == 1
    assert "DAMAGED" in capsys.readouterr().out


def test_check_command_exits_zero_on_a_clean_channel(
    config: LogConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(config, 3)
    code = main(["check", "--dir", f"{config.checkpoint_dir},{config.data_dirs[0]}"])
    assert code == 0
    assert "result: OK" in capsys.readouterr().out


def test_check_lists_the_queued_events_head_first(
    config: LogConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    log: Log[Event] = Log(config, Event)
    log.open()
    log.put([Event(f"e{i}".encode(), {"n": str(i)}) for i in range(5)])
    _events, ticket = log.take(2)
    assert ticket is not None
    log.commit_take(ticket)
    log.close()
    report = check_channel([config.checkpoint_dir, *config.data_dirs], list_events=True)
    assert report.events == [({"n": str(i)}, f"e{i}".encode()) for i in range(2, 5)]
    code = main(["check", "--events", "--dir", f"{config.checkpoint_dir},{config.data_dirs[0]}"])
    assert code == 0
    assert capsys.readouterr().out.splitlines()[-3:] == ["{n=2} e2", "{n=3} e3", "{n=4} e4"]
