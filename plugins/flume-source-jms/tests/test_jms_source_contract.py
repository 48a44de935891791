"""The jms source keeps the testkit's source contract against a real ActiveMQ 5.17."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest
from flume_source_jms import JmsSource
from flume_testkit import Driven, SourceContract, SourceDriver

from flume_sdk import Source

_DRIVE_TIMEOUT = 4.0
_payloads = itertools.count()


class TestJmsSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self, make_jms_source: Callable[..., JmsSource]) -> Callable[..., Source]:
        return make_jms_source

    @pytest.fixture
    def drive_source(self, send_messages: Callable[..., None], destination: str,
                     unacknowledged_on: Callable[[str], int],
                     ) -> Callable[[SourceDriver, int], Driven]:
        def drive(driver: SourceDriver, count: int) -> Driven:
            payloads = [f"message-{next(_payloads)}" for _ in range(count)]
            before = unacknowledged_on(destination)
            send_messages(f"/queue/{destination}", payloads)
            refusals = driver.counters.get("ChannelWriteFail", 0)
            deadline = time.monotonic() + _DRIVE_TIMEOUT
            acked = 0
            while time.monotonic() < deadline:
                driver.process()
                acked = before + count - unacknowledged_on(destination)
                if acked >= count or driver.counters.get("ChannelWriteFail", 0) > refusals:
                    break
            return Driven(acked, sent=[p.encode() for p in payloads])
        return drive
