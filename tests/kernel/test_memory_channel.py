"""Memory channel semantics: visibility, order, rollback, capacity in events and bytes."""

from __future__ import annotations

import threading

import pytest

from flume_sdk import ChannelFullException, ConfigurationError, Event
from flume_sdk.components.memory_channel import MemoryChannel


def make(**props: str) -> MemoryChannel:
    return MemoryChannel.from_config("c1", {"keep-alive": "0", **props})


def put(channel: MemoryChannel, *bodies: bytes) -> None:
    with channel.transaction() as tx:
        tx.put_batch([Event(b) for b in bodies])


def take_all(channel: MemoryChannel, n: int = 100) -> list[bytes]:
    with channel.transaction() as tx:
        return [e.body for e in tx.take_batch(n)]


def test_takes_come_out_in_put_order() -> None:
    channel = make()
    put(channel, b"1", b"2")
    put(channel, b"3")
    assert take_all(channel) == [b"1", b"2", b"3"]


def test_uncommitted_puts_are_invisible() -> None:
    channel = make()
    tx = channel.get_transaction()
    tx.begin()
    tx.put(Event(b"a"))
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(len(take_all(channel))))
    thread.start()
    thread.join()
    assert seen == [0]
    tx.commit()
    tx.close()
    assert take_all(channel) == [b"a"]


def test_rolled_back_put_is_discarded() -> None:
    channel = make()
    tx = channel.get_transaction()
    tx.begin()
    tx.put(Event(b"a"))
    tx.rollback()
    tx.close()
    assert channel.size == 0


def test_rolled_back_take_returns_events_to_the_head_in_order() -> None:
    channel = make()
    put(channel, b"1", b"2", b"3")
    tx = channel.get_transaction()
    tx.begin()
    assert [e.body for e in tx.take_batch(2)] == [b"1", b"2"]
    tx.rollback()
    tx.close()
    assert take_all(channel) == [b"1", b"2", b"3"]


def test_full_channel_refuses_commit_and_keeps_committed_events() -> None:
    channel = make(capacity="3", transactionCapacity="3")
    put(channel, b"1", b"2", b"3")
    with pytest.raises(ChannelFullException, match="no room"):
        put(channel, b"4")
    assert take_all(channel) == [b"1", b"2", b"3"]


def test_room_freed_by_a_take_commit_is_reusable() -> None:
    channel = make(capacity="2", transactionCapacity="2")
    put(channel, b"1", b"2")
    take_all(channel, 1)
    put(channel, b"3")
    assert take_all(channel) == [b"2", b"3"]


def test_taken_but_uncommitted_events_still_hold_capacity() -> None:
    channel = make(capacity="2", transactionCapacity="2")
    put(channel, b"1", b"2")
    tx = channel.get_transaction()
    tx.begin()
    tx.take_batch(2)
    errors: list[BaseException] = []

    def putter() -> None:
        try:
            put(channel, b"3")
        except ChannelFullException as exc:
            errors.append(exc)

    thread = threading.Thread(target=putter)
    thread.start()
    thread.join()
    tx.rollback()
    tx.close()
    assert errors, "a rollback must be able to restore the taken events"


def test_byte_capacity_bounds_body_bytes() -> None:
    channel = make(byteCapacity="1000", byteCapacityBufferPercentage="0")
    put(channel, b"x" * 600)
    with pytest.raises(ChannelFullException, match="byteCapacity"):
        put(channel, b"y" * 600)
    take_all(channel)
    put(channel, b"y" * 600)


def test_put_waits_for_room_up_to_keep_alive() -> None:
    channel = MemoryChannel.from_config("c1", {"capacity": "1", "transactionCapacity": "1",
                                               "keep-alive": "5"})
    put(channel, b"1")
    taker = threading.Timer(0.1, lambda: take_all(channel))
    taker.start()
    put(channel, b"2")
    taker.join()
    assert take_all(channel) == [b"2"]


def test_transaction_capacity_above_capacity_is_a_config_error() -> None:
    with pytest.raises(ConfigurationError, match="transactionCapacity: must not exceed capacity"):
        MemoryChannel.from_config("c1", {"capacity": "10", "transactionCapacity": "20"})


def test_concurrent_putters_and_takers_lose_and_duplicate_nothing() -> None:
    channel = MemoryChannel.from_config("c1", {"capacity": "1000", "transactionCapacity": "50",
                                               "keep-alive": "0.05"})
    produced = [[f"{p}-{i}".encode() for i in range(2000)] for p in range(3)]
    taken: list[bytes] = []
    lock = threading.Lock()
    done = threading.Event()

    def producer(bodies: list[bytes]) -> None:
        for start in range(0, len(bodies), 50):
            while True:
                try:
                    put(channel, *bodies[start:start + 50])
                    break
                except ChannelFullException:
                    continue

    def consumer() -> None:
        while not (done.is_set() and channel.size == 0):
            got = take_all(channel, 50)
            with lock:
                taken.extend(got)

    producers = [threading.Thread(target=producer, args=(b,)) for b in produced]
    consumers = [threading.Thread(target=consumer) for _ in range(2)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    done.set()
    for t in consumers:
        t.join(timeout=30)
    assert sorted(taken) == sorted(b for bodies in produced for b in bodies)


def test_counters_use_flume_names() -> None:
    channel = make(capacity="10", transactionCapacity="10")
    put(channel, b"1", b"2")
    take_all(channel, 1)
    snap = channel.counter.snapshot()
    assert snap["EventPutSuccessCount"] == "2"
    assert snap["EventTakeSuccessCount"] == "1"
    assert snap["ChannelSize"] == "1"
    assert snap["ChannelFillPercentage"] == "10.0"
    assert snap["Type"] == "CHANNEL"
