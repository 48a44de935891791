"""Broker-free: the events a source builds from records, and its batch's offset bookkeeping.

librdkafka's own ``Message`` objects stand in for what ``consume()`` returns; the one-pass
path of the confluent backend must build exactly the events of the general path (the
kafka-python backend's, and confluent's for Avro values).
"""

from __future__ import annotations

import confluent_kafka
import pytest
from flume_kafka._confluent import ConfluentConsumer, _fill
from flume_kafka._source_batch import EventForm, SourceBatch
from flume_testkit.clock import FakeClock

from flume_sdk import Event


def _form(**overrides: object) -> EventForm:
    settings: dict[str, object] = {"topic_header": "topic", "timestamp_header": None,
                                   "avro": False, "from_kafka_header": {},
                                   "clock": FakeClock(start=1_700_000_000.5)}
    return EventForm(**{**settings, **overrides})  # type: ignore[arg-type]


def _message(topic: str, partition: int, offset: int, *, stamp: int = 1_000, key: bytes | None = None,
             headers: list[tuple[str, bytes | None]] | None = None) -> confluent_kafka.Message:
    return confluent_kafka.Message(topic=topic, partition=partition, offset=offset,
                                   value=b"v%d" % offset, key=key, headers=headers,
                                   timestamp=(1, stamp))


#: Runs of two partitions and two topics, keys, Kafka headers, records without a timestamp.
MESSAGES = [
    _message("a", 0, 10), _message("a", 0, 11, key=b"k\xff"), _message("a", 1, 5, stamp=-1),
    _message("a", 0, 12, stamp=1_001, headers=[("X-Origin", b"java"), ("other", None)]),
    _message("b", 0, 7), _message("b", 0, 9, stamp=1_001), _message("a", 1, 6),
]

FORMS = {
    "defaults": {},
    "timestamp header": {"timestamp_header": "kafka.ts"},
    "header map": {"from_kafka_header": {"X-Origin": "origin"}},
    "no topic header": {"topic_header": None},
    "topic header named key": {"topic_header": "key"},
}


def _one_pass(form: EventForm) -> SourceBatch:
    batch = SourceBatch()
    assert _fill(MESSAGES, form, batch) == []
    return batch


def _general(form: EventForm) -> SourceBatch:
    batch = SourceBatch()
    batch.add_records(ConfluentConsumer._records(MESSAGES), form)
    return batch


@pytest.mark.parametrize("overrides", FORMS.values(), ids=FORMS.keys())
def test_one_pass_over_librdkafka_messages_builds_the_events_of_the_general_path(
    overrides: dict[str, object],
) -> None:
    form = _form(**overrides)
    fast, general = _one_pass(form) if form.templated else _general(form), _general(form)
    assert fast.events == general.events
    assert all(type(event) is Event for event in fast.events)
    assert (fast.offsets, fast.next_offsets(), fast.first_offsets()) == (
        general.offsets, general.next_offsets(), general.first_offsets())


def test_source_headers_carry_the_record_timestamp_partition_offset_key_and_topic() -> None:
    events = _one_pass(_form(timestamp_header="kafka.ts")).events
    assert events[1].headers == {"timestamp": "1000", "partition": "0", "offset": "11",
                                 "key": "k\ufffd", "topic": "a", "kafka.ts": "1000"}
    assert events[2].headers["timestamp"] == "1700000000500"  # no record timestamp: the poll's
    assert events[3].headers == {"timestamp": "1001", "partition": "0", "offset": "12",
                                 "topic": "a", "kafka.ts": "1001", "X-Origin": "java",
                                 "other": ""}


def test_header_keys_keep_only_the_named_kafka_headers_under_their_flume_names() -> None:
    headers = _one_pass(_form(from_kafka_header={"X-Origin": "origin"})).events[3].headers
    assert headers["origin"] == "java" and "X-Origin" not in headers and "other" not in headers


def test_a_topic_header_named_like_a_record_header_is_not_built_in_one_pass() -> None:
    assert not _form(topic_header="key").templated and not _form(avro=True).templated
    assert _general(_form(topic_header="key")).events[1].headers["key"] == "a"


def test_batch_offsets_are_the_next_to_commit_and_the_first_to_read_again() -> None:
    batch = _one_pass(_form())
    assert batch.next_offsets() == {("a", 0): 13, ("a", 1): 7, ("b", 0): 10}
    assert batch.first_offsets() == {("a", 0): 10, ("a", 1): 5, ("b", 0): 7}


def test_split_inside_a_run_commits_the_head_and_reads_the_rest_again() -> None:
    head, rest = _one_pass(_form()).split(5)  # a0:10,11 a1:5 a0:12 b0:7 | b0:9 a1:6
    assert [e.body for e in head.events] == [b"v10", b"v11", b"v5", b"v12", b"v7"]
    assert head.next_offsets() == {("a", 0): 13, ("a", 1): 6, ("b", 0): 8}
    assert rest.first_offsets() == {("b", 0): 9, ("a", 1): 6}
    assert [e.body for e in rest.events] == [b"v9", b"v6"]


def test_drop_removes_revoked_partitions_and_says_where_each_resumes() -> None:
    batch = _one_pass(_form())
    assert batch.drop([("a", 0), ("c", 3)]) == {("a", 0): 10}
    assert [e.body for e in batch.events] == [b"v5", b"v7", b"v9", b"v6"]
    assert batch.next_offsets() == {("a", 1): 7, ("b", 0): 10}
    assert batch.drop([("x", 0)]) == {} and len(batch) == 4


def test_a_value_that_is_not_a_flume_avro_event_adds_nothing_of_its_poll() -> None:
    batch = _one_pass(_form())
    with pytest.raises(ValueError, match="AvroFlumeEvent"):
        batch.add_records(ConfluentConsumer._records(MESSAGES), _form(avro=True))
    assert len(batch) == len(MESSAGES) and batch.next_offsets()[("a", 0)] == 13
