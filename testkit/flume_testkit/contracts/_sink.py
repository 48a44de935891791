"""``SinkContract``: what every sink promises.

Subclass it and provide:

``make_sink``
    ``**overrides -> configured, unstarted sink`` (``batchSize`` is passed as an
    override; set ``batch_size_key`` if your sink spells it differently).
``delivered``
    ``sink -> Sequence``: what the destination has received so far, in order.
    Return ``Event`` objects where you can (then contents are compared too);
    any other items are only counted.
``break_destination`` / ``heal_destination``
    ``sink -> None``: make the destination refuse writes, and accept them again.
    A sink whose destination cannot fail skips the failure checks in
    ``skip_contract`` with the reason.

Optionally:

``break_destination_after``
    ``(sink, n) -> None``: the destination accepts ``n`` more events, then fails
    part-way through the batch (``heal_destination`` undoes it). Without it the
    partial-failure check skips, saying so.

The sink reads a :class:`RecordingChannel`, so the contract sees every take,
commit, rollback and transaction the sink left open. ``start()`` and ``stop()``
run on the test's thread and ``process()`` on the runner thread ``sink-<name>``,
as in the agent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import pytest

from flume_sdk import Component, Event, EventDeliveryException, Sink, Status
from flume_testkit.contracts._base import (
    ContractBase,
    LifecycleChecks,
    broken,
    first_difference,
    promise,
)
from flume_testkit.drivers import THREAD_RULE, SinkDriver
from flume_testkit.events import EventFactory, event_ids
from flume_testkit.fakes import ChannelFailure, RecordingChannel, RecordingTransaction

__all__ = ["SinkContract"]

SinkFactory = Callable[..., Sink]
Delivered = Callable[[Sink], Sequence[Any]]
SinkAction = Callable[[Sink], None]
BreakAfter = Callable[[Sink, int], None]

_THREAD_PROMISE = ("a sink's process() must work on its runner thread, not only on the thread "
                   "that called start()")


class SinkContract(ContractBase, LifecycleChecks):
    """Contract suite for sinks.

    Attributes:
        batch_size_key: the sink's batch-size property key, passed to ``make_sink``.
    """

    batch_size_key: ClassVar[str] = "batchSize"

    @pytest.fixture
    def make_sink(self) -> SinkFactory:
        """Override: ``**overrides -> configured, unstarted sink``."""
        pytest.fail("SinkContract needs a make_sink fixture")

    @pytest.fixture
    def delivered(self) -> Delivered:
        """Override: ``sink -> what the destination received, in order``."""
        pytest.fail("SinkContract needs a delivered fixture: sink -> received items")

    @pytest.fixture
    def break_destination(self) -> SinkAction:
        """Override, or skip the failure checks in ``skip_contract`` with a reason."""
        pytest.fail("SinkContract needs a break_destination fixture (sink -> None), or "
                    "skip_contract entries for the failure checks with a written reason")

    @pytest.fixture
    def heal_destination(self) -> SinkAction:
        """Override: undo ``break_destination``."""
        pytest.fail("SinkContract needs a heal_destination fixture (sink -> None)")

    @pytest.fixture
    def break_destination_after(self) -> BreakAfter | None:
        """Override: ``(sink, n) -> None``, the destination fails after ``n`` more events."""
        return None

    @pytest.fixture
    def contract_component(self, make_sink: SinkFactory) -> Callable[[], Component]:
        def build() -> Component:
            sink = make_sink()
            sink.set_channel(RecordingChannel("c1"))
            return sink
        return build

    @pytest.fixture
    def open_sink(self, make_sink: SinkFactory,
                  contract_cleanup: list[Callable[[], Any]]) -> Callable[..., SinkDriver]:
        """``**overrides -> started SinkDriver`` on a recording channel."""

        def open_(**overrides: str) -> SinkDriver:
            channel = RecordingChannel("c1", RecordingChannel.Settings(capacity=100_000))
            driver = SinkDriver(make_sink(**overrides), channel)
            contract_cleanup.append(driver.stop)
            return driver.start()

        return open_

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _channel(driver: SinkDriver) -> RecordingChannel:
        assert isinstance(driver.channel, RecordingChannel)
        return driver.channel

    def _assert_closed(self, driver: SinkDriver, when: str) -> None:
        left = self._channel(driver).unclosed_transactions
        assert not left, broken("every process() must close its transaction",
                                f"{len(left)} left unclosed {when}")

    @staticmethod
    def _refuse_twice_then_heal(driver: SinkDriver, break_destination: SinkAction,
                                heal_destination: SinkAction) -> list[Event]:
        """Feed 5 events, fail two process() calls outright, heal, drain; return the events."""
        events = EventFactory().batch(5)
        driver.feed(events)
        break_destination(driver.sink)
        driver.process()
        driver.process()
        heal_destination(driver.sink)
        driver.run_until_empty()
        return events

    # -- checks ----------------------------------------------------------------------------

    @promise("an empty channel must give Status.BACKOFF and leave no transaction open")
    def test_empty_channel_gives_backoff_and_leaves_no_transaction_open(
        self, open_sink: Callable[..., SinkDriver]
    ) -> None:
        driver = open_sink()
        status = driver.process()
        assert status is Status.BACKOFF, broken(
            "an empty channel must give Status.BACKOFF",
            f"got {status!r}, errors {driver.errors!r}")
        self._assert_closed(driver, "after processing an empty channel")

    @promise("a sink must deliver every event it commits, headers and body intact")
    def test_delivers_every_edge_case_event_intact(
        self, open_sink: Callable[..., SinkDriver], delivered: Delivered
    ) -> None:
        driver = open_sink()
        events = EventFactory("edge").edge_case_list()
        driver.feed(events)
        driver.run_until_empty()
        got = list(delivered(driver.sink))
        assert len(got) == len(events), broken(
            "a sink must deliver every event it commits",
            f"fed {len(events)}, destination holds {len(got)}")
        if all(isinstance(e, Event) for e in got):
            assert got == events, broken(
                "a sink must deliver every event it commits, headers and body intact",
                f"first difference at {first_difference(events, got)}")

    @promise("a sink must commit its take only after the destination acknowledged the write")
    def test_commits_only_after_the_write(
        self, open_sink: Callable[..., SinkDriver], delivered: Delivered
    ) -> None:
        driver = open_sink(**{self.batch_size_key: "2"})
        channel = self._channel(driver)
        baseline = len(delivered(driver.sink))
        violations: list[str] = []

        def check(tx: RecordingTransaction) -> None:
            taken = len(channel.taken) + len(tx.takes)
            written = len(delivered(driver.sink)) - baseline
            if written < taken:
                violations.append(f"commit with {taken} taken but {written} written")

        channel.commit_hooks.append(check)
        driver.feed(EventFactory().batch(5))
        driver.run_until_empty()
        assert not violations, broken(
            "a sink must commit its take only after the destination acknowledged the write",
            "; ".join(violations))

    @promise("a failed write must roll back and keep every event in the channel, in order")
    def test_failed_write_rolls_back_and_keeps_the_events(
        self, open_sink: Callable[..., SinkDriver], break_destination: SinkAction
    ) -> None:
        driver = open_sink()
        events = EventFactory().batch(5)
        driver.feed(events)
        break_destination(driver.sink)
        driver.process()
        kept = self._channel(driver).events
        assert event_ids(kept) == event_ids(events), broken(
            "a failed write must roll back and keep every event in the channel, in order",
            f"fed {event_ids(events)}, channel holds {event_ids(kept)}")
        self._assert_closed(driver, "after a failed write")

    @promise("a failed write must raise EventDeliveryException (or return BACKOFF)")
    def test_failed_write_is_reported(
        self, open_sink: Callable[..., SinkDriver], break_destination: SinkAction
    ) -> None:
        driver = open_sink()
        driver.feed(EventFactory().batch(3))
        break_destination(driver.sink)
        status = driver.process()
        reported = status is Status.BACKOFF or any(
            isinstance(e, EventDeliveryException) for e in driver.errors)
        assert reported, broken(
            "a failed write must raise EventDeliveryException (or return BACKOFF)",
            f"process() gave {status!r}, errors {driver.errors!r}")

    @promise("after the destination heals, a sink must deliver every event it failed on")
    def test_delivers_everything_after_the_destination_heals(
        self, open_sink: Callable[..., SinkDriver], delivered: Delivered,
        break_destination: SinkAction, heal_destination: SinkAction,
    ) -> None:
        driver = open_sink()
        events = self._refuse_twice_then_heal(driver, break_destination, heal_destination)
        got = list(delivered(driver.sink))
        if all(isinstance(e, Event) for e in got):
            missing = set(event_ids(events)) - set(event_ids(got))
        else:
            missing = set() if len(got) >= len(events) else {f"{len(events) - len(got)} events"}
        assert not missing, broken(
            "after the destination heals, a sink must deliver every event it failed on",
            f"missing {sorted(missing, key=str)}")

    @promise("a sink must take at most its batch size per transaction, and fill a batch when "
             "events are waiting")
    def test_batch_size_is_honoured(self, open_sink: Callable[..., SinkDriver]) -> None:
        driver = open_sink(**{self.batch_size_key: "3"})
        driver.feed(EventFactory().batch(8))
        driver.run_until_empty()
        takes = [n for n in self._channel(driver).transaction_takes if n]
        assert takes and max(takes) <= 3, broken(
            f"a sink must take at most {self.batch_size_key} events per transaction",
            f"{self.batch_size_key}=3, takes per transaction {takes}")
        assert takes[0] == 3, broken(
            f"a sink must fill a batch of {self.batch_size_key} when events are waiting",
            f"{self.batch_size_key}=3 with 8 waiting, first transaction took {takes[0]}")

    @promise("every process() must close its transaction")
    def test_every_process_call_closes_its_transaction(
        self, open_sink: Callable[..., SinkDriver]
    ) -> None:
        driver = open_sink(**{self.batch_size_key: "2"})
        driver.feed(EventFactory().batch(5))
        for call in range(5):
            driver.process()
            self._assert_closed(driver, f"after process() call {call + 1}")

    @promise("when the channel commit fails the take must be rolled back, keeping the events")
    def test_channel_commit_failure_keeps_the_events(
        self, open_sink: Callable[..., SinkDriver]
    ) -> None:
        driver = open_sink()
        channel = self._channel(driver)
        events = EventFactory().batch(4)
        driver.feed(events)
        channel.script_failure(ChannelFailure.FAIL_ON_COMMIT, times=1)
        status = driver.process()
        assert status is not Status.READY or driver.errors, broken(
            "a sink must not report READY when the channel commit failed")
        assert event_ids(channel.events) == event_ids(events), broken(
            "when the channel commit fails the take must be rolled back, keeping the events",
            f"fed {event_ids(events)}, channel holds {event_ids(channel.events)}")
        self._assert_closed(driver, "after a failed channel commit")

    @promise(_THREAD_PROMISE)
    def test_process_works_on_the_runner_thread(
        self, open_sink: Callable[..., SinkDriver]
    ) -> None:
        driver = open_sink()
        driver.feed(EventFactory().batch(3))
        driver.process()
        errors = [e for e in driver.errors if not isinstance(e, EventDeliveryException)
                  or "thread" in str(e).lower()]
        assert not errors, broken(
            _THREAD_PROMISE, f"start() ran on {threading.current_thread().name!r}, process() on "
            f"{driver.runner.name!r} raised {errors[0]!r} [thread rule: {THREAD_RULE}]")
        assert not driver.errors and self._channel(driver).taken, broken(
            _THREAD_PROMISE, f"process() on {driver.runner.name!r} delivered nothing: "
            f"errors {driver.errors!r} [thread rule: {THREAD_RULE}]")

    @promise("a sink stopped and started again must work (the supervisor restarts in place)")
    def test_works_after_stop_and_start(
        self, open_sink: Callable[..., SinkDriver], delivered: Delivered
    ) -> None:
        driver = open_sink()
        driver.feed(EventFactory("before").batch(2))
        driver.run_until_empty()
        driver.restart()
        baseline = len(delivered(driver.sink))
        events = EventFactory("after").batch(3)
        driver.feed(events)
        driver.run_until_empty()
        got = list(delivered(driver.sink))[baseline:]
        taken = self._channel(driver).taken[-3:]
        assert event_ids(taken) == event_ids(events) and not driver.errors, broken(
            "a sink stopped and started again must work (the supervisor restarts in place)",
            f"after the restart fed {event_ids(events)}, took {event_ids(taken)}, "
            f"errors {driver.errors!r}")
        if baseline == 0 and not got:
            return  # the destination shows nothing (a null sink): the channel side was checked
        if all(isinstance(e, Event) for e in got):
            assert event_ids(got) == event_ids(events), broken(
                "a sink stopped and started again must work (the supervisor restarts in place)",
                f"after the restart fed {event_ids(events)}, delivered {event_ids(got)}")
        else:
            assert len(got) == len(events), broken(
                "a sink stopped and started again must work (the supervisor restarts in place)",
                f"after the restart fed {len(events)}, the destination received {len(got)}")

    @promise("a destination failing part-way through a batch must leave every undelivered "
             "event in the channel")
    def test_failure_part_way_through_a_batch_keeps_the_undelivered_events(
        self, open_sink: Callable[..., SinkDriver], delivered: Delivered,
        break_destination_after: BreakAfter | None, request: pytest.FixtureRequest,
    ) -> None:
        if break_destination_after is None:
            pytest.skip("no break_destination_after fixture ((sink, n) -> None): failures "
                        "part-way through a batch are not checked")
        heal_destination: SinkAction = request.getfixturevalue("heal_destination")
        driver = open_sink(**{self.batch_size_key: "5"})
        baseline = len(delivered(driver.sink))
        events = EventFactory().batch(5)
        driver.feed(events)
        break_destination_after(driver.sink, 2)
        driver.process()
        got = list(delivered(driver.sink))[baseline:]
        kept = self._channel(driver).events
        written = set(event_ids(got)) if all(isinstance(e, Event) for e in got) else set()
        lost = [i for i in event_ids(events) if i not in written and i not in event_ids(kept)]
        assert not lost, broken(
            "a destination failing part-way through a batch must leave every undelivered "
            "event in the channel",
            f"fed {event_ids(events)}, failed after 2; delivered {sorted(written, key=str)}, "
            f"channel holds {event_ids(kept)}, lost {lost}")
        self._assert_closed(driver, "after a failure part-way through a batch")
        heal_destination(driver.sink)
        driver.run_until_empty()
        got = list(delivered(driver.sink))[baseline:]
        if all(isinstance(e, Event) for e in got):
            missing = set(event_ids(events)) - set(event_ids(got))
            assert not missing, broken(
                "after a failure part-way through a batch and a heal, a sink must deliver "
                "every event", f"missing {sorted(missing, key=str)}")

    @promise("after an outright refusal a sink must deliver nothing twice")
    def test_outright_refusal_delivers_nothing_twice(
        self, open_sink: Callable[..., SinkDriver], delivered: Delivered,
        break_destination: SinkAction, heal_destination: SinkAction,
    ) -> None:
        driver = open_sink()
        baseline = len(delivered(driver.sink))
        events = self._refuse_twice_then_heal(driver, break_destination, heal_destination)
        got = list(delivered(driver.sink))[baseline:]
        if all(isinstance(e, Event) for e in got):
            ids = event_ids(got)
            twice = sorted({i for i in ids if ids.count(i) > 1}, key=str)
            assert not twice, broken("after an outright refusal a sink must deliver nothing twice",
                                     f"delivered twice: {twice}")
        assert len(got) == len(events), broken(
            "after an outright refusal a sink must deliver nothing twice",
            f"fed {len(events)}, the destination received {len(got)}")

    @promise("EventDrainSuccessCount must equal the events delivered and committed")
    def test_counters_match_what_was_delivered(
        self, open_sink: Callable[..., SinkDriver]
    ) -> None:
        driver = open_sink(**{self.batch_size_key: "2"})
        channel = self._channel(driver)
        driver.feed(EventFactory().batch(5))
        channel.script_failure(ChannelFailure.FAIL_ON_COMMIT, times=1)
        driver.process()
        driver.run_until_empty()
        counters = driver.counters
        success = counters.get("EventDrainSuccessCount", 0)
        attempts = counters.get("EventDrainAttemptCount", 0)
        assert success == len(channel.taken), broken(
            "EventDrainSuccessCount must equal the events delivered and committed",
            f"{len(channel.taken)} taken and committed, EventDrainSuccessCount={success}")
        assert attempts >= success, broken(
            "EventDrainAttemptCount must count every event the sink tried to deliver",
            f"EventDrainAttemptCount={attempts} < EventDrainSuccessCount={success}")
