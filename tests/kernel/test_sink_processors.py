"""Sink processors on a fake clock: failover priorities and penalties, load balancing, backoff."""

from __future__ import annotations

import pytest
from flume_testkit.clock import FakeClock
from flume_testkit.fakes import RecordingSink

from flume_sdk import ConfigurationError, Event, EventDeliveryException, Status
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.sink_processors import FailoverSinkProcessor, LoadBalancingSinkProcessor


@pytest.fixture
def channel() -> MemoryChannel:
    ch = MemoryChannel.from_config("c1", {"capacity": "1000", "transactionCapacity": "100",
                                          "keep-alive": "0"})
    with ch.transaction() as tx:
        tx.put_batch([Event(str(i).encode()) for i in range(50)])
    return ch


def sinks(channel: MemoryChannel, *names: str, batch: int = 1) -> list[RecordingSink]:
    out = []
    for name in names:
        sink = RecordingSink.from_config(name, {"batchSize": str(batch)})
        sink.set_channel(channel)
        out.append(sink)
    return out


def test_failover_uses_highest_priority_sink(channel: MemoryChannel) -> None:
    k1, k2 = sinks(channel, "k1", "k2")
    processor = FailoverSinkProcessor.from_config([k1, k2], {"priority.k1": "5", "priority.k2": "10"},
                                                  clock=FakeClock())
    processor.process()
    assert (len(k1.delivered), len(k2.delivered)) == (0, 1)


def test_failover_moves_to_next_sink_and_keeps_the_events(channel: MemoryChannel) -> None:
    k1, k2 = sinks(channel, "k1", "k2")
    processor = FailoverSinkProcessor.from_config([k1, k2], {"priority.k1": "10", "priority.k2": "5"},
                                                  clock=FakeClock())
    k1.break_destination()
    assert processor.process() is Status.READY
    assert [e.body for e in k2.delivered] == [b"0"], "the failed batch must be retried, not lost"


def test_failover_retries_a_penalised_sink_after_its_cool_down(channel: MemoryChannel) -> None:
    clock = FakeClock()
    k1, k2 = sinks(channel, "k1", "k2")
    processor = FailoverSinkProcessor.from_config([k1, k2], {"priority.k1": "10"}, clock=clock)
    k1.break_destination()
    processor.process()
    k1.heal_destination()
    processor.process()
    assert len(k1.delivered) == 0, "a failed sink is not retried before its penalty ends"
    clock.advance(2.1)
    processor.process()
    assert len(k1.delivered) == 1


def test_failover_without_priorities_keeps_configuration_order(channel: MemoryChannel) -> None:
    k1, k2, k3 = sinks(channel, "zz", "aa", "mm")
    processor = FailoverSinkProcessor([k1, k2, k3], clock=FakeClock())
    processor.process()
    assert len(k1.delivered) == 1


def test_failover_with_every_sink_failed_raises(channel: MemoryChannel) -> None:
    k1, k2 = sinks(channel, "k1", "k2")
    for sink in (k1, k2):
        sink.break_destination()
    processor = FailoverSinkProcessor([k1, k2], clock=FakeClock())
    with pytest.raises(EventDeliveryException, match="all sinks failed"):
        processor.process()
    assert channel.size == 50


def test_failover_duplicate_priority_is_a_config_error(channel: MemoryChannel) -> None:
    with pytest.raises(ConfigurationError, match="duplicates the priority"):
        FailoverSinkProcessor.from_config(sinks(channel, "k1", "k2"),
                                          {"priority.k1": "1", "priority.k2": "1"})


def test_load_balance_round_robin_spreads_batches(channel: MemoryChannel) -> None:
    k1, k2 = sinks(channel, "k1", "k2")
    processor = LoadBalancingSinkProcessor([k1, k2], clock=FakeClock())
    for _ in range(4):
        processor.process()
    assert (len(k1.delivered), len(k2.delivered)) == (2, 2)


def test_load_balance_failure_tries_the_next_sink(channel: MemoryChannel) -> None:
    k1, k2 = sinks(channel, "k1", "k2")
    k1.break_destination()
    processor = LoadBalancingSinkProcessor([k1, k2], clock=FakeClock())
    for _ in range(2):
        assert processor.process() is Status.READY
    assert len(k2.delivered) == 2


def test_load_balance_backoff_blacklists_a_failed_sink(channel: MemoryChannel) -> None:
    clock = FakeClock()
    k1, k2 = sinks(channel, "k1", "k2")
    k1.break_destination()
    processor = LoadBalancingSinkProcessor.from_config([k1, k2], {"backoff": "true"}, clock=clock)
    processor.process()
    k1.heal_destination()
    for _ in range(3):
        processor.process()
    assert len(k1.delivered) == 0, "a blacklisted sink is skipped until its timeout ends"
    clock.advance(2.1)
    for _ in range(2):
        processor.process()
    assert len(k1.delivered) == 1


def test_load_balance_with_one_sink_is_a_config_error(channel: MemoryChannel) -> None:
    with pytest.raises(ConfigurationError, match="at least 2 sinks"):
        LoadBalancingSinkProcessor(sinks(channel, "k1"))
