"""``SourceContract``: what every source promises.

Subclass it and provide two fixtures:

``make_source``
    ``**overrides -> configured, unstarted source``.
``drive_source``
    ``(driver: SourceDriver, count: int) -> int``: make the started source
    ``driver.source`` receive ``count`` events through its natural input (send
    lines on a socket, write a file, call ``driver.process()`` for a generator)
    and return how many of them the source *acknowledged* to its client
    (``OK`` replies, renamed files, advanced positions). It must return within a
    few seconds even when the source refuses everything.

The source's channel processor feeds a :class:`RecordingChannel` that the
contract scripts to be full or failing; the contract then checks the source
acknowledges nothing that was not committed, and resumes once the channel heals.
Through every check, the source's ``EventAcceptedCount`` (counted by
``Source.deliver``) must equal what the channel committed, never more.
Optionally override ``channel_processor_for`` (``channel -> ChannelProcessor``)
to run the source behind a particular selector.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from flume_sdk import Channel, ChannelProcessor, ChannelSelector, Component, Source
from flume_testkit.contracts._base import ContractBase, LifecycleChecks, broken
from flume_testkit.drivers import SourceDriver
from flume_testkit.fakes import ChannelFailure, RecordingChannel, RecordingInterceptor
from flume_testkit.waiting import wait_until

__all__ = ["SourceContract"]

SourceFactory = Callable[..., Source]
Drive = Callable[[SourceDriver, int], int]


class SourceContract(ContractBase, LifecycleChecks):
    """Contract suite for sources."""

    events_per_drive = 5

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

    def _channel(self, driver: SourceDriver) -> RecordingChannel:
        assert isinstance(driver.channel, RecordingChannel)
        return driver.channel

    def test_events_go_through_the_channel_processor(self, source_driver: SourceDriver,
                                                     drive_source: Drive) -> None:
        count = self.events_per_drive
        acked = drive_source(source_driver, count)
        seen = len(_recorder(source_driver).seen)
        committed = len(self._channel(source_driver).committed)
        assert seen >= count and committed >= count, broken(
            "a source must hand its events to the channel processor",
            f"drove {count}; interceptors saw {seen}, channel committed {committed}")
        assert acked == count, broken(
            "a source must acknowledge events the channel committed",
            f"drove {count}, {committed} committed, {acked} acknowledged")
        _check_accepted(source_driver, self._channel(source_driver), exact=True)

    def _refused(self, source_driver: SourceDriver, drive_source: Drive,
                 mode: ChannelFailure) -> None:
        channel = self._channel(source_driver)
        channel.script_failure(mode)
        acked = drive_source(source_driver, self.events_per_drive)
        assert acked <= len(channel.committed), broken(
            "a source must never acknowledge events before the channel committed them",
            f"channel {mode.value}: {acked} acknowledged, {len(channel.committed)} committed")
        _check_accepted(source_driver, channel, exact=False)

    def test_acknowledges_nothing_while_the_channel_is_full(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        self._refused(source_driver, drive_source, ChannelFailure.FULL)

    def test_acknowledges_nothing_while_channel_puts_fail(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        self._refused(source_driver, drive_source, ChannelFailure.FAIL_ON_PUT)

    def test_acknowledges_nothing_while_channel_commits_fail(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        self._refused(source_driver, drive_source, ChannelFailure.FAIL_ON_COMMIT)

    def test_intermittent_commit_failure_loses_nothing(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        channel = self._channel(source_driver)
        channel.script_failure(ChannelFailure.FAIL_ON_COMMIT, times=1)
        acked = drive_source(source_driver, self.events_per_drive)
        acked += drive_source(source_driver, self.events_per_drive)
        assert acked <= len(channel.committed), broken(
            "every event a source acknowledged must be committed (nothing lost)",
            f"{acked} acknowledged, {len(channel.committed)} committed after one failed commit")
        _check_accepted(source_driver, channel, exact=False)

    def test_resumes_after_the_channel_recovers(
        self, source_driver: SourceDriver, drive_source: Drive
    ) -> None:
        channel = self._channel(source_driver)
        channel.script_failure(ChannelFailure.FULL)
        refused = drive_source(source_driver, self.events_per_drive)
        channel.heal()
        accepted = drive_source(source_driver, self.events_per_drive)
        total = refused + accepted
        assert accepted > 0 and total <= len(channel.committed), broken(
            "a source must resume delivering, losing nothing, once the channel recovers",
            f"{refused} acknowledged while full, {accepted} after healing, "
            f"{len(channel.committed)} committed")
        _check_accepted(source_driver, channel, exact=False)


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


def _recorder(driver: SourceDriver) -> RecordingInterceptor:
    found = [i for i in driver.processor.interceptors if isinstance(i, RecordingInterceptor)]
    return found[-1]
