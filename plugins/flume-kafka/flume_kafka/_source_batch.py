"""A Kafka source's batch: the Flume events built from polled records, and where they came from.

The source polls straight into a :class:`SourceBatch`: a backend builds each record's event
as it reads the record (:meth:`Consumer.poll_batch <flume_kafka._backend.Consumer.poll_batch>`),
so no record is walked twice. What goes on each event is an :class:`EventForm`, made once from
the source's settings:

* ``timestamp``: the record's timestamp in ms (the poll's time if the record has none);
  ``partition``, ``offset``; ``key`` when the record has one (UTF-8, undecodable bytes
  replaced); the topic under ``topicHeader`` when ``setTopicHeader``;
* the headers of a Flume Avro event (``useFlumeEventFormat``) and the Kafka record headers
  (only those named by ``header.*``, under their Flume names; without ``header.*``, every
  Kafka header of a plain record) win over those, except ``timestampHeader``, which always
  holds the record's timestamp.

A batch keeps its events in poll order with each event's offset and the runs of consecutive
events from one partition: the next offsets to commit, the first offsets to seek back to and
the events of revoked partitions are found per run, not per event.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping

import attrs

from flume_kafka._backend import TP, Record
from flume_kafka._format import decode_avro_event
from flume_sdk import Clock, Event

__all__ = ["EventForm", "SourceBatch"]

#: Headers set per record after the fixed ones; a topic or timestamp header of one of these
#: names must be set after them (see :attr:`EventForm.templated`).
_PER_RECORD = frozenset({"offset", "key"})


@attrs.frozen(kw_only=True)
class EventForm:
    """What a source puts on the event of each record (see the module docstring).

    Args:
        topic_header: the header holding the record's topic, or ``None``.
        timestamp_header: a header that also holds the record's timestamp, or ``None``.
        avro: record values are Flume Avro events.
        from_kafka_header: ``{kafka header: flume header}`` (``header.*``); empty: every
            Kafka header of a plain record, under its own name.
        clock: gives the timestamp of records that have none.
    """

    topic_header: str | None
    timestamp_header: str | None
    avro: bool
    from_kafka_header: Mapping[str, str]
    clock: Clock

    @property
    def templated(self) -> bool:
        """Whether a backend may build events from :meth:`template` (a plain value, no Kafka
        headers): the topic and timestamp headers then go before ``offset`` and ``key``, so
        neither may be named like those."""
        return not self.avro and not ({self.topic_header, self.timestamp_header} & _PER_RECORD)

    def now(self) -> str:
        """The timestamp header of records without a timestamp: the poll's time, in ms."""
        return str(int(self.clock.time() * 1000))

    def template(self, topic: str, partition: int, stamp: str) -> dict[str, str]:
        """The headers every plain record of ``topic[partition]`` stamped ``stamp`` shares;
        a backend copies it and adds ``offset`` and ``key``."""
        headers = {"timestamp": stamp, "partition": str(partition)}
        if self.topic_header is not None:
            headers[self.topic_header] = topic
        if self.timestamp_header:
            headers[self.timestamp_header] = stamp
        return headers

    def event(self, headers: dict[str, str], value: bytes | None,
              kafka_headers: Iterable[tuple[str, bytes | None]] | None, stamp: str) -> Event:
        """The event of a record whose value or Kafka headers bring headers of their own:
        those win over ``headers`` (the record's), except the timestamp header.

        Raises:
            ValueError: ``avro`` and the value is not a Flume Avro event.
        """
        event = decode_avro_event(value or b"") if self.avro else Event(value or b"", {})
        mapping, own = self.from_kafka_header, event.headers
        for kafka_name, raw in kafka_headers or ():
            flume_name = mapping.get(kafka_name) if mapping else (None if self.avro else kafka_name)
            if flume_name is not None:
                own[flume_name] = (raw or b"").decode("utf-8", "replace")
        event.headers = headers | own
        if self.timestamp_header:
            event.headers[self.timestamp_header] = stamp
        return event


class SourceBatch:
    """Events polled for one ``process()``, each with its offset, and the runs of consecutive
    events of one partition as ``(partition, index of its first event)``.

    A backend appends to :attr:`events`, :attr:`offsets` and :attr:`runs` together (a run
    starts wherever the partition differs from the previous event's);
    :meth:`add_records` does so for records already read into tuples.
    """

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.offsets: list[int] = []
        self.runs: list[tuple[TP, int]] = []

    def __len__(self) -> int:
        return len(self.events)

    def clear(self) -> None:
        """Start a new batch (new lists: a channel may keep the last batch's list)."""
        self.events, self.offsets, self.runs = [], [], []

    @contextlib.contextmanager
    def appending(self) -> Iterator[None]:
        """Append all or nothing: an exception removes what was appended inside."""
        events, runs = len(self.events), len(self.runs)
        try:
            yield
        except BaseException:
            del self.events[events:], self.offsets[events:], self.runs[runs:]
            raise

    def add_records(self, records: Iterable[Record], form: EventForm) -> None:
        """Append the event of each record, built as :class:`EventForm` says (all or nothing).

        Raises:
            ValueError: a value is not the Flume Avro event ``form`` expects.
        """
        with self.appending():
            self._add_records(records, form)

    def _add_records(self, records: Iterable[Record], form: EventForm) -> None:
        topic_header, stamp_header = form.topic_header, form.timestamp_header
        special = form.avro or bool(form.from_kafka_header)
        now = form.now()
        last_timestamp, stamp = None, now  # a batch's records mostly share their millisecond
        last_tp: TP | None = None
        events, offsets, runs = self.events, self.offsets, self.runs
        for topic, partition, offset, timestamp, key, value, kafka_headers in records:
            if timestamp != last_timestamp:
                last_timestamp, stamp = timestamp, str(timestamp) if timestamp >= 0 else now
            if last_tp is None or last_tp[1] != partition or last_tp[0] != topic:
                last_tp = (topic, partition)
                runs.append((last_tp, len(events)))
            headers = {"timestamp": stamp, "partition": str(partition), "offset": str(offset)}
            if key is not None:
                headers["key"] = key.decode("utf-8", "replace")
            if topic_header is not None:
                headers[topic_header] = topic
            if special or kafka_headers:
                events.append(form.event(headers, value, kafka_headers, stamp))
            else:
                if stamp_header:
                    headers[stamp_header] = stamp
                events.append(Event(value or b"", headers))
            offsets.append(offset)

    # -- per run ------------------------------------------------------------------------------

    def _spans(self) -> Iterator[tuple[TP, int, int]]:
        """``(partition, start, stop)`` of each non-empty run, in order."""
        runs, end = self.runs, len(self.events)
        for index, (tp, start) in enumerate(runs):
            stop = runs[index + 1][1] if index + 1 < len(runs) else end
            if stop > start:
                yield tp, start, stop

    def next_offsets(self) -> dict[TP, int]:
        """The offset after the last event of each partition: what to commit."""
        offsets = self.offsets
        return {tp: offsets[stop - 1] + 1 for tp, _, stop in self._spans()}

    def first_offsets(self) -> dict[TP, int]:
        """The offset of the first event of each partition: where to read it again."""
        first: dict[TP, int] = {}
        for tp, start, _ in self._spans():
            first.setdefault(tp, self.offsets[start])
        return first

    def split(self, count: int) -> tuple[SourceBatch, SourceBatch]:
        """The first ``count`` events and the rest, as two batches."""
        head, rest = SourceBatch(), SourceBatch()
        for tp, start, stop in self._spans():
            part = head if start < count else rest
            if start < count < stop:
                head._extend(self, tp, start, count)
                part, start = rest, count
            part._extend(self, tp, start, stop)
        return head, rest

    def drop(self, partitions: Iterable[TP]) -> dict[TP, int]:
        """Remove the events of ``partitions``; return the first offset dropped of each."""
        gone = set(partitions)
        first = {tp: offset for tp, offset in self.first_offsets().items() if tp in gone}
        if first:
            kept = SourceBatch()
            for tp, start, stop in self._spans():
                if tp not in gone:
                    kept._extend(self, tp, start, stop)
            self.events, self.offsets, self.runs = kept.events, kept.offsets, kept.runs
        return first

    def _extend(self, other: SourceBatch, tp: TP, start: int, stop: int) -> None:
        self.runs.append((tp, len(self.events)))
        self.events += other.events[start:stop]
        self.offsets += other.offsets[start:stop]
