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
from typing import Any, ClassVar

import attrs

from flume_kafka._backend import OutRecord, Producer
from flume_kafka._clients import CLIENTS, client_config, client_problems, default_client
from flume_kafka._deprecated import SINK_KEYS, DeprecatedKeys
from flume_kafka._format import encode_avro_event
from flume_sdk import (
    SYSTEM_CLOCK,
    BatchSink,
    Clock,
    EscapeTemplate,
    Event,
    EventDeliveryException,
    at_least,
    namespace,
    one_of,
    setting,
)

__all__ = ["KafkaSink", "KafkaSinkSettings"]

log = logging.getLogger("flume_kafka.sink")


def _optional_int(text: str) -> int | None:
    return int(text.strip()) if text.strip() else None


@attrs.frozen(kw_only=True)
class KafkaSinkSettings:
    bootstrap_servers: str = setting("kafka.bootstrap.servers", required=True,
                                     help="host:port[,host:port...] of the Kafka brokers")
    client: str = setting("kafka.client", default=default_client(), validator=one_of(*CLIENTS),
                          help="client library: confluent (librdkafka) or kafka-python")
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
    producer: dict[str, str] = namespace("kafka.producer.", help="producer options in Java "
                                         "spelling (linger.ms, acks, compression.type...)")

    def problems(self) -> list[tuple[str, str]]:
        return client_problems(self.client.lower(), producer=self.producer)


class KafkaSink(DeprecatedKeys, BatchSink):
    """Produces each batch and waits for the broker's acknowledgement of every record.

    The producer is created on the first batch and kept across broker outages:
    both libraries reconnect by themselves, so a failed batch is rolled back and
    retried on the same producer once the broker is back.
    """

    Settings: ClassVar[type] = KafkaSinkSettings
    deprecated_keys = SINK_KEYS
    settings: KafkaSinkSettings
    counter_extra: ClassVar[tuple[str, ...]] = ("KafkaEventSendTimer", "RollbackCount")

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._producer: Producer | None = None
        self._config = client_config(self.settings.client.lower(), "producer",
                                     self.settings.producer, self.settings.bootstrap_servers)
        topic = self.settings.topic
        self._topic_template = EscapeTemplate(template=topic, clock=clock) if "%" in topic \
            else None

    # -- lifecycle ----------------------------------------------------------------------------

    def do_start(self) -> None:
        self._producer = None  # connect lazily: a sink starts even while the broker is down

    def do_stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(5)

    # -- delivery -----------------------------------------------------------------------------

    def deliver(self, events: Sequence[Event]) -> None:
        """Send ``events`` and return only when the broker acknowledged all of them.

        Raises:
            EventDeliveryException: a record was refused or not acknowledged in time;
                the batch is rolled back and retried.
        """
        began = time.monotonic()
        try:
            self._connected().send_batch(self._records(events))
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

    def _connected(self) -> Producer:
        if self._producer is None:
            self._producer = self._config.producer()
        return self._producer

    def _records(self, events: Sequence[Event]) -> list[OutRecord]:
        """The batch as records: all routing decided here, once per event."""
        settings = self.settings
        if (settings.partition_id_header is None and settings.timestamp_header is None
                and not settings.header_map and not settings.use_flume_event_format
                and self._topic_template is None):
            return self._plain_records(events)
        avro = settings.use_flume_event_format
        topic_for, partition_for = self._topic_for, self._partition_for
        timestamp_for, record_headers = self._timestamp_for, self._record_headers
        records: list[OutRecord] = []
        append = records.append
        for event in events:
            headers = event.headers
            key = headers.get("key")
            append((topic_for(headers), encode_avro_event(event) if avro else event.body,
                    None if key is None else key.encode("utf-8"), record_headers(headers, avro),
                    partition_for(headers), timestamp_for(headers)))
        return records

    def _plain_records(self, events: Sequence[Event]) -> list[OutRecord]:
        """:meth:`_records` of the default settings (plain bodies, every Flume header as a
        Kafka header) with the per-event decisions inlined: the sink's hot loop."""
        settings = self.settings
        topic, partition = settings.topic, settings.default_partition_id
        override = settings.topic_header if settings.allow_topic_override else None
        records: list[OutRecord] = []
        append = records.append
        for event in events:
            headers = event.headers
            if not headers:
                append((topic, event.body, None, None, partition, None))
                continue
            key = headers.get("key")
            append(((override and headers.get(override)) or topic, event.body,
                    None if key is None else key.encode("utf-8"),
                    [(name, text.encode("utf-8")) for name, text in headers.items()],
                    partition, None))
        return records

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
                    if flume in headers] or None
        if avro or not headers:
            return None
        return [(name, value.encode("utf-8")) for name, value in headers.items()]

    def _timestamp_for(self, headers: dict[str, str]) -> int | None:
        name = self.settings.timestamp_header
        if name is None:
            return None
        text = headers.get(name)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            log.warning("sink %r: header %r holds %r, not epoch milliseconds; the record gets the "
                        "producer's time", self.name, name, text)
            return None
