"""``kafka`` source: a group consumer whose offsets are committed only after the channel commit.

Each ``process()`` polls up to ``batchSize`` records or for at most
``batchDurationMillis``, hands them to the channel processor as one batch and,
only once that returned, commits the next offsets synchronously. A refused
batch seeks its partitions back so the same records come again. Records of
partitions revoked by a rebalance in the middle of a batch are dropped from it:
their new owner reads them from the last committed offset, so a rebalance
neither loses nor duplicates them.

While the group has not assigned partitions (first join, rebalance, broker
restart) ``process()`` keeps polling for up to a session timeout instead of
returning after ``batchDurationMillis``, and a partition handed back to this
member is sought back to the records dropped from the batch
(:mod:`flume_kafka._group`, shared with the channel).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from typing import Any, ClassVar

import attrs

from flume_kafka._backend import TP, Consumer, KafkaClientError
from flume_kafka._clients import CLIENTS, client_config, client_problems, default_client
from flume_kafka._deprecated import SOURCE_KEYS, DeprecatedKeys
from flume_kafka._group import GroupMember
from flume_kafka._source_batch import EventForm, SourceBatch
from flume_sdk import (
    SYSTEM_CLOCK,
    Clock,
    PollableSource,
    Status,
    at_least,
    namespace,
    one_of,
    setting,
)

__all__ = ["KafkaSource", "KafkaSourceSettings"]

log = logging.getLogger("flume_kafka.source")


def _topics(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


@attrs.frozen(kw_only=True)
class KafkaSourceSettings:
    bootstrap_servers: str = setting("kafka.bootstrap.servers", required=True,
                                     help="host:port[,host:port...] of the Kafka brokers")
    client: str = setting("kafka.client", default=default_client(), validator=one_of(*CLIENTS),
                          help="client library: confluent (librdkafka) or kafka-python")
    topics: tuple[str, ...] = setting("kafka.topics", default=(), converter=_topics,
                                      help="comma-separated topics to consume")
    topics_regex: str | None = setting("kafka.topics.regex", default=None,
                                       help="consume every topic matching this regex (wins over "
                                            "kafka.topics)")
    batch_size: int = setting(default=1000, validator=at_least(1),
                              help="most records per channel transaction")
    batch_duration_millis: int = setting(default=1000, validator=at_least(1),
                                         help="longest wait to fill a batch (ms)")
    backoff_sleep_increment: int = setting(default=1000, validator=at_least(0),
                                           help="runner backoff step when idle (ms)")
    max_backoff_sleep: int = setting(default=5000, validator=at_least(0),
                                     help="longest runner backoff (ms)")
    use_flume_event_format: bool = setting("useFlumeEventFormat", default=False,
                                           help="record values are Flume Avro events")
    set_topic_header: bool = setting(default=True, help="put the record's topic in a header")
    topic_header: str = setting(default="topic", help="name of that header")
    timestamp_header: str | None = setting(
        "timestampHeader", default=None,
        help="also copy the record's timestamp into this header (Flume 1.11)")
    header_map: dict[str, str] = namespace(
        "header.", help="header.<flumeHeader> = <kafkaHeader>: only these Kafka record headers "
                        "become Flume headers, under these names (Flume 1.11)")
    consumer: dict[str, str] = namespace("kafka.consumer.", help="consumer options in Java "
                                         "spelling (group.id, session.timeout.ms...)")

    def problems(self) -> list[tuple[str, str]]:
        found = client_problems(self.client.lower(), consumer=self.consumer)
        if not self.topics and not self.topics_regex:
            found.append(("kafka.topics", "is required (or kafka.topics.regex); name the topics "
                                          "to consume"))
        if self.topics_regex is not None:
            try:
                re.compile(self.topics_regex)
            except re.error as exc:
                found.append(("kafka.topics.regex", f"is not a valid regex ({exc})"))
        return found


class KafkaSource(DeprecatedKeys, PollableSource):
    """Consumes ``kafka.topics`` in group ``kafka.consumer.group.id`` (default ``flume``)."""

    Settings: ClassVar[type] = KafkaSourceSettings
    deprecated_keys = SOURCE_KEYS
    settings: KafkaSourceSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("KafkaEventGetTimer", "KafkaCommitTimer",
                                                "KafkaEmptyCount")

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self.backoff_sleep_increment = self.settings.backoff_sleep_increment / 1000
        self.max_backoff_sleep = self.settings.max_backoff_sleep / 1000
        consumer = {"group.id": "flume", **self.settings.consumer}
        self._config = client_config(self.settings.client.lower(), "consumer", consumer,
                                     self.settings.bootstrap_servers)
        self._consumer: Consumer | None = None
        self._batch = SourceBatch()
        self._group = _Revocations(self._batch, self._config.session_timeout)
        settings = self.settings
        self._form = EventForm(
            topic_header=settings.topic_header if settings.set_topic_header else None,
            timestamp_header=settings.timestamp_header, avro=settings.use_flume_event_format,
            from_kafka_header={kafka: flume for flume, kafka in settings.header_map.items()},
            clock=self.clock)

    @property
    def group_id(self) -> str:
        return self._config.group_id

    # -- lifecycle ----------------------------------------------------------------------------

    def do_start(self) -> None:
        self._consumer = None  # connect lazily: a source starts even while the broker is down

    def do_stop(self) -> None:
        """Close without committing: what was not committed after a channel commit is re-read."""
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close()

    def _connected(self) -> Consumer:
        if self._consumer is None:
            consumer = self._config.consumer()
            self._group.subscribe(consumer, topics=list(self.settings.topics),
                                  pattern=self.settings.topics_regex)
            self._consumer = consumer
        return self._consumer

    # -- one batch ----------------------------------------------------------------------------

    def process(self) -> Status:
        """Poll one batch, commit it to the channel, then commit its offsets."""
        consumer = self._connected()
        batch = self._batch
        batch.clear()
        self._fill(consumer)
        if not batch:
            self.counter.incr("KafkaEmptyCount")
            return Status.BACKOFF
        events = batch.events
        delivered = self.deliver(events)
        if not delivered:
            # the channel committed the first ``accepted`` events (in transaction-sized
            # slices): their offsets are committed, the rest is read again
            log.warning("source %r: channel refused %d of %d event(s), re-reading them later: "
                        "%s", self.name, len(events) - delivered.accepted, len(events),
                        delivered.error)
            done, rest = batch.split(delivered.accepted)
            if done:
                self._commit(consumer, done.next_offsets())
            self._seek_back(consumer, rest.first_offsets())
            return Status.BACKOFF
        self._commit(consumer, batch.next_offsets())
        return Status.READY

    def _fill(self, consumer: Consumer) -> None:
        began = time.monotonic()
        size, batch, form = self.settings.batch_size, self._batch, self._form

        def fetch(timeout: float, wanted: int) -> bool:
            before = len(batch)
            consumer.poll_batch(timeout, wanted, form, batch)  # the events go into the batch
            return len(batch) > before
        self._group.poll(consumer, self.settings.batch_duration_millis / 1000,
                         lambda: size - len(batch), fetch)
        self.counter.incr("KafkaEventGetTimer", int((time.monotonic() - began) * 1000))

    def _seek_back(self, consumer: Consumer, first: dict[TP, int]) -> None:
        """Read ``first`` again; if the library cannot seek, leave the group without
        committing, so the next consumer resumes at the committed offsets."""
        try:
            consumer.seek(first)
        except KafkaClientError as exc:
            log.warning("source %r: %s; reconnecting to resume at the committed offsets",
                        self.name, exc)
            self._consumer = None
            consumer.close()

    def _commit(self, consumer: Consumer, offsets: dict[TP, int]) -> None:
        began = time.monotonic()
        try:
            consumer.commit(offsets, self._config.session_timeout)
        except Exception as exc:
            log.warning("source %r: committing offsets %s to group %r failed (%s); those records "
                        "will be read again after a restart or rebalance (at most one batch)",
                        self.name, offsets, self.group_id, exc)
        finally:
            self.counter.incr("KafkaCommitTimer", int((time.monotonic() - began) * 1000))


class _Revocations(GroupMember):
    """Drops records of revoked partitions from the batch being filled."""

    def __init__(self, batch: SourceBatch, session_timeout: float) -> None:
        super().__init__(session_timeout)
        self._batch = batch

    def release(self, partitions: Iterable[TP], *, lost: bool) -> dict[TP, int]:
        return self._batch.drop(partitions)
