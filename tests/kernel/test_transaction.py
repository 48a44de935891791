"""The transaction state machine and its thread binding, on the memory channel."""

from __future__ import annotations

import threading

import pytest

from flume_sdk import ChannelException, Event, TransactionState, TransactionStateError
from flume_sdk.components.memory_channel import MemoryChannel


@pytest.fixture
def channel() -> MemoryChannel:
    return MemoryChannel.from_config("c1", {"capacity": "10", "transactionCapacity": "5",
                                            "keep-alive": "0"})


def test_transaction_goes_new_open_completed_closed(channel: MemoryChannel) -> None:
    tx = channel.get_transaction()
    assert tx.state is TransactionState.NEW
    tx.begin()
    assert tx.state is TransactionState.OPEN
    tx.commit()
    assert tx.state is TransactionState.COMPLETED
    tx.close()
    assert tx.state is TransactionState.CLOSED


def test_put_before_begin_fails_loudly(channel: MemoryChannel) -> None:
    with pytest.raises(TransactionStateError, match="cannot put"):
        channel.get_transaction().put(Event(b"x"))


def test_close_while_open_is_refused(channel: MemoryChannel) -> None:
    tx = channel.get_transaction()
    tx.begin()
    with pytest.raises(TransactionStateError, match="cannot close"):
        tx.close()
    tx.rollback()
    tx.close()


def test_commit_twice_is_refused(channel: MemoryChannel) -> None:
    tx = channel.get_transaction()
    tx.begin()
    tx.commit()
    with pytest.raises(TransactionStateError):
        tx.commit()


def test_use_from_another_thread_fails(channel: MemoryChannel) -> None:
    tx = channel.get_transaction()
    tx.begin()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            tx.put(Event(b"x"))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert isinstance(errors[0], TransactionStateError)
    tx.rollback()
    tx.close()


def test_get_transaction_returns_same_until_closed(channel: MemoryChannel) -> None:
    tx = channel.get_transaction()
    assert channel.get_transaction() is tx
    tx.close()
    assert channel.get_transaction() is not tx


def test_each_thread_gets_its_own_transaction(channel: MemoryChannel) -> None:
    mine = channel.get_transaction()
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.append(channel.get_transaction()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine


def test_puts_beyond_transaction_capacity_raise(channel: MemoryChannel) -> None:
    with pytest.raises(ChannelException, match="transactionCapacity"), channel.transaction() as tx:
        tx.put_batch([Event(b"x")] * 6)
    assert channel.size == 0


def test_takes_are_capped_at_transaction_capacity(channel: MemoryChannel) -> None:
    for _ in range(2):
        with channel.transaction() as tx:
            tx.put_batch([Event(b"x")] * 5)
    with channel.transaction() as tx:
        assert len(tx.take_batch(10)) == 5
        with pytest.raises(ChannelException, match="transactionCapacity"):
            tx.take()


def test_context_manager_rolls_back_on_error(channel: MemoryChannel) -> None:
    with pytest.raises(RuntimeError), channel.transaction() as tx:
        tx.put(Event(b"x"))
        raise RuntimeError("boom")
    assert channel.size == 0
    assert channel.get_transaction().state is TransactionState.NEW
