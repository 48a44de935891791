"""SPILLABLEMEMORY: spills whole transactions, keeps order across stores, and only the overflow
survives a kill -9 (as in Flume)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flume_channel_file import SpillableMemoryChannel
from flume_testkit import ChannelDriver, EventFactory, LogRecorder, event_ids, take_all, wait_until
from flume_testkit.servers import FlumeAgentProcess

from flume_sdk import ChannelException, ChannelFullException, ConfigurationError, Event

pytestmark = pytest.mark.timeout(120)


def _props(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"checkpointDir": str(tmp_path / "ck"), "dataDirs": str(tmp_path / "data"),
            "minimumRequiredSpace": "0", "overflowTimeout": "0.05", **extra}


def _open(tmp_path: Path, **extra: str) -> ChannelDriver:
    channel = SpillableMemoryChannel.from_config("c1", _props(tmp_path, **extra))
    channel.start()
    return ChannelDriver(channel)


def test_a_put_that_does_not_fit_in_memory_spills_whole_and_order_is_kept(tmp_path: Path) -> None:
    driver = _open(tmp_path, memoryCapacity="3")
    channel = driver.channel
    assert isinstance(channel, SpillableMemoryChannel)
    try:
        a, b, c = EventFactory("a").batch(2), EventFactory("b").batch(2), EventFactory("c").batch(1)
        for batch in (a, b, c):
            driver.put(batch)
        assert channel.counter.get("SpilledEventCount") == 2
        assert channel.overflow is not None and channel.overflow.size == 2
        assert event_ids(take_all(channel)) == event_ids(a + b + c)
    finally:
        channel.stop()


def test_a_take_transaction_ends_at_the_boundary_between_stores(tmp_path: Path) -> None:
    driver = _open(tmp_path, memoryCapacity="2")
    try:
        driver.put(EventFactory("mem").batch(2))
        driver.put(EventFactory("spilled").batch(2))
        assert [len(driver.take(10)) for _ in range(3)] == [2, 2, 0]
    finally:
        driver.channel.stop()


def test_byte_capacity_spills_what_does_not_fit_in_memory_bytes(tmp_path: Path) -> None:
    driver = _open(tmp_path, byteCapacity="1000", byteCapacityBufferPercentage="0")
    channel = driver.channel
    assert isinstance(channel, SpillableMemoryChannel)
    try:
        for _ in range(10):
            driver.put([Event(b"x" * 200)])
        assert channel.counter.get("SpilledEventCount") == 5
    finally:
        channel.stop()


def test_without_overflow_a_full_memory_is_refused_clearly(tmp_path: Path) -> None:
    driver = _open(tmp_path, memoryCapacity="2", overflowCapacity="0", transactionCapacity="2")
    try:
        driver.put(EventFactory().batch(2))
        with pytest.raises(ChannelFullException, match="overflow is disabled"):
            driver.put(EventFactory("more").batch(1))
    finally:
        driver.channel.stop()


def test_a_stop_keeps_the_overflow_and_says_the_memory_is_dropped(tmp_path: Path) -> None:
    driver = _open(tmp_path, memoryCapacity="2")
    in_memory, spilled = EventFactory("mem").batch(2), EventFactory("spill").batch(3)
    driver.put(in_memory)
    driver.put(spilled)
    with LogRecorder("flume_channel_file.spillable") as logs:
        driver.channel.stop()
    assert any("2 event(s) held in memory are dropped" in m for m in logs.messages())
    again = _open(tmp_path, memoryCapacity="2")
    try:
        assert event_ids(take_all(again.channel)) == event_ids(spilled)
    finally:
        again.channel.stop()


_CHILD = textwrap.dedent("""
    import sys
    from flume_channel_file import SpillableMemoryChannel
    from flume_sdk import Event
    channel = SpillableMemoryChannel.from_config("c1", {
        "checkpointDir": sys.argv[1] + "/ck", "dataDirs": sys.argv[1] + "/data",
        "minimumRequiredSpace": "0", "overflowTimeout": "0.05", "memoryCapacity": "4"})
    channel.start()
    for name in ("m1", "m2", "s1", "s2", "s3", "s4", "s5"):
        with channel.transaction() as tx:
            tx.put(Event(name.encode()))
        if name == "m2":
            with channel.transaction() as tx:
                tx.put_batch([Event(b"m3"), Event(b"m4")])
    print("ready", flush=True)
    sys.stdin.read()
""")


def test_after_kill_9_only_the_overflow_is_recovered(tmp_path: Path) -> None:
    with subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
    driver = _open(tmp_path, memoryCapacity="4")
    try:
        assert [e.body for e in take_all(driver.channel)] == [b"s1", b"s2", b"s3", b"s4", b"s5"]
    finally:
        driver.channel.stop()


@pytest.mark.parametrize(("props", "says"), [
    ({"memoryCapacity": "0", "overflowCapacity": "0"}, "could hold nothing"),
    ({"memoryCapacity": "10", "overflowCapacity": "0", "transactionCapacity": "20"},
     "transactionCapacity: must not exceed"),
    ({"keep-alive": "1"}, "unknown key"),
    ({"capacity": "10"}, "unknown key"),
    ({"memoryCapacity": "-1"}, "memoryCapacity"),
    ({"byteCapacityBufferPercentage": "100"}, "byteCapacityBufferPercentage"),
    ({"encryption.activeKey": "k"}, "not supported"),
])
def test_bad_settings_are_refused_naming_the_key(tmp_path: Path, props: dict[str, str],
                                                 says: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        SpillableMemoryChannel.from_config("c1", _props(tmp_path, **props),
                                           component="a1.channels.c1")
    assert "a1.channels.c1" in str(info.value) and says in str(info.value), str(info.value)


def test_an_overflow_that_refuses_is_reported_while_memory_keeps_working(tmp_path: Path) -> None:
    driver = _open(tmp_path, memoryCapacity="2", minimumRequiredSpace=str(1 << 60))
    try:
        driver.put(EventFactory("mem").batch(2))
        with pytest.raises(ChannelException, match="c1-overflow"):
            driver.put(EventFactory("spill").batch(1))
        assert len(driver.take(10)) == 2
        driver.put(EventFactory("mem-again").batch(2))
    finally:
        driver.channel.stop()


def test_a_real_agent_keeps_order_through_memory_and_overflow(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    conf = tmp_path / "a.conf"
    conf.write_text(f"""\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 2000
a1.sources.r1.batchSize = 50
a1.sources.r1.channels = c1
a1.channels.c1.type = SPILLABLEMEMORY
a1.channels.c1.memoryCapacity = 50
a1.channels.c1.overflowTimeout = 0
a1.channels.c1.checkpointDir = {tmp_path}/ck
a1.channels.c1.dataDirs = {tmp_path}/data
a1.channels.c1.minimumRequiredSpace = 0
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = {out}
a1.sinks.k1.sink.rollInterval = 0
""")

    def lines() -> list[bytes]:
        return [line for f in sorted(out.iterdir()) for line in f.read_bytes().splitlines()]

    agent = FlumeAgentProcess("a1", conf, tmp_path)
    agent.start_and_wait()
    try:
        wait_until(lambda: len(lines()) >= 2000, timeout=60, what="2000 events in file_roll")
        spilled = int(agent.metrics()["CHANNEL.c1"]["SpilledEventCount"])
    finally:
        agent.stop()
    assert spilled > 0, "the run never spilled: the test would not cross the two stores"
    assert [int(line) for line in lines()] == list(range(2000))
