"""Channel selectors through the channel processor: replicating, multiplexing, load_balancing."""

from __future__ import annotations

import pytest

from flume_sdk import ChannelException, ChannelProcessor, ConfigurationError, Event
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.selectors import (
    LoadBalancingSelector,
    MultiplexingSelector,
    ReplicatingSelector,
)


def channels(*names: str, capacity: int = 100) -> list[MemoryChannel]:
    return [MemoryChannel.from_config(n, {"capacity": str(capacity),
                                          "transactionCapacity": str(capacity),
                                          "keep-alive": "0"}) for n in names]


def bodies(channel: MemoryChannel) -> list[bytes]:
    with channel.transaction() as tx:
        return [e.body for e in tx.take_batch(100)]


def test_replicating_puts_every_event_on_every_channel() -> None:
    c1, c2 = channels("c1", "c2")
    ChannelProcessor(ReplicatingSelector([c1, c2])).process_batch([Event(b"a"), Event(b"b")])
    assert bodies(c1) == bodies(c2) == [b"a", b"b"]


def test_replicating_required_failure_fails_the_batch() -> None:
    c1, c2 = channels("c1", "c2", capacity=1)
    processor = ChannelProcessor(ReplicatingSelector([c1, c2]))
    with pytest.raises(ChannelException):
        processor.process_batch([Event(b"a"), Event(b"b")])


def test_replicating_optional_failure_is_counted_not_raised() -> None:
    (c1,) = channels("c1")
    (c2,) = channels("c2", capacity=1)
    selector = ReplicatingSelector.from_config([c1, c2], {"optional": "c2"})
    processor = ChannelProcessor(selector)
    processor.process_batch([Event(b"a"), Event(b"b")])
    assert bodies(c1) == [b"a", b"b"]
    assert processor.optional_failures == 1


def test_replicating_optional_naming_an_unknown_channel_is_a_config_error() -> None:
    with pytest.raises(ConfigurationError, match="'c9'"):
        ReplicatingSelector.from_config(channels("c1"), {"optional": "c9"},
                                        component="a1.sources.r1.selector")


def test_multiplexing_routes_by_header_with_default() -> None:
    c1, c2, c3 = channels("c1", "c2", "c3")
    selector = MultiplexingSelector.from_config(
        [c1, c2, c3], {"header": "state", "mapping.CZ": "c1", "mapping.US": "c2 c3",
                       "default": "c3"})
    events = [Event(b"cz", {"state": "CZ"}), Event(b"us", {"state": "US"}), Event(b"none"),
              Event(b"xx", {"state": "XX"})]
    ChannelProcessor(selector).process_batch(events)
    assert bodies(c1) == [b"cz"]
    assert bodies(c2) == [b"us"]
    assert bodies(c3) == [b"us", b"none", b"xx"]


def test_multiplexing_optional_excludes_channels_already_required() -> None:
    c1, c2 = channels("c1", "c2")
    selector = MultiplexingSelector.from_config(
        [c1, c2], {"header": "h", "mapping.a": "c1", "optional.a": "c1 c2"})
    ChannelProcessor(selector).process_batch([Event(b"x", {"h": "a"})])
    assert bodies(c1) == [b"x"]
    assert bodies(c2) == [b"x"]


def test_multiplexing_empty_mapping_is_a_config_error() -> None:
    with pytest.raises(ConfigurationError, match="maps to no channel"):
        MultiplexingSelector.from_config(channels("c1"), {"mapping.a": " "})


def test_load_balancing_sends_each_batch_to_one_channel_in_turn() -> None:
    c1, c2 = channels("c1", "c2")
    processor = ChannelProcessor(LoadBalancingSelector([c1, c2]))
    for body in (b"1", b"2", b"3"):
        processor.process_batch([Event(body)])
    assert bodies(c1) == [b"1", b"3"]
    assert bodies(c2) == [b"2"]
