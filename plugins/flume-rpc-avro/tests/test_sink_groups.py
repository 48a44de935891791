"""Two avro sinks behind ``failover`` and ``load_balance`` sink groups (the high-availability
model): one destination is killed mid-stream and every event still arrives, at the other."""

from __future__ import annotations

import collections
from collections.abc import Callable

import pytest
from flume_rpc_avro.sink import AvroSink
from flume_rpc_avro.source import AvroSource
from flume_testkit import memory_channel, take_all

from flume_sdk import Channel, Event, Status
from flume_sdk.components.sink_processors import (
    FailoverSinkProcessor,
    LoadBalancingSinkProcessor,
)

__all__: list[str] = []

pytestmark = pytest.mark.timeout(120)

StartSource = Callable[..., AvroSource]
TOTAL = 300
BATCH = 20


def _fill(channel: Channel, count: int) -> None:
    with channel.transaction() as tx:
        tx.put_batch([Event(body=b"e%04d" % i) for i in range(count)])


def _sink(name: str, upstream: Channel, port: int) -> AvroSink:
    sink = AvroSink.from_config(name, {"hostname": "127.0.0.1", "port": str(port),
                                       "batch-size": str(BATCH), "connect-timeout": "1000",
                                       "request-timeout": "3000"})
    sink.set_channel(upstream)
    sink.start()
    return sink


def _run(processor: FailoverSinkProcessor | LoadBalancingSinkProcessor, calls: int) -> None:
    for _ in range(calls):
        if processor.process() is Status.BACKOFF:
            return


def _until_empty(processor: FailoverSinkProcessor | LoadBalancingSinkProcessor,
                 upstream: Channel) -> None:
    for _ in range(10 * TOTAL // BATCH):
        if upstream.size == 0:
            return
        processor.process()
    raise AssertionError(f"the group never drained its channel ({upstream.size} left)")


def _assert_all_arrived_once(*channels: Channel) -> list[int]:
    per_destination = [[e.body for e in take_all(ch)] for ch in channels]
    counts = collections.Counter(b for bodies in per_destination for b in bodies)
    assert set(counts) == {b"e%04d" % i for i in range(TOTAL)}, "events were lost"
    assert max(counts.values()) == 1, "a killed destination caused duplicates"
    return [len(bodies) for bodies in per_destination]


def test_failover_group_moves_to_the_backup_when_the_primary_dies(
    start_source: StartSource,
) -> None:
    primary_ch, backup_ch, upstream = (memory_channel() for _ in range(3))
    primary, backup = start_source(primary_ch), start_source(backup_ch)
    sinks = [_sink("k1", upstream, primary.port), _sink("k2", upstream, backup.port)]
    processor = FailoverSinkProcessor.from_config(
        sinks, {"priority.k1": "10", "priority.k2": "5", "maxpenalty": "60000"})
    try:
        _fill(upstream, TOTAL)
        _run(processor, 5)
        primary.stop()
        _until_empty(processor, upstream)
    finally:
        for sink in sinks:
            sink.stop()
    at_primary, at_backup = _assert_all_arrived_once(primary_ch, backup_ch)
    assert (at_primary, at_backup) == (5 * BATCH, TOTAL - 5 * BATCH)


def test_load_balance_group_sends_everything_to_the_survivor(
    start_source: StartSource,
) -> None:
    first_ch, second_ch, upstream = (memory_channel() for _ in range(3))
    first, second = start_source(first_ch), start_source(second_ch)
    sinks = [_sink("k1", upstream, first.port), _sink("k2", upstream, second.port)]
    processor = LoadBalancingSinkProcessor.from_config(
        sinks, {"selector": "round_robin", "backoff": "true"})
    try:
        _fill(upstream, TOTAL)
        _run(processor, 4)
        first.stop()
        _until_empty(processor, upstream)
    finally:
        for sink in sinks:
            sink.stop()
    at_first, at_second = _assert_all_arrived_once(first_ch, second_ch)
    assert at_first == 2 * BATCH, "round robin gave the first destination every other batch"
    assert at_second == TOTAL - 2 * BATCH
