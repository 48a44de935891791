"""``kafka`` channel: a Kafka topic is the buffer (Flume's KafkaChannel).

A put transaction produces its events at commit and commits only once the
broker acknowledged all of them. A take consumes from the topic in group
``kafka.consumer.group.id``; its offsets are committed at take-commit. One
consumer serves every taking thread of the channel (kafka-python consumers are
not thread-safe, so calls are serialised), and because transactions may commit
out of order, the committed position of a partition only advances to the
lowest offset still buffered or taken by an open transaction. A rolled-back
take goes back to the head of the channel, in order. While the group is
(re-)joining, a take keeps polling for up to a session timeout + 5 s, so an empty take
means an empty topic and the member never stops heartbeating in the middle of a
join; partitions handed back to this member are sought back to the records it
dropped (:mod:`flume_kafka._group`, shared with the source).

Runs with no source (other producers feed the topic) and with no sink.
Committed events live in Kafka, so the channel is durable. It has no capacity
limit (as in Flume); ``transactionCapacity`` is an addition of this plugin.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import attrs

from flume_kafka._backend import TP, Consumer, OutRecord, Producer, Record
from flume_kafka._clients import CLIENTS, client_config, client_problems, default_client
from flume_kafka._deprecated import CHANNEL_KEYS, DeprecatedKeys
from flume_kafka._format import (
    event_from_value,
    headers_from_record,
    headers_to_record,
    value_from_event,
)
from flume_kafka._group import GroupMember
from flume_sdk import (
    SYSTEM_CLOCK,
    Channel,
    ChannelException,
    Clock,
    Event,
    Transaction,
    at_least,
    namespace,
    one_of,
    setting,
)

__all__ = ["KafkaChannel", "KafkaChannelSettings", "KafkaTransaction"]

log = logging.getLogger("flume_kafka.channel")

#: A take waits for records a broker may hold a fetch for up to fetch.max.wait.ms before
#: answering (tansu does, even when records arrive): a short wait keeps a put followed by a
#: take fast (put+take 16k -> see the README's table) at the cost of more fetches while idle.
CONSUMER_DEFAULTS = {"fetch.max.wait.ms": "10"}


def _optional_int(text: str) -> int | None:
    return int(text.strip()) if text.strip() else None


@attrs.frozen(kw_only=True)
class KafkaChannelSettings:
    bootstrap_servers: str = setting("kafka.bootstrap.servers", required=True,
                                     help="host:port[,host:port...] of the Kafka brokers")
    client: str = setting("kafka.client", default=default_client(), validator=one_of(*CLIENTS),
                          help="client library: confluent (librdkafka) or kafka-python")
    topic: str = setting("kafka.topic", default="flume-channel",
                         help="the topic that holds the channel's events")
    parse_as_flume_event: bool = setting(
        "parseAsFlumeEvent", default=True,
        help="records are Flume Avro events (headers + body); false: the body alone")
    poll_timeout: int = setting("pollTimeout", default=500, validator=at_least(1),
                                help="ms a take waits for records before returning empty")
    default_partition_id: int | None = setting(
        "defaultPartitionId", default=None, converter=_optional_int,
        help="partition for every event without a partitionIdHeader value")
    partition_id_header: str | None = setting("partitionIdHeader", default=None,
                                              help="header holding the partition number")
    transaction_capacity: int = setting("transactionCapacity", default=1 << 30, validator=at_least(1),
                                        help="most puts (and takes) in one transaction "
                                             "(not in Flume)")
    producer: dict[str, str] = namespace("kafka.producer.", help="producer options in Java "
                                         "spelling")
    consumer: dict[str, str] = namespace("kafka.consumer.", help="consumer options in Java "
                                         "spelling (group.id, auto.offset.reset...)")

    def problems(self) -> list[tuple[str, str]]:
        return client_problems(self.client.lower(), producer=self.producer,
                               consumer=self.consumer)


@attrs.define(eq=False)
class _Partition:
    """What the channel holds of one assigned partition."""

    tp: TP
    next_fetch: int = 0
    committed: int = -1
    unfinished: dict[int, None] = attrs.Factory(dict)  # offsets buffered or taken, in order

    def position_without(self, done: set[int]) -> int:
        """The offset to commit once ``done`` are finished: the lowest unfinished left."""
        for offset in self.unfinished:
            if offset not in done:
                return offset
        return self.next_fetch


@attrs.frozen
class _Taken:
    partition: _Partition
    offset: int
    event: Event


class KafkaChannel(DeprecatedKeys, Channel):
    """A Kafka topic as the channel; see the module docstring for the guarantees."""

    Settings: ClassVar[type] = KafkaChannelSettings
    deprecated_keys = CHANNEL_KEYS
    settings: KafkaChannelSettings
    durable: ClassVar[bool] = True
    counter_extra: ClassVar[tuple[str, ...]] = ("KafkaEventGetTimer", "KafkaEventSendTimer",
                                                "KafkaCommitTimer", "RollbackCounter")

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        servers, client = self.settings.bootstrap_servers, self.settings.client.lower()
        self._producer_config = client_config(client, "producer", self.settings.producer, servers)
        consumer = {"group.id": "flume", **CONSUMER_DEFAULTS, **self.settings.consumer}
        self._consumer_config = client_config(client, "consumer", consumer, servers)
        self._lock = threading.Lock()
        self._producer_lock = threading.Lock()
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._member = _Member(self)
        self._reset()

    def _reset(self) -> None:
        self._buffer: deque[_Taken] = deque()
        self._partitions: dict[TP, _Partition] = {}

    @property
    def size(self) -> int:
        """Records fetched from Kafka and not yet taken (the topic's backlog is not counted)."""
        return len(self._buffer)

    def create_transaction(self) -> Transaction:
        return KafkaTransaction(self)

    def wake(self) -> None:
        """End a take waiting for the group to (re-)join now (a sink runner is stopping)."""
        self._member.wake()

    # -- lifecycle ----------------------------------------------------------------------------

    def do_start(self) -> None:
        self._reset()  # connect lazily: the channel starts even while the broker is down

    def do_stop(self) -> None:
        """Close both clients; nothing is committed here (FLUME-2920), so open takes are re-read."""
        with self._lock:
            consumer, self._consumer = self._consumer, None
            self._reset()
        if consumer is not None:
            consumer.close()
        with self._producer_lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(5)

    # -- put side -------------------------------------------------------------------------

    def _produce(self, events: Sequence[Event]) -> None:
        began = time.monotonic()
        try:
            self._connected_producer().send_batch(self._records(events))
        except ChannelException:
            raise
        except Exception as exc:
            msg = (f"{self.name}: Kafka at {self.settings.bootstrap_servers} did not acknowledge "
                   f"{len(events)} event(s) for topic {self.settings.topic!r}: {exc}; the put "
                   "must be rolled back and retried (check the broker)")
            raise ChannelException(msg) from exc
        finally:
            self.counter.incr("KafkaEventSendTimer", int((time.monotonic() - began) * 1000))

    def _connected_producer(self) -> Producer:
        with self._producer_lock:
            if self._producer is None:
                self._producer = self._producer_config.producer()
            return self._producer

    def _records(self, events: Sequence[Event]) -> list[OutRecord]:
        avro, topic = self.settings.parse_as_flume_event, self.settings.topic
        partition_for = self._partition_for
        records: list[OutRecord] = []
        for event in events:
            headers = event.headers
            key = headers.get("key")
            records.append((topic, value_from_event(event, avro=avro),
                            None if key is None else key.encode("utf-8"),
                            None if avro or not headers else headers_to_record(headers),
                            partition_for(headers), None))
        return records

    def _partition_for(self, headers: dict[str, str]) -> int | None:
        name = self.settings.partition_id_header
        text = headers.get(name) if name else None
        if text is None:
            return self.settings.default_partition_id
        try:
            return int(text)
        except ValueError:
            msg = (f"{self.name}: header {name!r} must hold a partition number (got {text!r}); "
                   "fix the source or interceptor that sets it")
            raise ChannelException(msg) from None

    # -- take side ------------------------------------------------------------------------

    def _take(self, max_events: int) -> list[_Taken]:
        with self._lock:
            if not self._buffer:
                self._fetch(max_events)
            buffer = self._buffer
            return [buffer.popleft() for _ in range(min(max_events, len(buffer)))]

    def _fetch(self, max_events: int) -> None:
        began = time.monotonic()
        try:
            consumer = self._connected_consumer()
            batch = max(max_events, 100)

            def fetch(timeout: float, wanted: int) -> bool:
                records = consumer.poll(timeout, wanted)
                if records:
                    self._buffer_records(records)
                return bool(records)
            self._member.poll(consumer, self.settings.poll_timeout / 1000,  # once anything came:
                              lambda: 0 if self._buffer else batch, fetch)
        except Exception as exc:
            msg = (f"{self.name}: taking from Kafka topic {self.settings.topic!r} at "
                   f"{self.settings.bootstrap_servers} failed: {exc}")
            raise ChannelException(msg) from exc
        finally:
            self.counter.incr("KafkaEventGetTimer", int((time.monotonic() - began) * 1000))

    def _buffer_records(self, records: list[Record]) -> None:
        avro, partitions, buffer = self.settings.parse_as_flume_event, self._partitions, self._buffer
        for topic, partition, offset, _, _, value, kafka_headers in records:
            tp = (topic, partition)
            state = partitions.get(tp)
            if state is None:
                state = partitions[tp] = _Partition(tp)
            event = event_from_value(value, avro=avro)
            if not avro and kafka_headers:
                event.headers.update(headers_from_record(kafka_headers))
            state.unfinished[offset] = None
            state.next_fetch = offset + 1
            buffer.append(_Taken(state, offset, event))

    def _connected_consumer(self) -> Consumer:
        if self._consumer is None:
            consumer = self._consumer_config.consumer()
            self._member.subscribe(consumer, topics=[self.settings.topic])
            self._consumer = consumer
        return self._consumer

    def _complete(self, taken: Sequence[_Taken]) -> None:
        """Commit the offsets that finishing ``taken`` makes safe, then forget those records."""
        with self._lock:
            done: dict[_Partition, set[int]] = {}
            for item in taken:
                if self._partitions.get(item.partition.tp) is item.partition:
                    done.setdefault(item.partition, set()).add(item.offset)
            positions = {state: state.position_without(offsets) for state, offsets in done.items()}
            self._commit_positions({s: p for s, p in positions.items() if p > s.committed})
            for state, offsets in done.items():
                for offset in offsets:
                    state.unfinished.pop(offset, None)

    def _commit_positions(self, positions: dict[_Partition, int]) -> None:
        if not positions or self._consumer is None:
            return
        began = time.monotonic()
        try:
            self._consumer.commit({s.tp: p for s, p in positions.items()},
                                  self._consumer_config.session_timeout)
        except Exception as exc:
            msg = (f"{self.name}: committing offsets of topic {self.settings.topic!r} for group "
                   f"{self._consumer_config.group_id!r} failed: {exc}; roll back the take "
                   "(its events stay in the channel)")
            raise ChannelException(msg) from exc
        finally:
            self.counter.incr("KafkaCommitTimer", int((time.monotonic() - began) * 1000))
        for state, position in positions.items():
            state.committed = position

    def _give_back(self, taken: Sequence[_Taken]) -> None:
        """Return rolled-back takes to the head, in order; records of revoked partitions are
        dropped (their new owner reads them from the committed offset)."""
        with self._lock:
            kept = [t for t in taken if self._partitions.get(t.partition.tp) is t.partition]
            self._buffer.extendleft(reversed(kept))
        self.counter.incr("RollbackCounter")

    # -- rebalances (called inside consumer.poll, with self._lock held) -------------------

    def _release(self, partitions: Iterable[TP], *,
                 lost: bool) -> dict[TP, int]:
        """Drop what is held of ``partitions``; commit their safe positions unless ``lost``."""
        gone = {tp: self._partitions.pop(tp) for tp in partitions if tp in self._partitions}
        if not gone:
            return {}
        self._buffer = deque(t for t in self._buffer if t.partition.tp not in gone)
        safe = {s: s.position_without(set()) for s in gone.values()}
        if not lost:
            try:
                self._commit_positions({s: p for s, p in safe.items() if p > s.committed})
            except ChannelException as exc:
                log.warning("%s: offsets of revoked partitions not committed: %s", self.name, exc)
        return {s.tp: p for s, p in safe.items()}


class _Member(GroupMember):
    """The channel's consumer in its group: revoked partitions leave the buffer."""

    def __init__(self, channel: KafkaChannel) -> None:
        super().__init__(channel._consumer_config.session_timeout)
        self._channel = channel

    def release(self, partitions: Iterable[TP], *, lost: bool) -> dict[TP, int]:
        return self._channel._release(partitions, lost=lost)


class KafkaTransaction(Transaction):
    """Puts are produced at commit; takes are consumed now and their offsets committed at commit."""

    channel: KafkaChannel

    def do_begin(self) -> None:
        self._puts: list[Event] = []
        self._takes: list[_Taken] = []

    def do_put_batch(self, events: Sequence[Event]) -> None:
        self._puts.extend(events)

    def do_take_batch(self, max_events: int) -> list[Event]:
        taken = self.channel._take(max_events)
        self._takes.extend(taken)
        return [t.event for t in taken]

    def do_commit(self) -> None:
        if self._puts:
            self.channel._produce(self._puts)
            self._puts = []
        if self._takes:
            self.channel._complete(self._takes)
            self._takes = []

    def do_rollback(self) -> None:
        self._puts = []
        if self._takes:
            self.channel._give_back(self._takes)
            self._takes = []
