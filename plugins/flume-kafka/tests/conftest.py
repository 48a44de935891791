"""Shared helpers for the flume-kafka tests: unique names and fast-joining client settings."""

from __future__ import annotations

import itertools
import os

__all__ = ["FAST_CONSUMER", "FAST_PRODUCER", "LARGE_RECORDS", "unique"]

_counter = itertools.count()

#: tansu holds each JoinGroup for session/2 (test-infra.md §1.1): 6 s sessions join in ~3 s.
FAST_CONSUMER: dict[str, str] = {
    "kafka.consumer.session.timeout.ms": "6000",
    "kafka.consumer.heartbeat.interval.ms": "1000",
}

#: Producer timeouts short enough that a dead broker fails a batch within seconds.
FAST_PRODUCER: dict[str, str] = {
    "kafka.producer.max.block.ms": "2000",
    "kafka.producer.request.timeout.ms": "2000",
    "kafka.producer.delivery.timeout.ms": "3000",
}

#: The testkit's edge cases include a 1 MiB body: above Kafka's 1 MB default request size.
LARGE_RECORDS: dict[str, str] = {
    "kafka.producer.max.request.size": "4194304",
    "kafka.consumer.max.partition.fetch.bytes": "4194304",
}


def unique(prefix: str) -> str:
    """A topic or group name no other test in this process uses."""
    return f"{prefix}-{os.getpid()}-{next(_counter)}"
