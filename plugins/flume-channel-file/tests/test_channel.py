"""FileChannel: Flume's keys, registration, transactions and durability across restarts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flume_channel_file import FileChannel
from flume_testkit import FakeClock, wait_until

from flume_sdk import (
    ChannelException,
    ChannelFullException,
    ConfigurationError,
    Event,
    PluginKind,
    load_plugin,
)

MakeChannel = Callable[..., FileChannel]


@pytest.fixture
def make_channel(tmp_path: Path) -> Iterator[MakeChannel]:
    started: list[FileChannel] = []

    def make(free_space: Callable[[Path], int] | None = None, **overrides: str) -> FileChannel:
        props = {
            "checkpointDir": str(tmp_path / "checkpoint"),
            "dataDirs": str(tmp_path / "data"),
            "capacity": "100",
            "transactionCapacity": "50",
            "minimumRequiredSpace": "0",
            "keep-alive": "0",
            **overrides,
        }
        channel = FileChannel.from_config("c1", props)
        if free_space is not None:
            channel._free_space = free_space
        channel.start()
        started.append(channel)
        return channel

    yield make
    for channel in started:
        channel.stop()


def _put(channel: FileChannel, bodies: list[bytes]) -> None:
    with channel.transaction() as tx:
        tx.put_batch([Event(b, {"h": "v"}) for b in bodies])


def _take_all(channel: FileChannel) -> list[bytes]:
    with channel.transaction() as tx:
        return [e.body for e in tx.take_batch(50)]


def test_type_alias_and_flume_class_name_load_the_file_channel() -> None:
    assert load_plugin(PluginKind.CHANNEL, "file") is FileChannel
    assert (
        load_plugin(PluginKind.CHANNEL, "org.apache.flume.channel.file.FileChannel") is FileChannel
    )


def test_every_flume_key_is_accepted(tmp_path: Path) -> None:
    props: dict[str, Any] = {
        "checkpointDir": str(tmp_path / "c"),
        "dataDirs": f"{tmp_path}/d1,{tmp_path}/d2",
        "capacity": "1000",
        "transactionCapacity": "100",
        "checkpointInterval": "1000",
        "maxFileSize": "1048576",
        "minimumRequiredSpace": "0",
        "keep-alive": "1",
        "useDualCheckpoints": "true",
        "backupCheckpointDir": str(tmp_path / "b"),
        "fsyncPerTransaction": "false",
        "fsyncInterval": "2",
        "checkpointOnClose": "false",
        "use-log-replay-v1": "false",
        "use-fast-replay": "true",
    }
    settings = FileChannel.from_config("c1", props).settings
    assert settings.data_dirs == (tmp_path / "d1", tmp_path / "d2")
    assert settings.backup_checkpoint_dir == tmp_path / "b"
    assert settings.fsync_per_transaction is False


def test_transaction_capacity_above_capacity_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="transactionCapacity"):
        FileChannel.from_config("c1", {"capacity": "10", "transactionCapacity": "20"})


def test_dual_checkpoints_without_backup_dir_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="backupCheckpointDir"):
        FileChannel.from_config("c1", {"useDualCheckpoints": "true"})


def test_encryption_keys_are_rejected_with_a_reason() -> None:
    with pytest.raises(ConfigurationError, match="not supported"):
        FileChannel.from_config("c1", {"encryption.activeKey": "key-0"})


def test_committed_events_survive_a_restart_of_the_channel(make_channel: MakeChannel) -> None:
    first = make_channel()
    _put(first, [b"a", b"b"])
    first.stop()
    assert _take_all(make_channel()) == [b"a", b"b"]


def test_rolled_back_put_never_appears(make_channel: MakeChannel) -> None:
    channel = make_channel()
    tx = channel.get_transaction()
    tx.begin()
    tx.put(Event(b"never"))
    tx.rollback()
    tx.close()
    channel.stop()
    assert _take_all(make_channel()) == []


def test_put_into_a_full_channel_raises_channel_full(make_channel: MakeChannel) -> None:
    channel = make_channel(capacity="3", transactionCapacity="3")
    _put(channel, [b"1", b"2", b"3"])
    with pytest.raises(ChannelFullException, match="capacity 3"):
        _put(channel, [b"4"])


def test_low_disk_space_refuses_puts_with_a_clear_error_then_recovers(
    make_channel: MakeChannel,
) -> None:
    free = {"bytes": 0}
    channel = make_channel(free_space=lambda _p: free["bytes"], minimumRequiredSpace="1000")
    with pytest.raises(ChannelException, match="minimumRequiredSpace"):
        _put(channel, [b"x"])
    assert channel.counter.get("EventPutErrorCount") == 1
    free["bytes"] = 1 << 30
    _put(channel, [b"y"])
    assert _take_all(channel) == [b"y"]


def test_two_channels_on_the_same_directories_are_refused(make_channel: MakeChannel) -> None:
    make_channel()
    with pytest.raises(ChannelException, match="already in use"):
        make_channel()


def test_channel_counters_follow_puts_and_takes(make_channel: MakeChannel) -> None:
    channel = make_channel()
    _put(channel, [b"1", b"2", b"3"])
    _take_all(channel)
    values = channel.counter.values()
    assert (values["EventPutSuccessCount"], values["EventTakeSuccessCount"]) == (3, 3)
    assert (values["ChannelSize"], values["Open"]) == (0, 1)


def test_durable_flag_is_set() -> None:
    assert FileChannel.durable is True


def test_checkpoint_timer_follows_a_fake_clock_without_spinning(tmp_path: Path) -> None:
    clock = FakeClock()
    props = {"checkpointDir": str(tmp_path / "ck"), "dataDirs": str(tmp_path / "data"),
             "minimumRequiredSpace": "0", "checkpointInterval": "60000"}
    channel = FileChannel.from_config("c1", props, clock=clock)
    channel.start()
    try:
        opened_at = channel.engine.checkpoint_generation
        wait_until(lambda: channel._timer is not None and channel._timer.is_alive())
        clock.advance(59.0)
        with pytest.raises(TimeoutError):  # not due yet: no checkpoint, and the clock stays put
            wait_until(lambda: channel.engine.checkpoint_generation > opened_at, timeout=0.6)
        assert clock.sleeps == []
        clock.advance(1.0)
        wait_until(lambda: channel.engine.checkpoint_generation == opened_at + 1,
                   what="checkpoint after a fake minute")
        assert clock.sleeps == []
    finally:
        channel.stop()


def test_fsync_interval_syncs_on_the_fake_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    props = {"checkpointDir": str(tmp_path / "ck"), "dataDirs": str(tmp_path / "data"),
             "minimumRequiredSpace": "0", "fsyncPerTransaction": "false", "fsyncInterval": "5"}
    channel = FileChannel.from_config("c1", props, clock=clock)
    channel.start()
    try:
        _put(channel, [b"a"])
        stats = channel.engine.group_commit
        assert stats.syncs == 0
        clock.advance(5.0)
        wait_until(lambda: stats.syncs == 1, what="background sync after fsyncInterval")
    finally:
        channel.stop()
