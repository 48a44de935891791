"""``ChannelContract``: what every channel promises.

Subclass it and provide one fixture, ``make_channel``: a factory taking Flume
property overrides as keyword arguments with string values
(``make_channel(capacity="4", transactionCapacity="2")``) and returning a
configured, unstarted channel. Two calls with the same overrides in one test
must describe the same storage (same directories), so restart checks mean
something. Configure a short keep-alive (about 0.1 s) so full-channel and
empty-take checks stay fast.

If your channel spells the capacity keys differently, set ``capacity_key`` /
``transaction_capacity_key`` (``None``: the channel has no such limit, and the
checks that need it skip saying so); ``extra_settings`` are passed to every
``make_channel`` call.

Threads are used as the agent uses them: ``start()``/``stop()`` on the test's
thread, puts on a source-like runner thread, takes on a sink-like one.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import warnings
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
from flume_testkit.contracts._base import (
    ContractBase,
    LifecycleChecks,
    broken,
    promise,
    short_event,
)
from flume_testkit.drivers import (
    ChannelDriver,
    DriverTimeout,
    commit_put,
    commit_take,
    run_in_thread,
)
from flume_testkit.events import EventFactory, event_ids

__all__ = ["ChannelContract"]

ChannelFactory = Callable[..., Channel]
Open = Callable[..., ChannelDriver]


class ChannelContract(ContractBase, LifecycleChecks):
    """Contract suite for channels.

    Attributes:
        durable: ``None`` (default) asks the channel class's own ``durable``; set
            ``True``/``False`` to override. Durable channels must keep committed
            events across stop and a new instance - and across a SIGKILL right after
            the commit returned - and must not keep uncommitted puts.
        capacity_key / transaction_capacity_key: the channel's property keys for the
            two limits (``None`` when the channel has no such limit).
        extra_settings: properties passed to every ``make_channel`` call.
        putters / takers / events_per_putter: the concurrency check's shape.
        call_timeout: seconds after which a put or take counts as blocked (raise it
            for a channel whose calls may wait longer by design).
    """

    durable: ClassVar[bool | None] = None
    capacity_key: ClassVar[str | None] = "capacity"
    transaction_capacity_key: ClassVar[str | None] = "transactionCapacity"
    extra_settings: ClassVar[dict[str, str]] = {}
    putters: ClassVar[int] = 3
    takers: ClassVar[int] = 2
    events_per_putter: ClassVar[int] = 200
    call_timeout: ClassVar[float] = 10.0

    @pytest.fixture
    def make_channel(self) -> ChannelFactory:
        """Override: ``**overrides -> configured, unstarted channel``."""
        pytest.fail("ChannelContract needs a make_channel fixture: "
                    "def make_channel(self): return lambda **overrides: MyChannel.from_config(...)")

    def _settings(self, capacity: int | None, transaction_capacity: int | None,
                  need: bool) -> dict[str, str]:
        """The overrides for the two limits, under the author's key names."""
        out = dict(self.extra_settings)
        for key, value, what in ((self.capacity_key, capacity, "capacity"),
                                 (self.transaction_capacity_key, transaction_capacity,
                                  "transactionCapacity")):
            if value is None:
                continue
            if key is None:
                if need:
                    pytest.skip(f"the channel declares no {what} key ({what} key is None): "
                                "this check needs that limit")
                continue
            out[key] = str(value)
        return out

    @pytest.fixture
    def contract_component(self, make_channel: ChannelFactory) -> Callable[[], Component]:
        return lambda: make_channel(**self.extra_settings)

    @pytest.fixture
    def open_channel(self, make_channel: ChannelFactory,
                     contract_cleanup: list[Callable[[], Any]]) -> Open:
        """``(capacity=, transaction_capacity=, need_limits=False) -> ChannelDriver``.

        The channel is started on this thread and stopped (with the driver's threads)
        after the test.
        """

        def open_(capacity: int | None = None, transaction_capacity: int | None = None,
                  need_limits: bool = False) -> ChannelDriver:
            channel = make_channel(**self._settings(capacity, transaction_capacity, need_limits))
            driver = ChannelDriver(channel, call_timeout=self.call_timeout)
            contract_cleanup.append(driver.stop)
            driver.start()
            return driver

        return open_

    # -- content -------------------------------------------------------------------------

    @promise("a channel must return every event with its headers and body intact")
    def test_round_trip_keeps_headers_and_body_of_every_edge_case_event(
        self, open_channel: Open
    ) -> None:
        driver = open_channel(100, 10)
        for name, event in EventFactory("edge").edge_cases_by_name().items():
            driver.put([event])
            got = driver.take(1)
            assert got == [event], broken(
                "a channel must return every event with its headers and body intact",
                f"{name}: put {short_event(event)}, took {[short_event(e) for e in got]}")

    @promise("a channel must hand events out in the order they were committed (FIFO)")
    def test_takes_are_fifo(self, open_channel: Open) -> None:
        driver = open_channel(100, 10)
        events = EventFactory().batch(12)
        for start in range(0, 12, 4):
            driver.put(events[start:start + 4])
        got = driver.drain(batch=5)
        assert event_ids(got) == event_ids(events), broken(
            "a channel must hand events out in the order they were committed (FIFO)",
            f"put {event_ids(events)}, took {event_ids(got)}")

    @promise("puts must stay invisible to takers until commit")
    def test_uncommitted_puts_are_invisible(self, open_channel: Open) -> None:
        driver = open_channel(100, 10)
        channel = driver.channel
        tx = driver.as_putter(channel.get_transaction)
        driver.as_putter(tx.begin)
        driver.as_putter(lambda: tx.put_batch(EventFactory().batch(3)))
        seen = driver.take(10)
        driver.as_putter(tx.rollback)
        driver.as_putter(tx.close)
        assert seen == [], broken("puts must stay invisible to takers until commit",
                                  f"another thread took {seen!r} before the commit")

    @promise("a rolled-back put must be discarded")
    def test_rolled_back_put_is_discarded(self, open_channel: Open) -> None:
        driver = open_channel(100, 10)
        driver.as_putter(lambda: _rolled_back_put(driver.channel, EventFactory().batch(3)))
        got = driver.drain()
        assert got == [], broken("a rolled-back put must be discarded", f"then took {got!r}")

    @promise("a rolled-back take must return the events to the channel in order")
    def test_rolled_back_take_returns_events_in_order(self, open_channel: Open) -> None:
        driver = open_channel(100, 10)
        events = EventFactory().batch(5)
        driver.put(events)
        driver.as_taker(lambda: _rolled_back_take(driver.channel, 3))
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

    @promise("put() before begin() must raise TransactionStateError")
    def test_put_before_begin_fails(self, open_channel: Open) -> None:
        driver = open_channel()

        def check() -> None:
            tx = driver.channel.get_transaction()
            self._expect_state_error(lambda: tx.put(Event(b"x")),
                                     "put() before begin() must raise TransactionStateError")

        driver.as_putter(check)

    @promise("a second commit() must raise TransactionStateError")
    def test_commit_twice_fails(self, open_channel: Open) -> None:
        driver = open_channel()

        def check() -> None:
            tx = driver.channel.get_transaction()
            tx.begin()
            tx.commit()
            self._expect_state_error(tx.commit,
                                     "a second commit() must raise TransactionStateError")
            tx.close()

        driver.as_putter(check)

    @promise("close() of an open transaction must raise TransactionStateError")
    def test_close_of_an_open_transaction_fails(self, open_channel: Open) -> None:
        driver = open_channel()

        def check() -> None:
            tx = driver.channel.get_transaction()
            tx.begin()
            self._expect_state_error(tx.close, "close() of an open transaction must raise "
                                     "TransactionStateError (commit or roll back first)")
            tx.rollback()
            tx.close()

        driver.as_putter(check)

    @promise("a transaction used from a thread that did not create it must raise "
             "TransactionStateError")
    def test_transaction_used_from_another_thread_fails(self, open_channel: Open) -> None:
        driver = open_channel()
        tx = driver.as_putter(driver.channel.get_transaction)
        driver.as_putter(tx.begin)
        try:
            self._expect_state_error(
                lambda: run_in_thread(lambda: tx.put(Event(b"x"))),
                "a transaction used from a thread that did not create it must raise "
                "TransactionStateError")
        finally:
            driver.as_putter(tx.rollback)
            driver.as_putter(tx.close)

    # -- limits ----------------------------------------------------------------------------

    def _put_fails(self, driver: ChannelDriver, events: list[Event]) -> ChannelException | None:
        """Put and commit ``events``; return the ChannelException raised, if any."""
        try:
            driver.put(events)
        except ChannelException as exc:
            return exc
        return None

    @promise("putting more than transactionCapacity events in one transaction must raise "
             "ChannelException")
    def test_put_beyond_transaction_capacity_raises_channel_exception(
        self, open_channel: Open
    ) -> None:
        driver = open_channel(10, 3, need_limits=True)
        error = self._put_fails(driver, EventFactory().batch(4))
        assert error is not None, broken(
            "putting more than transactionCapacity events in one transaction must raise "
            "ChannelException", "4 puts with transactionCapacity 3 were accepted")

    @promise("a put into a full channel must raise ChannelFullException")
    def test_commit_beyond_capacity_raises_channel_full_exception(
        self, open_channel: Open
    ) -> None:
        driver = open_channel(4, 4, need_limits=True)
        driver.put(EventFactory().batch(4))
        error = self._put_fails(driver, EventFactory("more").batch(1))
        assert isinstance(error, ChannelFullException), broken(
            "a put into a full channel must raise ChannelFullException",
            f"capacity 4 holding 4, one more gave {error!r}")

    @promise("a commit refused for capacity must leave nothing of its batch behind")
    def test_refused_put_leaves_nothing_of_its_batch_behind(self, open_channel: Open) -> None:
        driver = open_channel(10, 10, need_limits=True)
        kept = EventFactory("kept").batch(8)
        driver.put(kept)
        error = self._put_fails(driver, EventFactory("refused").batch(3))
        assert isinstance(error, ChannelFullException), broken(
            "a put into a full channel must raise ChannelFullException",
            f"capacity 10 holding 8, 3 more gave {error!r}")
        got = driver.drain()
        assert event_ids(got) == event_ids(kept), broken(
            "a commit refused for capacity must leave nothing of its batch behind",
            f"capacity 10 holding 8, 3 more refused; then took {event_ids(got)}")

    @promise("take_batch(n) must return at most n events, and never more than "
             "transactionCapacity in one transaction")
    def test_take_batch_returns_at_most_what_was_asked(self, open_channel: Open) -> None:
        driver = open_channel(100, 4, need_limits=True)
        for start in range(3):
            driver.put(EventFactory(f"b{start}").batch(4))

        def takes() -> list[int]:
            with driver.channel.transaction() as tx:
                first = len(tx.take_batch(3))
                second = len(tx.take_batch(10))
            return [first, second]

        first, second = driver.as_taker(takes)
        assert first <= 3, broken("take_batch(n) must return at most n events",
                                  f"take_batch(3) with 12 waiting returned {first}")
        assert first + second <= 4, broken(
            "one transaction must never take more than transactionCapacity events",
            f"transactionCapacity 4: take_batch(3) gave {first}, then take_batch(10) {second}")

    @promise("a new transaction must get the full transactionCapacity after a commit")
    def test_transaction_capacity_is_freed_after_commit(self, open_channel: Open) -> None:
        driver = open_channel(10, 3)
        driver.put(EventFactory("a").batch(3))
        error = self._put_fails(driver, EventFactory("b").batch(3))
        assert error is None, broken("a new transaction must get the full transactionCapacity "
                                     "after a commit", f"second put raised {error!r}")

    @promise("a new transaction must get the full transactionCapacity after a rollback")
    def test_transaction_capacity_is_freed_after_rollback(self, open_channel: Open) -> None:
        driver = open_channel(10, 3)
        driver.as_putter(lambda: _rolled_back_put(driver.channel, EventFactory("a").batch(3)))
        error = self._put_fails(driver, EventFactory("b").batch(3))
        assert error is None, broken("a new transaction must get the full transactionCapacity "
                                     "after a rollback", f"the put raised {error!r}")

    @promise("committed takes must free capacity")
    def test_capacity_is_freed_after_a_take_commits(self, open_channel: Open) -> None:
        driver = open_channel(4, 4, need_limits=True)
        driver.put(EventFactory("a").batch(4))
        driver.take(2)
        error = self._put_fails(driver, EventFactory("b").batch(2))
        assert error is None, broken("committed takes must free capacity",
                                     f"after taking 2 of 4, putting 2 raised {error!r}")

    @promise("a rolled-back put must not hold capacity")
    def test_capacity_is_freed_after_a_put_rolls_back(self, open_channel: Open) -> None:
        driver = open_channel(4, 4, need_limits=True)
        driver.as_putter(lambda: _rolled_back_put(driver.channel, EventFactory("a").batch(4)))
        error = self._put_fails(driver, EventFactory("b").batch(4))
        assert error is None, broken("a rolled-back put must not hold capacity",
                                     f"putting 4 into an empty channel of 4 raised {error!r}")

    @promise("a rolled-back take must not hold capacity once its events are taken for good")
    def test_capacity_is_freed_after_a_take_rolls_back_and_is_retaken(
        self, open_channel: Open
    ) -> None:
        driver = open_channel(4, 4, need_limits=True)
        driver.put(EventFactory("a").batch(4))
        driver.as_taker(lambda: _rolled_back_take(driver.channel, 4))
        taken = driver.take(4)
        error = self._put_fails(driver, EventFactory("b").batch(4))
        assert len(taken) == 4 and error is None, broken(
            "a rolled-back take must not hold capacity once its events are taken for good",
            f"retook {len(taken)} of 4, then putting 4 raised {error!r}")

    # -- size ------------------------------------------------------------------------------

    @promise("size must equal the committed events not yet taken (the agent's reload and "
             "drain-on-stop rely on it)")
    def test_size_counts_committed_untaken_events(self, open_channel: Open) -> None:
        driver = open_channel(100, 10)
        channel = driver.channel
        steps: list[tuple[str, int, int]] = [("new channel", 0, channel.size)]
        driver.put(EventFactory("a").batch(5))
        steps.append(("5 committed puts", 5, channel.size))
        driver.as_putter(lambda: _rolled_back_put(channel, EventFactory("b").batch(3)))
        steps.append(("3 rolled-back puts", 5, channel.size))
        driver.take(2)
        steps.append(("2 committed takes", 3, channel.size))
        driver.as_taker(lambda: _rolled_back_take(channel, 2))
        steps.append(("2 rolled-back takes", 3, channel.size))
        driver.drain()
        steps.append(("taking the rest", 0, channel.size))
        wrong = [f"after {what}: size {got}, expected {want}" for what, want, got in steps
                 if got != want]
        assert not wrong, broken(
            "size must equal the committed events not yet taken (the agent's reload and "
            "drain-on-stop rely on it)", "; ".join(wrong))

    # -- restart ---------------------------------------------------------------------------

    @promise("a channel stopped and started again must work (the supervisor restarts in place)")
    def test_works_after_stop_and_start(self, open_channel: Open) -> None:
        driver = open_channel(100, 10)
        driver.put(EventFactory("before").batch(2))
        driver.drain()
        driver.close_threads()
        driver.channel.stop()
        driver.channel.start()
        events = EventFactory("after").batch(3)
        driver.put(events)
        got = driver.drain()
        assert event_ids(got) == event_ids(events), broken(
            "a channel stopped and started again must work (the supervisor restarts in place)",
            f"after the restart put {event_ids(events)}, took {event_ids(got)}")

    # -- concurrency -----------------------------------------------------------------------

    @promise("concurrent putters and takers must lose and duplicate nothing")
    def test_concurrent_putters_and_takers_lose_and_duplicate_nothing(
        self, open_channel: Open
    ) -> None:
        driver = open_channel(200, 10)
        batches = [EventFactory(f"p{i}").batch(self.events_per_putter)
                   for i in range(self.putters)]
        expected = sorted(event_ids([e for b in batches for e in b]), key=str)
        taken: list[Event] = []
        lock, done = threading.Lock(), threading.Event()
        errors: list[BaseException] = []
        workers = [threading.Thread(target=_guard(errors, _putter, driver.channel, b),
                                    daemon=True, name=f"contract-putter-{i}")
                   for i, b in enumerate(batches)]
        workers += [threading.Thread(target=_guard(errors, _taker, driver.channel, taken, lock,
                                                   done, len(expected)),
                                     daemon=True, name=f"contract-taker-{i}")
                    for i in range(self.takers)]
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

    @promise("a durable channel must keep committed events across stop and a new instance")
    def test_committed_events_survive_a_restart(self, open_channel: Open) -> None:
        first = open_channel(100, 10)
        self._require_durable(first.channel)
        events = EventFactory().batch(5)
        first.put(events)
        first.channel.stop()
        got = open_channel(100, 10).drain()
        assert event_ids(got) == event_ids(events), broken(
            "a durable channel must keep committed events across stop and a new instance",
            f"committed {event_ids(events)}, the new instance gave {event_ids(got)}")

    @promise("a durable channel must not recover uncommitted puts")
    def test_uncommitted_puts_do_not_survive_a_restart(self, open_channel: Open) -> None:
        first = open_channel(100, 10)
        self._require_durable(first.channel)

        def put_without_commit() -> None:
            tx = first.channel.get_transaction()
            tx.begin()
            tx.put_batch(EventFactory().batch(3))

        first.as_putter(put_without_commit)
        first.channel.stop()
        got = open_channel(100, 10).drain()
        assert got == [], broken("a durable channel must not recover uncommitted puts",
                                 f"the new instance gave {event_ids(got)}")

    @promise("a durable channel must keep committed takes taken across a restart")
    def test_committed_takes_stay_taken_after_a_restart(self, open_channel: Open) -> None:
        first = open_channel(100, 10)
        self._require_durable(first.channel)
        events = EventFactory().batch(5)
        first.put(events)
        first.take(3)
        first.channel.stop()
        got = open_channel(100, 10).drain()
        assert event_ids(got) == event_ids(events[3:]), broken(
            "a durable channel must keep committed takes taken across a restart",
            f"committed {event_ids(events)}, took 3, the new instance gave {event_ids(got)}")

    @promise("a durable channel's commit must be durable when it returns (a SIGKILL right "
             "after it loses nothing)")
    def test_commit_is_durable_when_it_returns(
        self, make_channel: ChannelFactory, open_channel: Open
    ) -> None:
        probe = make_channel(**self._settings(100, 10, False))
        self._require_durable(probe)
        events = EventFactory("killed").batch(5)
        outcome = _commit_in_child_then_kill(
            lambda: make_channel(**self._settings(100, 10, False)), events)
        assert outcome == "committed", broken(
            "a durable channel's commit must be durable when it returns",
            f"the child process could not commit: {outcome}")
        got = open_channel(100, 10).drain()
        assert event_ids(got) == event_ids(events), broken(
            "a durable channel's commit must be durable when it returns (a SIGKILL right "
            "after it loses nothing)",
            f"a killed process committed {event_ids(events)}, reopened gave {event_ids(got)}")


def _rolled_back_put(channel: Channel, events: list[Event]) -> None:
    tx = channel.get_transaction()
    tx.begin()
    try:
        tx.put_batch(events)
    finally:
        tx.rollback()
        tx.close()


def _rolled_back_take(channel: Channel, count: int) -> None:
    tx = channel.get_transaction()
    tx.begin()
    try:
        tx.take_batch(count)
    finally:
        tx.rollback()
        tx.close()


_CHILD_WAIT = 30.0


def _commit_in_child_then_kill(make: Callable[[], Channel], events: list[Event]) -> str:
    """Commit ``events`` in a forked child, SIGKILL it once the commit returned.

    Returns ``"committed"`` or what went wrong in the child.
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork of a threaded process
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        try:
            channel = make()
            channel.start()
            commit_put(channel, events)
            os.write(write_end, b"committed")
        except BaseException as exc:
            os.write(write_end, repr(exc).encode()[:4000])
        finally:
            threading.Event().wait(_CHILD_WAIT)
            os._exit(0)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], _CHILD_WAIT)
        message = os.read(read_end, 4096).decode() if ready else "no answer within 30s"
    finally:
        os.close(read_end)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return message


def _guard(errors: list[BaseException], fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    def run() -> None:
        try:
            fn(*args)
        except BaseException as exc:
            errors.append(exc)
    return run


def _putter(channel: Channel, events: list[Event]) -> None:
    deadline = threading.Event()
    timer = threading.Timer(20, deadline.set)
    timer.start()
    try:
        for start in range(0, len(events), 10):
            while True:
                try:
                    commit_put(channel, events[start:start + 10])
                    break
                except ChannelFullException:
                    if deadline.is_set():
                        raise DriverTimeout("putter: channel stayed full for 20s") from None
    finally:
        timer.cancel()


def _taker(channel: Channel, taken: list[Event], lock: threading.Lock,
           done: threading.Event, total: int) -> None:
    deadline = threading.Event()
    timer = threading.Timer(20, deadline.set)
    timer.start()
    try:
        while not done.is_set() and not deadline.is_set():
            got = commit_take(channel, 10)
            with lock:
                taken.extend(got)
                if len(taken) >= total:
                    done.set()
    finally:
        timer.cancel()
