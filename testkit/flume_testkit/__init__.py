"""flume-testkit: fakes, a fake clock, drivers, contract suites and real-server fixtures.

Fakes, the clock, events and drivers import without pytest; the contract suites
(pytest test classes meant to be subclassed) load pytest on first access.
"""

from typing import TYPE_CHECKING, Any

from flume_testkit.channels import memory_channel, take_all
from flume_testkit.clock import FakeClock
from flume_testkit.drivers import (
    ChannelDriver,
    Driven,
    DriverTimeout,
    LogRecorder,
    RunnerThread,
    SinkDriver,
    SourceDriver,
    commit_put,
    commit_take,
    new_threads,
    run_in_thread,
)
from flume_testkit.events import ID_HEADER, ONE_MIB, EventFactory, copy_events, event_ids
from flume_testkit.fakes import (
    ChannelFailure,
    RecordingChannel,
    RecordingInterceptor,
    RecordingSink,
    RecordingTransaction,
    ScriptedSource,
)
from flume_testkit.net import closed_by_peer, connect_when_listening, udp_accepted
from flume_testkit.waiting import wait_until

if TYPE_CHECKING:
    from flume_testkit.contracts import (
        ChannelContract,
        ContractBase,
        InterceptorContract,
        SerializerContract,
        SinkContract,
        SourceContract,
    )

_CONTRACTS = frozenset({"ChannelContract", "ContractBase", "InterceptorContract",
                        "SerializerContract", "SinkContract", "SourceContract"})

__all__ = [
    "ID_HEADER",
    "ONE_MIB",
    "ChannelContract",
    "ChannelDriver",
    "ChannelFailure",
    "ContractBase",
    "Driven",
    "DriverTimeout",
    "EventFactory",
    "FakeClock",
    "InterceptorContract",
    "LogRecorder",
    "RecordingChannel",
    "RecordingInterceptor",
    "RecordingSink",
    "RecordingTransaction",
    "RunnerThread",
    "ScriptedSource",
    "SerializerContract",
    "SinkContract",
    "SinkDriver",
    "SourceContract",
    "SourceDriver",
    "closed_by_peer",
    "commit_put",
    "commit_take",
    "connect_when_listening",
    "copy_events",
    "event_ids",
    "memory_channel",
    "new_threads",
    "run_in_thread",
    "take_all",
    "udp_accepted",
    "wait_until",
]


def __getattr__(name: str) -> Any:
    """Import the contract suites (which need pytest) only when asked for."""
    if name in _CONTRACTS:
        from flume_testkit import contracts

        return getattr(contracts, name)
    msg = f"module 'flume_testkit' has no attribute {name!r}"
    raise AttributeError(msg)
