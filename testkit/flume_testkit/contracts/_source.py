"""``SourceContract``: what every source promises.

Subclass it and provide two fixtures:

``make_source``
    ``**overrides -> configured, unstarted source``.
``drive_source``
    ``(driver: SourceDriver, count: int) -> int | Driven``: make the started
    source ``driver.source`` receive ``count`` events through its natural input
    (send lines on a socket, write a file, call ``driver.process()`` for a
    generator) and return how many of them the source *acknowledged* to its
    client (``OK`` replies, renamed files, advanced positions). It must return
    within a few seconds even when the source refuses everything. Return a
    :class:`~flume_testkit.Driven` (``Driven(acknowledged, sent=payloads)``)
    to let the contract check by content that every payload sent turns up in
    exactly one committed event (nothing lost, nothing duplicated) instead of
    only counting.

The source's channel processor feeds a :class:`RecordingChannel` that the
contract scripts to be full or failing; the contract then checks the source
acknowledges nothing that was not committed, and resumes once the channel heals.
Through every check, the source's ``EventAcceptedCount`` (counted by
``Source.deliver``) must equal what the channel committed, never more.
Optionally override ``channel_processor_for`` (``channel -> ChannelProcessor``)
to run the source behind a particular selector, and set ``events_per_drive`` (the
``count`` the contract passes to ``drive_source``; default 5).

``start()`` and ``stop()`` run on the test's thread; a pollable source's
``process()`` runs on the runner thread ``source-<name>`` (``driver.process()``
hands each call to it), as in the agent.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from flume_sdk import (
    Channel,
    ChannelException,
    ChannelProcessor,
    ChannelSelector,
    Component,
    Event,
    Source,
)
from flume_testkit.contracts._base import ContractBase, LifecycleChecks, broken, promise
from flume_testkit.drivers import THREAD_RULE, Driven, SourceDriver
from flume_testkit.fakes import ChannelFailure, RecordingChannel, RecordingInterceptor
from flume_testkit.waiting import wait_until

__all__ = ["SourceContract"]

SourceFactory = Callable[..., Source]
Drive = Callable[[SourceDriver, int], "int | Driven"]


_THREAD_PROMISE = ("a source's process() must work on its runner thread, not only on the "
                   "thread that called start()")
_LONG_REFUSAL_POLLS = 25
_EVENT_DRIVEN_REFUSAL = 0.5
_SETTLE_TIMEOUT = 5.0


class SourceContract(ContractBase, LifecycleChecks):
    """Contract suite for sources.

    Attributes:
        events_per_drive: the ``count`` passed to ``drive_source`` in each check.
    """

    events_per_drive: ClassVar[int] = 5

    @pytest.fixture
    def make_source(self) -> SourceFactory:
        """Override: ``**overrides -> configured, unstarted source``."""
        pytest.fail("SourceContract needs a make_source fixture")

    @pytest.fixture
    def drive_source(self) -> Drive:
        """Override: ``(driver, count) -> events acknowledged``."""
        pytest.fail("SourceContract needs a drive_source fixture: (driver, count) -> acknowledged")

    @pytest.fixture
    def channel_processor_for(self) -> Callable[[Channel], ChannelProcessor]:
        """Override to use another selector; the default sends everything to ``channel``."""
        return lambda channel: ChannelProcessor(ChannelSelector([channel]))

    @pytest.fixture
    def contract_component(self, make_source: SourceFactory,
                           channel_processor_for: Callable[[Channel], ChannelProcessor],
                           ) -> Callable[[], Component]:
        def build() -> Component:
            source = make_source()
            source.set_channel_processor(channel_processor_for(RecordingChannel("c1")))
            return source
        return build

    @pytest.fixture
    def source_driver(self, make_source: SourceFactory,
                      channel_processor_for: Callable[[Channel], ChannelProcessor],
                      contract_cleanup: list[Callable[[], Any]]) -> SourceDriver:
        """A started driver whose processor records what it saw (``driver.interceptor``)."""
        channel = RecordingChannel("c1", RecordingChannel.Settings(capacity=100_000))
        processor = channel_processor_for(channel)
        interceptor = RecordingInterceptor("contract")
        processor.interceptors.append(interceptor)
        driver = SourceDriver(make_source(), channel, processor=processor)
        contract_cleanup.append(driver.stop)
        return driver.start()

    # -- checks ----------------------------------------------------------------------------

    @staticmethod
    def _drive(driver: SourceDriver, drive_source: Drive, count: int) -> int:
        """Call the author's ``drive_source``; keep what it sent in ``driver.driven``."""
        result = drive_source(driver, count)
        if isinstance(result, Driven):
            driver.driven.append(result)
            return result.acknowledged
        return int(result)

    def _channel(self, driver: SourceDriver) -> RecordingChannel:
        assert isinstance(driver.channel, RecordingChannel)
        return driver.channel

    @promise("a source must hand its events to the channel processor and acknowledge what the "
             "channel committed")
    def test_events_go_through_the_channel_processor(self, source_driver: SourceDriver,
                                                     drive_source: Drive) -> None:
        count = self.events_per_drive
        acked = self._drive(source_driver, drive_source, count)
        seen = len(_recorder(source_driver).seen)
        committed = len(self._channel(source_driver).committed)
        assert seen >= count and committed >= count, broken(
            "a source must hand its events to the channel processor",
            f"drove {count}; interceptors saw {seen}, channel committed {committed}")
        assert acked == count, broken(
            "a source must acknowledge events the channel committed",
            f"drove {count}, {committed} committed, {acked} acknowledged")
        _check_accepted(source_driver, self._channel(source_driver), exact=True)
        _check_sent(source_driver, self._channel(source_driver))

    def _refused(self, source_driver: SourceDriver, drive_source: Drive,
                 mode: ChannelFailure) -> None:
        channel = self._channel(source_driver)
        channel.script_failure(mode)
        acked = self._drive(source_driver, drive_source, self.events_per_drive)
        assert acked <= len(channel.committed), broken(
            "a source must never acknowledge events before the channel committed them",
            f"channel {mode.value}: {acked} acknowledged, {len(channel.committed)} committed")
        _check_accepted(source_driver, channel, exact=False)

    @promise("a source must never acknowledge events before the channel committed them")
    def test_acknowledges_nothing_while_the_channel_is_full(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        self._refused(source_driver, drive_source, ChannelFailure.FULL)

    @promise("a source must never acknowledge events before the channel committed them")
    def test_acknowledges_nothing_while_channel_puts_fail(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        self._refused(source_driver, drive_source, ChannelFailure.FAIL_ON_PUT)

    @promise("a source must never acknowledge events before the channel committed them")
    def test_acknowledges_nothing_while_channel_commits_fail(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        self._refused(source_driver, drive_source, ChannelFailure.FAIL_ON_COMMIT)

    @promise("every event a source acknowledged must be committed (nothing lost)")
    def test_intermittent_commit_failure_loses_nothing(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        channel = self._channel(source_driver)
        channel.script_failure(ChannelFailure.FAIL_ON_COMMIT, times=1)
        acked = self._drive(source_driver, drive_source, self.events_per_drive)
        acked += self._drive(source_driver, drive_source, self.events_per_drive)
        assert acked <= len(channel.committed), broken(
            "every event a source acknowledged must be committed (nothing lost)",
            f"{acked} acknowledged, {len(channel.committed)} committed after one failed commit")
        _check_accepted(source_driver, channel, exact=False)

    @promise("a source must resume delivering, losing nothing, once the channel recovers")
    def test_resumes_after_the_channel_recovers(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        channel = self._channel(source_driver)
        channel.script_failure(ChannelFailure.FULL)
        refused = self._drive(source_driver, drive_source, self.events_per_drive)
        channel.heal()
        accepted = self._drive(source_driver, drive_source, self.events_per_drive)
        total = refused + accepted
        assert accepted > 0 and total <= len(channel.committed), broken(
            "a source must resume delivering, losing nothing, once the channel recovers",
            f"{refused} acknowledged while full, {accepted} after healing, "
            f"{len(channel.committed)} committed")
        _check_accepted(source_driver, channel, exact=False)


    @promise(_THREAD_PROMISE)
    def test_process_works_on_the_runner_thread(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        if not source_driver.pollable:
            pytest.skip("an event-driven source runs its own threads; there is no runner thread")
        acked = self._drive(source_driver, drive_source, self.events_per_drive)
        errors = [e for e in source_driver.errors if not isinstance(e, ChannelException)]
        assert not errors, broken(
            _THREAD_PROMISE, f"start() ran on {threading.current_thread().name!r}, process() on "
            f"{source_driver.runner.name!r} raised {errors[0]!r} [thread rule: {THREAD_RULE}]")
        assert acked == self.events_per_drive, broken(
            _THREAD_PROMISE, f"drove {self.events_per_drive} with process() on "
            f"{source_driver.runner.name!r}, {acked} acknowledged [thread rule: {THREAD_RULE}]")

    @promise("a source stopped and started again must work (the supervisor restarts in place)")
    def test_works_after_stop_and_start(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        count = self.events_per_drive
        first = self._drive(source_driver, drive_source, count)
        source_driver.restart()
        second = self._drive(source_driver, drive_source, count)
        committed = len(self._channel(source_driver).committed)
        assert second >= count and first + second <= committed, broken(
            "a source stopped and started again must work (the supervisor restarts in place)",
            f"drove {count} before and {count} after the restart: {first} and {second} "
            f"acknowledged, {committed} committed; errors {source_driver.errors[-3:]!r}")

    @promise("a source must keep what it holds through a long refusal (more than 20 polls) "
             "and commit it once the channel heals, never counting more accepted than committed")
    def test_long_refusal_then_heal_loses_nothing(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        channel = self._channel(source_driver)
        recorder = _recorder(source_driver)
        count = self.events_per_drive
        channel.script_failure(ChannelFailure.FULL)
        offered_from = len(recorder.seen)
        refused = self._drive(source_driver, drive_source, count)
        self._keep_refusing(source_driver)
        accepted_while_full = source_driver.counters.get("EventAcceptedCount", 0)
        committed_while_full = len(channel.committed)
        offers = collections.Counter(_key(e) for e in recorder.seen[offered_from:])
        held = {k for k, n in offers.items() if n >= 2}  # retried: the source holds them
        channel.heal()
        accepted = self._drive(source_driver, drive_source, count)
        lost = self._settle(source_driver, held)
        committed = len(channel.committed)
        total = refused + accepted
        assert accepted_while_full <= committed_while_full, broken(
            "EventAcceptedCount must never exceed what the channel committed",
            f"EventAcceptedCount={accepted_while_full} while the channel refused every commit")
        assert not lost, broken(
            "a source must keep what it holds through a long refusal (more than 20 polls) and "
            "commit it once the channel heals",
            f"{len(lost)} of the {len(held)} event(s) it retried during the refusal were never "
            f"committed after the heal (dropped after some retries?)")
        assert accepted >= count and total <= committed, broken(
            "a source must keep what it holds through a long refusal (more than 20 polls) and "
            "commit it once the channel heals",
            f"{refused} acknowledged during the refusal, {accepted} of {count} after healing, "
            f"{committed} committed; errors {source_driver.errors[-3:]!r}")
        counted = source_driver.counters.get("EventAcceptedCount", 0)
        assert counted <= committed, broken(
            "EventAcceptedCount must never exceed what the channel committed",
            f"EventAcceptedCount={counted}, {committed} committed")

    @staticmethod
    def _keep_refusing(driver: SourceDriver) -> None:
        """Prolong the refusal: more than 20 polls, or a while for an event-driven source."""
        if driver.pollable:
            driver.process(times=_LONG_REFUSAL_POLLS)
        else:
            threading.Event().wait(_EVENT_DRIVEN_REFUSAL)

    def _settle(self, driver: SourceDriver, held: set[Any]) -> set[Any]:
        """Let the source commit what it held; return what never reached the channel."""
        deadline = time.monotonic() + _SETTLE_TIMEOUT
        while True:
            lost = held - {_key(e) for e in self._channel(driver).committed}
            if not lost or time.monotonic() > deadline:
                return lost
            if driver.pollable:
                driver.process()
            else:
                threading.Event().wait(0.02)


def _check_accepted(driver: SourceDriver, channel: RecordingChannel, *, exact: bool) -> None:
    """``EventAcceptedCount`` is what the channel committed (``exact``), never more.

    A source's counters may trail its reply by a moment, so equality is awaited briefly.
    """
    def accepted() -> int:
        return int(driver.counters.get("EventAcceptedCount", 0))

    if exact:
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: accepted() == len(channel.committed), timeout=2.0,
                       interval=0.01)
    count, committed = accepted(), len(channel.committed)
    assert count == committed if exact else count <= committed, broken(
        "a source must count in EventAcceptedCount exactly the events the channel committed "
        "(Source.deliver does)", f"EventAcceptedCount {count}, channel committed {committed}")


def _check_sent(driver: SourceDriver, channel: RecordingChannel) -> None:
    """Every payload a ``Driven`` says was sent is in exactly one committed event's body."""
    sent = [payload for driven in driver.driven for payload in driven.sent]
    if not sent:
        return
    bodies = [e.body for e in channel.committed]
    counts = {payload: sum(payload in body for body in bodies) for payload in sent}
    missing = [p for p, n in counts.items() if n == 0]
    twice = [p for p, n in counts.items() if n > 1]
    assert not missing and not twice, broken(
        "every payload the client sent must be committed exactly once (nothing lost, nothing "
        "duplicated)", f"sent {len(sent)}; missing {missing[:5]!r}; more than once {twice[:5]!r}")


def _recorder(driver: SourceDriver) -> RecordingInterceptor:
    found = [i for i in driver.processor.interceptors if isinstance(i, RecordingInterceptor)]
    return found[-1]



def _key(event: Event) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    return event.body, tuple(sorted(event.headers.items()))
