"""netcatudp and the stress source keep every source promise of the testkit's SourceContract.

UDP cannot acknowledge anything to its sender, so for ``netcatudp`` "acknowledged" is what
the source *claims*, its ``EventAcceptedCount``: the driver waits until every line sent is
accounted for as accepted or dropped, and the contract checks that nothing refused was claimed.
The stress source acknowledges by counting a batch successful only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flume_testkit import SourceContract, SourceDriver, udp_accepted

from flume_sdk import Source
from flume_sdk.components.netcat_udp_source import NetcatUdpSource
from flume_sdk.components.stress_source import StressSource

__all__ = ["TestNetcatUdpSourceContract", "TestStressSourceContract", "send_datagrams"]


def send_datagrams(driver: SourceDriver, count: int) -> int:
    """Send ``count`` one-line datagrams; return how many the source counted as accepted."""
    source = driver.source
    assert isinstance(source, NetcatUdpSource)
    return udp_accepted(source, source.port, [b"line-%d\n" % i for i in range(count)])


def drive_stress(driver: SourceDriver, count: int) -> int:
    """``count`` calls to ``process()`` at batchSize 1; acknowledged = events committed."""
    source = driver.source
    assert isinstance(source, StressSource)
    before = source.successful_events
    driver.process(times=count)
    return source.successful_events - before


class TestNetcatUdpSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self) -> Callable[..., Source]:
        return lambda **overrides: NetcatUdpSource.from_config(
            "r1", {"bind": "127.0.0.1", "port": "0", **overrides})

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        return send_datagrams


class TestStressSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self) -> Callable[..., Source]:
        return lambda **overrides: StressSource.from_config("r1", {"size": "16", **overrides})

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        return drive_stress
