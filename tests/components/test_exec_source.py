"""exec: stdout lines become events; refused batches are retried; restarts use the clock."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from flume_testkit import memory_channel
from flume_testkit.clock import FakeClock
from flume_testkit.servers import wait_until

from flume_sdk import ChannelProcessor, ConfigurationError, Event
from flume_sdk.components.exec_source import ExecSource
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.selectors import ReplicatingSelector

Make = Callable[..., ExecSource]


@pytest.fixture
def channel() -> Iterator[MemoryChannel]:
    ch = memory_channel(1000, transaction_capacity=100)
    yield ch
    ch.stop()


@pytest.fixture
def make(channel: MemoryChannel) -> Iterator[Make]:
    built: list[ExecSource] = []

    def build(channel_: MemoryChannel | None = None, clock: FakeClock | None = None,
              **props: str) -> ExecSource:
        extra = {"clock": clock} if clock else {}
        source = ExecSource.from_config("r1", {"batchTimeout": "50", **props}, **extra)
        source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel_ or channel])))
        source.start()
        built.append(source)
        return source

    yield build
    for source in built:
        source.stop()


def collect(channel: MemoryChannel, into: list[Event]) -> Callable[[], int]:
    def take() -> int:
        with channel.transaction() as tx:
            into.extend(tx.take_batch(100))
        return len(into)
    return take


def test_stdout_lines_become_events(make: Make, channel: MemoryChannel) -> None:
    make(command="printf 'one\\ntwo\\r\\nthree'")
    got: list[Event] = []
    take = collect(channel, got)
    wait_until(lambda: take() == 3)
    assert [e.body for e in got] == [b"one", b"two", b"three"]


def test_shell_runs_the_command_through_it(make: Make, channel: MemoryChannel) -> None:
    make(command="echo abc | tr a-c x-z", shell="/bin/sh -c")
    got: list[Event] = []
    take = collect(channel, got)
    wait_until(lambda: take() == 1)
    assert got[0].body == b"xyz"


def test_partial_batch_is_delivered_after_batch_timeout(make: Make,
                                                        channel: MemoryChannel) -> None:
    source = make(command="echo early; exec sleep 30", shell="/bin/sh -c", batchSize="100")
    got: list[Event] = []
    take = collect(channel, got)
    wait_until(lambda: take() == 1)
    assert got[0].body == b"early" and source.runs == 1


def test_refused_batch_is_kept_and_retried_in_order(make: Make) -> None:
    small = MemoryChannel.from_config("c2", {"capacity": "2", "transactionCapacity": "2",
                                             "keep-alive": "0"})
    small.start()
    source = make(small, command="seq 1 7", batchSize="2", maxBackoff="20")
    got: list[Event] = []
    take = collect(small, got)
    wait_until(lambda: source.counter.get("ChannelWriteFail") > 0)
    wait_until(lambda: take() == 7)
    assert [e.body for e in got] == [b"%d" % i for i in range(1, 8)]
    small.stop()


def test_restart_waits_restart_throttle_on_the_clock(make: Make) -> None:
    clock = FakeClock()
    source = make(clock=clock, command="true", restart="true", restartThrottle="10000")
    wait_until(lambda: source.runs >= 3)
    assert 10.0 in clock.sleeps
    assert source.counter.get("ExecRestarts") >= 2


def test_without_restart_the_command_runs_once(make: Make, channel: MemoryChannel) -> None:
    source = make(command="echo once")
    got: list[Event] = []
    take = collect(channel, got)
    wait_until(lambda: take() == 1)
    source.stop()
    assert source.runs == 1


def test_log_std_err_logs_the_commands_stderr(make: Make, caplog: pytest.LogCaptureFixture
                                              ) -> None:
    caplog.set_level(logging.INFO, logger="flume_sdk.source.exec")
    source = make(command="echo oops >&2", shell="/bin/sh -c", logStdErr="true")
    wait_until(lambda: any("stderr: oops" in r.getMessage() for r in caplog.records))
    source.stop()


def test_stop_ends_a_long_running_command(make: Make) -> None:
    source = make(command="sleep 60")
    wait_until(lambda: source.runs == 1)
    process = source._process
    source.stop()
    assert process is not None and process.poll() is not None


def test_missing_command_is_a_config_error() -> None:
    with pytest.raises(ConfigurationError, match=r"r1\.command: is required"):
        ExecSource.from_config("r1", {})


def test_unknown_command_is_logged_not_fatal(make: Make, caplog: pytest.LogCaptureFixture
                                             ) -> None:
    source = make(command="/nonexistent/binary")
    wait_until(lambda: any("cannot run" in r.getMessage() for r in caplog.records))
    source.stop()
