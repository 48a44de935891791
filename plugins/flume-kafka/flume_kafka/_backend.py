"""What the source, sink and channel need from a Kafka client library, as two small protocols.

Two backends implement them: :mod:`flume_kafka._confluent` (librdkafka through
``confluent-kafka``, the default where its wheel installs) and
:mod:`flume_kafka._kafka_python` (pure Python). The components never touch a library's
objects: they send batches of :data:`OutRecord` and poll lists of :data:`Record`, plain
tuples built in one pass over what the library returned (no per-record objects beyond
the tuple); a source polls Flume events straight into its batch
(:meth:`Consumer.poll_batch`), built in that same pass.

Group membership is reported through :class:`Listener`, whose callbacks run inside
:meth:`Consumer.poll` (both libraries serve rebalances from the polling thread).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from flume_sdk import FlumeError

if TYPE_CHECKING:
    from flume_kafka._source_batch import EventForm, SourceBatch

__all__ = [
    "TP",
    "Consumer",
    "KafkaClientError",
    "Listener",
    "OutRecord",
    "Producer",
    "Record",
]

#: A partition: ``(topic, partition)``. kafka-python's ``TopicPartition`` is such a tuple.
TP = tuple[str, int]

#: A consumed record: ``(topic, partition, offset, timestamp_ms or -1, key, value, headers)``.
Record = tuple[str, int, int, int, bytes | None, bytes | None,
               list[tuple[str, bytes | None]] | None]

#: A record to produce: ``(topic, value, key, headers, partition or None, timestamp_ms or None)``.
OutRecord = tuple[str, bytes, bytes | None, list[tuple[str, bytes]] | None, int | None,
                  int | None]


class KafkaClientError(FlumeError):
    """The client library refused or failed an operation; the message says what and where."""


class Listener(Protocol):
    """Group membership callbacks, called from inside :meth:`Consumer.poll`."""

    def revoked(self, partitions: list[TP]) -> None:
        """``partitions`` are being taken away in a rebalance (offsets may still be committed)."""

    def lost(self, partitions: list[TP]) -> None:
        """The member was evicted: ``partitions`` are gone and nothing can be committed."""

    def assigned(self, partitions: list[TP]) -> Mapping[TP, int]:
        """``partitions`` were assigned; return where some of them must start (others
        start at the group's committed offsets)."""


class Producer(Protocol):
    """A producer that acknowledges whole batches."""

    def send_batch(self, records: Iterable[OutRecord]) -> int:
        """Produce ``records`` and return their count only once the broker acknowledged every
        one of them.

        Raises:
            KafkaClientError: a record was refused or not acknowledged in time; some records
                of the batch may have been written (the caller retries the whole batch).
        """

    def close(self, timeout: float) -> None:
        """Deliver what is queued for up to ``timeout`` seconds and release the client."""


class Consumer(Protocol):
    """A group consumer with manual offset commits.

    Attributes:
        join_slice: the longest single poll while the group is (re-)joining, in seconds:
            short enough that a finished join or a wake is noticed soon, long enough for
            the library to finish a join inside one poll.
    """

    join_slice: float

    def subscribe(self, topics: list[str], pattern: str | None, listener: Listener) -> None:
        """Join the group for ``topics`` (or every topic matching ``pattern``)."""

    def poll(self, timeout: float, max_records: int) -> list[Record]:
        """Up to ``max_records`` records, waiting at most ``timeout`` seconds for the first."""

    def poll_batch(self, timeout: float, max_records: int, form: EventForm,
                   batch: SourceBatch) -> None:
        """As :meth:`poll`, but append each record to ``batch`` as the event ``form`` makes
        of it, in the same pass that reads it from the library (a source's poll).

        Raises:
            ValueError: a value is not the Flume Avro event ``form`` expects; nothing of this
                poll was added.
        """

    def assignment(self) -> set[TP]:
        """The partitions this member holds now."""

    def behind(self, timeout: float) -> bool:
        """Whether an assigned partition has records past this member's position (asks the
        broker for the end offsets; True when that cannot be known within ``timeout``)."""

    def seek(self, offsets: Mapping[TP, int]) -> None:
        """Read each assigned partition of ``offsets`` again from that offset (others are
        ignored).

        Raises:
            KafkaClientError: the library cannot seek now; the position is unchanged.
        """

    def commit(self, offsets: Mapping[TP, int], timeout: float) -> None:
        """Commit ``offsets`` (the next offset to read, per partition) synchronously.

        Raises:
            KafkaClientError: the group coordinator did not accept them.
        """

    def close(self) -> None:
        """Leave the group without committing anything."""
