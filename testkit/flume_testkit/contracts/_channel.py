"""``ChannelContract``: what every channel promises.

Subclass it and provide one fixture, ``make_channel``: a factory taking Flume
property overrides as keyword arguments with string values
(``make_channel(capacity="4", transactionCapacity="2")``) and returning a
configured, unstarted channel. Two calls with the same overrides in one test
must describe the same storage (same directories), so restart checks mean
something. Configure a short keep-alive (about 0.1 s) so full-channel and
empty-take checks stay fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from flume_sdk import (
    Channel,
    ChannelException,
    ChannelFullException,
    Component,
    Event,
    TransactionStateError,
)
from flume_testkit.contracts._base import ContractBase, LifecycleChecks, broken
from flume_testkit.drivers import ChannelDriver, DriverTimeout, run_in_thread
from flume_testkit.events import EventFactory, event_ids

__all__ = ["ChannelContract"]

ChannelFactory = Callable[..., Channel]


class ChannelContract(ContractBase, LifecycleChecks):
    """Contract suite for channels.

    Attributes:
        durable: ``None`` (default) asks the channel class's own ``durable``; set
            ``True``/``False`` to override. Durable channels must keep committed
            events across stop and a new instance, and must not keep uncommitted puts.
        putters / takers / events_per_putter: the concurrency check's shape.
    """

    durable: ClassVar[bool | None] = None
    putters: ClassVar[int] = 3
    takers: ClassVar[int] = 2
    events_per_putter: ClassVar[int] = 200

    @pytest.fixture
    def make_channel(self) -> ChannelFactory:
        """Override: ``**overrides -> configured, unstarted channel``."""
        pytest.fail("ChannelContract needs a make_channel fixture: "
                    "def make_channel(self): return lambda **overrides: MyChannel.from_config(...)")

    @pytest.fixture
    def contract_component(self, make_channel: ChannelFactory) -> Callable[[], Component]:
        return lambda: make_channel()

    @pytest.fixture
    def open_channel(self, make_channel: ChannelFactory,
                     contract_cleanup: list[Callable[[], Any]]) -> Callable[..., ChannelDriver]:
        """``**overrides -> ChannelDriver`` of a started channel, stopped after the test."""

        def open_(**overrides: str) -> ChannelDriver:
            channel = make_channel(**overrides)
            contract_cleanup.append(channel.stop)
            channel.start()
            return ChannelDriver(channel)

        return open_

    # -- content -------------------------------------------------------------------------

    def test_round_trip_keeps_headers_and_body_of_every_edge_case_event(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="100", transactionCapacity="10")
        for name, event in EventFactory("edge").edge_cases().items():
            driver.put([event])
            got = driver.take(1)
            assert got == [event], broken(
                "a channel must return every event with its headers and body intact",
                f"{name}: put {event!r}, took {got!r}")

    def test_takes_are_fifo(self, open_channel: Callable[..., ChannelDriver]) -> None:
        driver = open_channel(capacity="100", transactionCapacity="10")
        events = EventFactory().batch(12)
        for start in range(0, 12, 4):
            driver.put(events[start:start + 4])
        got = driver.drain(batch=5)
        assert event_ids(got) == event_ids(events), broken(
            "a channel must hand events out in the order they were committed (FIFO)",
            f"put {event_ids(events)}, took {event_ids(got)}")

    def test_uncommitted_puts_are_invisible(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="100", transactionCapacity="10")
        tx = driver.channel.get_transaction()
        tx.begin()
        tx.put_batch(EventFactory().batch(3))
        seen = driver.in_thread(lambda: driver.take(10))
        tx.rollback()
        tx.close()
        assert seen == [], broken("puts must stay invisible to takers until commit",
                                  f"another thread took {seen!r} before the commit")

    def test_rolled_back_put_is_discarded(self, open_channel: Callable[..., ChannelDriver]) -> None:
        driver = open_channel(capacity="100", transactionCapacity="10")
        with driver.channel.get_transaction() as tx:
            tx.begin()
            tx.put_batch(EventFactory().batch(3))
            tx.rollback()
        got = driver.drain()
        assert got == [], broken("a rolled-back put must be discarded", f"then took {got!r}")

    def test_rolled_back_take_returns_events_in_order(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="100", transactionCapacity="10")
        events = EventFactory().batch(5)
        driver.put(events)
        with driver.channel.get_transaction() as tx:
            tx.begin()
            tx.take_batch(3)
            tx.rollback()
        got = driver.drain()
        assert event_ids(got) == event_ids(events), broken(
            "a rolled-back take must return the events to the channel in order",
            f"committed {event_ids(events)}, after the rollback took {event_ids(got)}")

    # -- state machine ---------------------------------------------------------------------

    def _expect_state_error(self, action: Callable[[], object], promise: str) -> None:
        try:
            action()
        except TransactionStateError:
            return
        except Exception as exc:
            pytest.fail(broken(promise, f"raised {exc!r} instead of TransactionStateError"))
        pytest.fail(broken(promise, "nothing was raised"))

    def test_put_before_begin_fails(self, open_channel: Callable[..., ChannelDriver]) -> None:
        driver = open_channel()
        tx = driver.channel.get_transaction()
        self._expect_state_error(lambda: tx.put(Event(b"x")),
                                 "put() before begin() must raise TransactionStateError")

    def test_commit_twice_fails(self, open_channel: Callable[..., ChannelDriver]) -> None:
        driver = open_channel()
        tx = driver.channel.get_transaction()
        tx.begin()
        tx.commit()
        self._expect_state_error(tx.commit, "a second commit() must raise TransactionStateError")
        tx.close()

    def test_close_of_an_open_transaction_fails(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel()
        tx = driver.channel.get_transaction()
        tx.begin()
        self._expect_state_error(tx.close, "close() of an open transaction must raise "
                                 "TransactionStateError (commit or roll back first)")
        tx.rollback()
        tx.close()

    def test_transaction_used_from_another_thread_fails(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel()
        tx = driver.channel.get_transaction()
        tx.begin()
        try:
            self._expect_state_error(
                lambda: run_in_thread(lambda: tx.put(Event(b"x"))),
                "a transaction used from a thread that did not create it must raise "
                "TransactionStateError")
        finally:
            tx.rollback()
            tx.close()

    # -- limits ----------------------------------------------------------------------------

    def _put_fails(self, driver: ChannelDriver, events: list[Event]) -> ChannelException | None:
        """Put and commit ``events``; return the ChannelException raised, if any."""
        try:
            driver.put(events)
        except ChannelException as exc:
            return exc
        return None

    def test_put_beyond_transaction_capacity_raises_channel_exception(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="10", transactionCapacity="3")
        error = self._put_fails(driver, EventFactory().batch(4))
        assert error is not None, broken(
            "putting more than transactionCapacity events in one transaction must raise "
            "ChannelException", "4 puts with transactionCapacity 3 were accepted")

    def test_commit_beyond_capacity_raises_channel_full_exception(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="4", transactionCapacity="4")
        driver.put(EventFactory().batch(4))
        error = self._put_fails(driver, EventFactory("more").batch(1))
        assert isinstance(error, ChannelFullException), broken(
            "a put into a full channel must raise ChannelFullException",
            f"capacity 4 holding 4, one more gave {error!r}")

    def test_transaction_capacity_is_freed_after_commit(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="10", transactionCapacity="3")
        driver.put(EventFactory("a").batch(3))
        error = self._put_fails(driver, EventFactory("b").batch(3))
        assert error is None, broken("a new transaction must get the full transactionCapacity "
                                     "after a commit", f"second put raised {error!r}")

    def test_transaction_capacity_is_freed_after_rollback(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="10", transactionCapacity="3")
        with driver.channel.get_transaction() as tx:
            tx.begin()
            tx.put_batch(EventFactory("a").batch(3))
            tx.rollback()
        error = self._put_fails(driver, EventFactory("b").batch(3))
        assert error is None, broken("a new transaction must get the full transactionCapacity "
                                     "after a rollback", f"the put raised {error!r}")

    def test_capacity_is_freed_after_a_take_commits(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="4", transactionCapacity="4")
        driver.put(EventFactory("a").batch(4))
        driver.take(2)
        error = self._put_fails(driver, EventFactory("b").batch(2))
        assert error is None, broken("committed takes must free capacity",
                                     f"after taking 2 of 4, putting 2 raised {error!r}")

    def test_capacity_is_freed_after_a_put_rolls_back(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="4", transactionCapacity="4")
        with driver.channel.get_transaction() as tx:
            tx.begin()
            tx.put_batch(EventFactory("a").batch(4))
            tx.rollback()
        error = self._put_fails(driver, EventFactory("b").batch(4))
        assert error is None, broken("a rolled-back put must not hold capacity",
                                     f"putting 4 into an empty channel of 4 raised {error!r}")

    def test_capacity_is_freed_after_a_take_rolls_back_and_is_retaken(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="4", transactionCapacity="4")
        driver.put(EventFactory("a").batch(4))
        with driver.channel.get_transaction() as tx:
            tx.begin()
            tx.take_batch(4)
            tx.rollback()
        taken = driver.take(4)
        error = self._put_fails(driver, EventFactory("b").batch(4))
        assert len(taken) == 4 and error is None, broken(
            "a rolled-back take must not hold capacity once its events are taken for good",
            f"retook {len(taken)} of 4, then putting 4 raised {error!r}")

    # -- concurrency -----------------------------------------------------------------------

    def test_concurrent_putters_and_takers_lose_and_duplicate_nothing(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        driver = open_channel(capacity="200", transactionCapacity="10")
        batches = [EventFactory(f"p{i}").batch(self.events_per_putter)
                   for i in range(self.putters)]
        expected = sorted(event_ids([e for b in batches for e in b]), key=str)
        taken: list[Event] = []
        lock, done = threading.Lock(), threading.Event()
        errors: list[BaseException] = []
        workers = [threading.Thread(target=_guard(errors, _putter, driver, b), daemon=True)
                   for b in batches]
        workers += [threading.Thread(target=_guard(errors, _taker, driver, taken, lock, done,
                                                   len(expected)), daemon=True)
                    for _ in range(self.takers)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        done.set()
        assert not errors, broken("concurrent putters and takers must not fail", repr(errors[:3]))
        got = sorted(event_ids(taken), key=str)
        assert got == expected, broken(
            f"{self.putters} putters and {self.takers} takers must lose and duplicate nothing",
            f"expected {len(expected)} events, took {len(got)} ({len(set(got))} distinct)")

    # -- durability ------------------------------------------------------------------------

    def _require_durable(self, channel: Channel) -> None:
        durable = type(channel).durable if self.durable is None else self.durable
        if not durable:
            pytest.skip("the channel does not declare durable = True: surviving a restart "
                        "is not promised")

    def test_committed_events_survive_a_restart(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        first = open_channel(capacity="100", transactionCapacity="10")
        self._require_durable(first.channel)
        events = EventFactory().batch(5)
        first.put(events)
        first.channel.stop()
        got = open_channel(capacity="100", transactionCapacity="10").drain()
        assert event_ids(got) == event_ids(events), broken(
            "a durable channel must keep committed events across stop and a new instance",
            f"committed {event_ids(events)}, the new instance gave {event_ids(got)}")

    def test_uncommitted_puts_do_not_survive_a_restart(
        self, open_channel: Callable[..., ChannelDriver]
    ) -> None:
        first = open_channel(capacity="100", transactionCapacity="10")
        self._require_durable(first.channel)
        tx = first.channel.get_transaction()
        tx.begin()
        tx.put_batch(EventFactory().batch(3))
        first.channel.stop()
        got = open_channel(capacity="100", transactionCapacity="10").drain()
        assert got == [], broken("a durable channel must not recover uncommitted puts",
                                 f"the new instance gave {event_ids(got)}")


def _guard(errors: list[BaseException], fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    def run() -> None:
        try:
            fn(*args)
        except BaseException as exc:
            errors.append(exc)
    return run


def _putter(driver: ChannelDriver, events: list[Event]) -> None:
    deadline = threading.Event()
    timer = threading.Timer(20, deadline.set)
    timer.start()
    try:
        for start in range(0, len(events), 10):
            while True:
                try:
                    driver.put(events[start:start + 10])
                    break
                except ChannelFullException:
                    if deadline.is_set():
                        raise DriverTimeout("putter: channel stayed full for 20s") from None
    finally:
        timer.cancel()


def _taker(driver: ChannelDriver, taken: list[Event], lock: threading.Lock,
           done: threading.Event, total: int) -> None:
    deadline = threading.Event()
    timer = threading.Timer(20, deadline.set)
    timer.start()
    try:
        while not done.is_set() and not deadline.is_set():
            got = driver.take(10)
            with lock:
                taken.extend(got)
                if len(taken) >= total:
                    done.set()
    finally:
        timer.cancel()
