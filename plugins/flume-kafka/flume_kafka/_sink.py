"""``kafka`` sink: each channel batch is produced to Kafka and the take commits only once
the broker acknowledged every record of it.

Topic: ``kafka.topic`` (``%{header}`` escapes allowed), overridden per event by
the ``topicHeader`` header when ``allowTopicOverride``. Partition: the
``partitionIdHeader`` header, else ``defaultPartitionId``, else the
producer's partitioner on the ``key`` header. Flume headers travel inside the
Avro record with ``useFlumeEventFormat``, otherwise as Kafka record headers.
Flume 1.11's ``header.<flumeHeader> = <kafkaHeader>`` keys choose and rename the
Kafka record headers instead (in both formats); ``timestampHeader`` names the
header holding the record's timestamp.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from flume_kafka._clients import client_options, option_problems
from flume_kafka._deprecated import SINK_KEYS, DeprecatedKeys
from flume_kafka._format import headers_to_record, value_from_event
from flume_sdk import (
    SYSTEM_CLOCK,
    BatchSink,
    Clock,
    EscapeTemplate,
    Event,
    EventDeliveryException,
    at_least,
    namespace,
    setting,
)

if TYPE_CHECKING:
    from kafka import KafkaProducer
    from kafka.producer.future import FutureRecordMetadata

__all__ = ["KafkaSink", "KafkaSinkSettings"]

log = logging.getLogger("flume_kafka.sink")


def _optional_int(text: str) -> int | None:
    return int(text.strip()) if text.strip() else None


@attrs.frozen(kw_only=True)
class KafkaSinkSettings:
    bootstrap_servers: str = setting("kafka.bootstrap.servers", required=True,
                                     help="host:port[,host:port...] of the Kafka brokers")
    topic: str = setting("kafka.topic", default="default-flume-topic",
                         help="destination topic; %{header} escapes allowed")
    batch_size: int = setting("flumeBatchSize", default=100, validator=at_least(1),
                              aliases=("kafka.flumeBatchSize",),
                              help="events taken from the channel per transaction")
    use_flume_event_format: bool = setting(
        "useFlumeEventFormat", default=False,
        help="write Flume's Avro event record (headers + body) instead of the body alone")
    default_partition_id: int | None = setting(
        "defaultPartitionId", default=None, converter=_optional_int,
        help="partition for every event without a partitionIdHeader value")
    partition_id_header: str | None = setting(
        "partitionIdHeader", default=None, help="header holding the partition number")
    allow_topic_override: bool = setting(
        "allowTopicOverride", default=True, help="let the topicHeader header choose the topic")
    topic_header: str = setting("topicHeader", default="topic",
                                help="header that overrides the topic when allowed")
    timestamp_header: str | None = setting(
        "timestampHeader", default=None, help="header holding the record timestamp (epoch ms)")
    header_map: dict[str, str] = namespace(
        "header.", help="header.<flumeHeader> = <kafkaHeader>: only these Flume headers become "
                        "Kafka record headers, under these names (Flume 1.11)")
    producer: dict[str, str] = namespace("kafka.producer.", help="kafka-python producer options "
                                         "in Java spelling (linger.ms, acks, compression.type...)")

    def problems(self) -> list[tuple[str, str]]:
        return option_problems("producer", self.producer)


class KafkaSink(DeprecatedKeys, BatchSink):
    """Produces each batch and waits for the broker's acknowledgement of every record.

    The producer is created on the first batch and kept across broker outages:
    kafka-python reconnects by itself, so a failed batch is rolled back and
    retried on the same producer once the broker is back.
    """

    Settings: ClassVar[type] = KafkaSinkSettings
    deprecated_keys = SINK_KEYS
    settings: KafkaSinkSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("KafkaEventSendTimer", "RollbackCount")

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._producer: KafkaProducer | None = None
        self._options = client_options("producer", self.settings.producer,
                                       bootstrap_servers=self.settings.bootstrap_servers)
        topic = self.settings.topic
        self._topic_template = EscapeTemplate(template=topic, clock=clock) if "%" in topic \
            else None

    # -- lifecycle ----------------------------------------------------------------------------

    def do_start(self) -> None:
        self._producer = None  # connect lazily: a sink starts even while the broker is down

    def do_stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)

    # -- delivery -----------------------------------------------------------------------------

    def deliver(self, events: Sequence[Event]) -> None:
        """Send ``events`` and return only when the broker acknowledged all of them.

        Raises:
            EventDeliveryException: a record was refused or not acknowledged in time;
                the batch is rolled back and retried.
        """
        began = time.monotonic()
        try:
            producer = self._connected()
            futures = [self._send(producer, event) for event in events]
            self._await(producer, futures)
        except EventDeliveryException:
            self.counter.incr("RollbackCount")
            raise
        except Exception as exc:
            self.counter.incr("RollbackCount")
            msg = (f"sink {self.name!r}: Kafka at {self.settings.bootstrap_servers} did not "
                   f"acknowledge a batch of {len(events)} event(s): {exc}; the batch was rolled back "
                   "and will be retried (check the broker and kafka.producer.* settings)")
            raise EventDeliveryException(msg) from exc
        finally:
            self.counter.incr("KafkaEventSendTimer", int((time.monotonic() - began) * 1000))

    def _connected(self) -> KafkaProducer:
        if self._producer is None:
            from kafka import KafkaProducer

            self._producer = KafkaProducer(**self._options)
        return self._producer

    def _send(self, producer: KafkaProducer, event: Event) -> FutureRecordMetadata:
        headers = event.headers
        avro = self.settings.use_flume_event_format
        key = headers.get("key")
        return producer.send(
            self._topic_for(headers),
            value=value_from_event(event, avro=avro),
            key=key.encode("utf-8") if key is not None else None,
            headers=self._record_headers(headers, avro),
            partition=self._partition_for(headers),
            timestamp_ms=self._timestamp_for(headers),
        )

    def _await(self, producer: KafkaProducer, futures: list[FutureRecordMetadata]) -> None:
        wait = self._options["delivery_timeout_ms"] / 1000 + 5
        producer.flush(timeout=wait)
        for future in futures:
            future.get(timeout=0 if future.is_done else wait)

    # -- routing ------------------------------------------------------------------------------

    def _topic_for(self, headers: dict[str, str]) -> str:
        settings = self.settings
        if settings.allow_topic_override:
            override = headers.get(settings.topic_header)
            if override:
                return override
        if self._topic_template is not None:
            return self._topic_template.resolve(headers)
        return settings.topic

    def _partition_for(self, headers: dict[str, str]) -> int | None:
        settings = self.settings
        if settings.partition_id_header is not None:
            text = headers.get(settings.partition_id_header)
            if text is not None:
                try:
                    return int(text)
                except ValueError:
                    msg = (f"sink {self.name!r}: header {settings.partition_id_header!r} must hold "
                           f"a partition number (got {text!r}); fix the producer of that header")
                    raise EventDeliveryException(msg) from None
        return settings.default_partition_id

    def _record_headers(self, headers: dict[str, str], avro: bool) -> list[tuple[str, bytes]] | None:
        mapping = self.settings.header_map
        if mapping:
            return [(kafka, headers[flume].encode("utf-8")) for flume, kafka in mapping.items()
                    if flume in headers]
        return None if avro else headers_to_record(headers)

    def _timestamp_for(self, headers: dict[str, str]) -> int | None:
        name = self.settings.timestamp_header
        text = headers.get(name) if name else None
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            log.warning("sink %r: header %r holds %r, not epoch milliseconds; the record gets the "
                        "producer's time", self.name, name, text)
            return None
