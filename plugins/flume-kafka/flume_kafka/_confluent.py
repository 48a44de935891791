"""The librdkafka backend (``confluent-kafka``), the default where its wheel installs.

librdkafka spells its properties as Java does, so Flume's ``kafka.producer.*`` /
``kafka.consumer.*`` keys mostly pass through unchanged; the few Java names it spells
differently are renamed (:data:`RENAMED`), the Java (de)serializer classes are ignored,
``sasl.jaas.config`` becomes ``sasl.mechanisms``/``sasl.username``/``sasl.password``, and
``max.block.ms`` is honoured by the plugin (librdkafka never blocks in ``produce()``).
Whether librdkafka accepts a key and its value is asked of librdkafka itself, by building a
client with that key alone (well under a millisecond, no connection); what it refuses is a
configuration error with a close match.

A batch is acknowledged when ``flush()`` left nothing in the producer's queue and no
delivery report of the batch carried an error. Delivery reports are requested for errors
only (``delivery.report.only.error``): librdkafka removes a message from its queue only
once its delivery report was served, so an empty queue and no error report means every
record was acknowledged, without a Python call per record.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flume_kafka._backend import TP, KafkaClientError, Listener, OutRecord, Record
from flume_kafka._jaas import JAAS_KEY, sasl_options
from flume_sdk import Event

if TYPE_CHECKING:
    from confluent_kafka import KafkaError, Message, TopicPartition

    from flume_kafka._clients import ClientKind
    from flume_kafka._source_batch import EventForm, SourceBatch

__all__ = [
    "CONSUMER_DEFAULTS",
    "PRODUCER_DEFAULTS",
    "RENAMED",
    "ConfluentConsumer",
    "ConfluentProducer",
    "options",
    "translate",
]

log = logging.getLogger("flume_kafka.librdkafka")

#: Consumer defaults, each where librdkafka's own does not suit a Flume component.
CONSUMER_DEFAULTS: dict[str, str] = {
    "enable.auto.commit": "false",        # offsets are committed after the channel commit
    "enable.auto.offset.store": "false",
    "auto.offset.reset": "earliest",      # a new group must not skip what was written before
    "session.timeout.ms": "10000",        # tansu (and slow joins) hold a JoinGroup session/2
    "reconnect.backoff.max.ms": "1000",   # librdkafka: 10 s, slow to notice a broker is back
    # librdkafka stops fetching for fetch.queue.backoff.ms (1000 ms) whenever its local queue
    # holds queued.min.messages: a consumer that keeps up idled most of each second
    # (169k ev/s instead of 764k in the measurement).
    "fetch.queue.backoff.ms": "10",
    # A fetch finding nothing waits this long at the broker; a broker that does not answer it
    # early when records arrive (tansu) would delay a take past a short pollTimeout (500 ms).
    "fetch.wait.max.ms": "100",
    # The local queue is a prefetch, never committed; 64 MiB a partition (librdkafka's
    # default) costs RSS without speed on one consumer thread.
    "queued.max.messages.kbytes": "16384",
}

#: Producer defaults: idempotent, acks from all in-sync replicas, bounded delivery time.
PRODUCER_DEFAULTS: dict[str, str] = {
    "acks": "all",
    "enable.idempotence": "true",
    "linger.ms": "5",                     # each Flume batch ends with flush(), which sends now
    "delivery.timeout.ms": "30000",       # librdkafka: 300 s; a dead broker fails a batch sooner
    "request.timeout.ms": "10000",
    "reconnect.backoff.max.ms": "1000",
}

#: Set by the plugin, never by the user: its acknowledgement check depends on them.
_FIXED_PRODUCER: dict[str, Any] = {"delivery.report.only.error": True, "logger": log}

def _kilobytes(text: str) -> str:
    if not text.isdigit():
        msg = f"must be a number of bytes (got {text!r})"
        raise ValueError(msg)
    return str(max(1, int(text) // 1024))


_ASSIGNORS = {"rangeassignor": "range", "roundrobinassignor": "roundrobin",
              "range": "range", "roundrobin": "roundrobin"}


def _assignors(text: str) -> str:
    """Java assignor classes (or librdkafka names) as librdkafka's eager strategies."""
    names = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name = _ASSIGNORS.get(item.rsplit(".", 1)[-1].lower())
        if name is None:
            msg = (f"{item!r} is not supported: the plugin hands partitions back with eager "
                   "rebalancing; use range or roundrobin (RangeAssignor, RoundRobinAssignor)")
            raise ValueError(msg)
        names.append(name)
    return ",".join(names)


def _classic(text: str) -> str:
    if text.lower() != "classic":
        msg = f"must be classic (got {text!r}): the plugin uses eager, classic group rebalancing"
        raise ValueError(msg)
    return text


#: Java property names librdkafka spells differently: ``java -> (librdkafka, value map)``;
#: a value map raises ``ValueError`` for values the plugin cannot take.
RENAMED: dict[str, tuple[str, Callable[[str], str]]] = {
    "max.request.size": ("message.max.bytes", str),
    "fetch.max.wait.ms": ("fetch.wait.max.ms", str),
    "buffer.memory": ("queue.buffering.max.kbytes", _kilobytes),
    "partition.assignment.strategy": ("partition.assignment.strategy", _assignors),
    "group.protocol": ("group.protocol", _classic),
    "send.buffer.bytes": ("socket.send.buffer.bytes", str),
    "receive.buffer.bytes": ("socket.receive.buffer.bytes", str),
    "sasl.mechanism": ("sasl.mechanisms", str),
}

#: librdkafka's own names for options whose Java names this module reads (defaults, waits).
_ALIASES: dict[str, str] = {"message.timeout.ms": "delivery.timeout.ms",
                            "queue.buffering.max.ms": "linger.ms"}

#: Keys the plugin itself honours (never passed to librdkafka), with their defaults.
PLUGIN_KEYS: dict[str, str] = {"max.block.ms": "10000"}

_SASL_NAMES = ("sasl.mechanisms", "sasl.username", "sasl.password")  # mechanism, user, password
_IGNORED = frozenset({"key.serializer", "value.serializer", "key.deserializer",
                      "value.deserializer"})
_SECRET = re.compile(r"password|secret|jaas|token", re.I)
#: Names offered as close matches besides kafka-python's (Java) ones.
_LIBRDKAFKA_NAMES = (
    "fetch.queue.backoff.ms", "queued.max.messages.kbytes", "queued.min.messages",
    "queue.buffering.max.ms", "queue.buffering.max.messages", "queue.buffering.max.kbytes",
    "message.timeout.ms", "message.max.bytes", "batch.num.messages", "fetch.wait.max.ms",
    "fetch.message.max.bytes", "socket.timeout.ms", "sasl.mechanisms", "sasl.username",
    "sasl.password", "ssl.ca.location", "ssl.certificate.location", "ssl.key.location",
    "ssl.key.password", "statistics.interval.ms", "debug", "topic.metadata.refresh.interval.ms",
    "compression.codec", "enable.partition.eof", "sticky.partitioning.linger.ms",
)


def _candidates(kind: ClientKind) -> list[str]:
    from flume_kafka._kafka_python import known_java_names

    return sorted({*known_java_names(kind), *_LIBRDKAFKA_NAMES, *RENAMED, *PLUGIN_KEYS})


def _refusal(kind: ClientKind, conf: Mapping[str, str]) -> str | None:
    """librdkafka's objection to a client built with ``conf``, or ``None`` if it accepts it."""
    import confluent_kafka

    trial: dict[str, Any] = {"logger": log, **conf}
    try:
        if kind == "producer":
            confluent_kafka.Producer(trial)
        else:
            confluent_kafka.Consumer({"group.id": "flume", **trial}).close()
    except confluent_kafka.KafkaException as exc:
        error: KafkaError = exc.args[0]
        return str(error.str())
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


def _hide_secrets(text: str, options: Mapping[str, str]) -> str:
    for key, value in options.items():
        if _SECRET.search(key) and value:
            text = text.replace(value, "***")
    return text


def translate(kind: ClientKind, raw: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """librdkafka properties for the pass-through keys ``raw`` (Java spelling), and every key
    librdkafka refuses as ``(key, message)``; secrets never appear in a message.

    librdkafka judges all keys together first (one client, well under a millisecond); only
    if it refuses them is each key tried alone, to name the culprit.
    """
    prefix = f"kafka.{kind}."
    options: dict[str, str] = {}
    java_names: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for java_key, raw_text in raw.items():
        key, text = java_key.strip(), str(raw_text).strip()
        if key in _IGNORED or key == JAAS_KEY:
            continue
        if key == "bootstrap.servers":
            problems.append((prefix + java_key, "set kafka.bootstrap.servers instead"))
        elif key in _FIXED_PRODUCER:
            problems.append((prefix + java_key, "is set by the plugin (see the README)"))
        elif key in PLUGIN_KEYS:
            options[key] = text
        else:
            name, convert = RENAMED.get(key, (_ALIASES.get(key, key), str))
            try:
                options[name] = convert(text)
                java_names[name] = java_key
            except ValueError as exc:
                problems.append((prefix + java_key, str(exc)))
    options.update(sasl_options(raw, prefix, _SASL_NAMES, problems))
    library = {k: v for k, v in options.items() if k not in PLUGIN_KEYS}
    refusal = _refusal(kind, library)
    if refusal is not None:
        problems += _culprits(kind, prefix, library, java_names, refusal)
    return options, problems


def _culprits(kind: ClientKind, prefix: str, library: Mapping[str, str],
              java_names: Mapping[str, str], refusal: str) -> list[tuple[str, str]]:
    """Each key librdkafka refuses alone (with the SASL mechanism as context, which
    ``security.protocol`` needs); else the refusal of the whole set."""
    context = {"sasl.mechanisms": library.get("sasl.mechanisms", "PLAIN")}
    found = []
    for name, java_key in java_names.items():
        alone = _refusal(kind, {**context, name: library[name]})
        if alone is not None:
            found.append((prefix + java_key, _explain(kind, java_key.strip(), alone)))
    if not found:
        found.append((prefix + "*", "librdkafka refused these options together: "
                      + _hide_secrets(refusal, library)))
    return found


def _explain(kind: ClientKind, key: str, refusal: str) -> str:
    if refusal.startswith("No such configuration property"):
        close = difflib.get_close_matches(key, _candidates(kind), n=1)
        hint = f"; did you mean kafka.{kind}.{close[0]}?" if close else ""
        return f"librdkafka (kafka.client = confluent) has no {kind} option {key!r}{hint}"
    if _SECRET.search(key):
        return "librdkafka refused the value (not shown: it holds a secret)"
    return f"librdkafka refused it: {refusal}"


def options(kind: ClientKind, user: Mapping[str, str], fixed: Mapping[str, str]) -> dict[str, Any]:
    """Our defaults, then the user's translated options, then ``fixed``."""
    if kind == "producer":
        merged = {**PRODUCER_DEFAULTS, **PLUGIN_KEYS, **user, **fixed}
        if merged["acks"].lower() not in ("all", "-1") and "enable.idempotence" not in user:
            merged["enable.idempotence"] = "false"  # idempotence requires acks=all
        return merged
    merged = {**CONSUMER_DEFAULTS, **user, **fixed}
    if "heartbeat.interval.ms" not in user:
        merged["heartbeat.interval.ms"] = str(min(3000, int(merged["session.timeout.ms"]) // 3))
    return merged


def _seconds(config: Mapping[str, Any], key: str) -> float:
    return int(config[key]) / 1000


class ConfluentProducer:
    """librdkafka's producer; see the module docstring for when a batch counts as acknowledged.

    A failed batch replaces the client before the next batch (see :meth:`_discard`).
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = {k: v for k, v in config.items() if k not in PLUGIN_KEYS}
        self._config.update(_FIXED_PRODUCER)
        self._max_block = _seconds(config, "max.block.ms")
        self._wait = _seconds(config, "delivery.timeout.ms") + 5
        self._producer: Any = None

    def _client(self) -> Any:
        if self._producer is None:
            import confluent_kafka

            self._producer = confluent_kafka.Producer(self._config)
        return self._producer

    def send_batch(self, records: Iterable[OutRecord]) -> int:
        from confluent_kafka import KafkaException

        producer = self._client()
        failed: list[Any] = []

        def report(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failed.append(error)

        try:
            count = self._produce_all(producer, records, report)
            left = producer.flush(self._wait)
        except KafkaException as exc:  # a producer in a fatal state refuses every produce()
            self._discard([exc.args[0]])
            msg = f"librdkafka refused a record: {exc.args[0]}"
            raise KafkaClientError(msg) from exc
        if left:
            producer.purge(in_queue=True, in_flight=False)  # not sent: never written
            producer.poll(0)
            failed.append(f"{left} record(s) not acknowledged within {self._wait:.0f} s")
        if failed:
            self._discard(failed)
            msg = f"{len(failed)} of {count} record(s) not acknowledged: {failed[0]}"
            raise KafkaClientError(msg)
        return count

    def _produce_all(self, producer: Any, records: Iterable[OutRecord], report: Any) -> int:
        produce, count = producer.produce, 0
        for topic, value, key, headers, partition, stamp in records:
            try:
                if headers is None and stamp is None:
                    produce(topic, value, key, -1 if partition is None else partition,
                            on_delivery=report)
                else:
                    produce(topic, value, key, -1 if partition is None else partition,
                            on_delivery=report, timestamp=stamp or 0, headers=headers)
            except BufferError:
                self._produce_when_room(producer, topic, value, key, partition, report, stamp,
                                        headers)
            count += 1
        return count

    def _produce_when_room(self, producer: Any, topic: str, value: bytes, key: bytes | None,
                           partition: int | None, report: Any, stamp: int | None,
                           headers: Any) -> None:
        """librdkafka's queue is full: serve reports until room, up to ``max.block.ms``."""
        deadline = time.monotonic() + self._max_block
        while True:
            producer.poll(0.05)
            try:
                producer.produce(topic, value, key, -1 if partition is None else partition,
                                 on_delivery=report, timestamp=stamp or 0, headers=headers)
                return
            except BufferError:
                if time.monotonic() >= deadline:
                    msg = (f"librdkafka's send queue stayed full for max.block.ms "
                           f"({self._max_block * 1000:.0f} ms)")
                    raise KafkaClientError(msg) from None

    def _discard(self, failed: list[Any]) -> None:
        """Drop the client after a failed batch; the next batch gets a new one.

        The idempotent producer's state does not always survive a broker's death: tansu
        answered PRODUCER_FENCED to every retry after a restart (an error librdkafka does not
        call fatal), or OUT_OF_ORDER_SEQUENCE_NUMBER (fatal: every later produce() fails). A
        new producer (a new producer id, ~0.5 s) costs little next to a failed batch; what the
        old one still held in flight may be written too (duplicates within the batch, as the
        README promises).
        """
        from confluent_kafka import KafkaException

        log.info("librdkafka producer dropped after a failed batch (%s); the next batch uses a "
                 "new one", failed[0])

        producer, self._producer = self._producer, None
        with contextlib.suppress(KafkaException):  # a fatal producer may refuse these too
            producer.purge(in_queue=True, in_flight=False)
            producer.poll(0)

    def close(self, timeout: float) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.flush(timeout)


class ConfluentConsumer:
    """librdkafka's consumer: polls in batches, forwards rebalances to a :class:`Listener`."""

    #: librdkafka joins on its own thread; a poll only collects the finished assignment.
    join_slice = 0.2

    def __init__(self, config: Mapping[str, Any]) -> None:
        import confluent_kafka

        self._consumer = confluent_kafka.Consumer({**config, "logger": log})
        self._listener: Listener | None = None

    def subscribe(self, topics: list[str], pattern: str | None, listener: Listener) -> None:
        self._listener = listener
        subscription = [pattern if pattern.startswith("^") else f"^{pattern}"] if pattern \
            else topics  # librdkafka reads a leading ^ as a regex subscription
        self._consumer.subscribe(subscription, on_assign=self._on_assign,
                                 on_revoke=self._on_revoke, on_lost=self._on_lost)

    def poll(self, timeout: float, max_records: int) -> list[Record]:
        """As kafka-python's ``poll``: return as soon as any record is there."""
        messages = self._consume(timeout, max_records)
        records = [(m.topic(), m.partition(), m.offset(), m.timestamp()[1], m.key(), m.value(),
                    m.headers()) for m in messages if m.error() is None]
        if len(records) != len(messages):
            self._errors(messages)
        return records  # type: ignore[return-value]

    def poll_batch(self, timeout: float, max_records: int, form: EventForm,
                   batch: SourceBatch) -> None:
        """As :meth:`poll`, building each message's event as it is read (see :func:`_fill`)."""
        messages = self._consume(timeout, max_records)
        if not messages:
            return
        with batch.appending():
            if form.templated:
                errors = _fill(messages, form, batch)
            else:  # Avro values: decoding dominates, the general path is as fast
                batch.add_records(self._records(messages), form)
                errors = [m for m in messages if m.error() is not None]
            if errors:
                self._errors(errors)

    @staticmethod
    def _records(messages: list[Message]) -> list[Record]:
        return [(m.topic(), m.partition(), m.offset(), m.timestamp()[1], m.key(),  # type: ignore[misc]
                 m.value(), m.headers()) for m in messages if m.error() is None]

    def _consume(self, timeout: float, max_records: int) -> list[Message]:
        """What is queued (up to ``max_records``); if nothing is, wait up to ``timeout`` for
        the first message, then take what is queued behind it."""
        consume = self._consumer.consume
        messages: list[Message] = consume(max_records, 0)
        if not messages and timeout > 0:
            messages = consume(1, timeout)
            if messages and max_records > 1:
                messages += consume(max_records - 1, 0)
        return messages

    def _errors(self, messages: list[Message]) -> None:
        for message in messages:
            error = message.error()
            if error is None:
                continue
            if error.fatal():
                msg = f"librdkafka consumer failed: {error.str()}"
                raise KafkaClientError(msg)
            log.debug("librdkafka consumer: %s", error.str())

    def assignment(self) -> set[TP]:
        return {(p.topic, p.partition) for p in self._consumer.assignment()}

    def behind(self, timeout: float) -> bool:
        from confluent_kafka import KafkaException, TopicPartition

        consumer = self._consumer
        try:
            for part in consumer.position(consumer.assignment()):
                tp = TopicPartition(part.topic, part.partition)
                low, high = consumer.get_watermark_offsets(tp, timeout=timeout)
                position = part.offset
                if position < 0:  # nothing fetched yet: the group's committed offset, if any
                    committed = consumer.committed([tp], timeout=timeout)[0].offset
                    position = committed if committed >= 0 else low
                if position < high:
                    return True
        except KafkaException as exc:
            log.debug("librdkafka: end offsets or position unknown: %s", exc.args[0].str())
            return True
        return False

    def seek(self, offsets: Mapping[TP, int]) -> None:
        """Raises :class:`KafkaClientError` if librdkafka cannot seek (a partition that is not
        being fetched yet): the caller must then not read on from where it is."""
        from confluent_kafka import KafkaException, TopicPartition

        assigned = self.assignment()
        for (topic, partition), offset in offsets.items():
            if (topic, partition) in assigned:
                try:
                    self._consumer.seek(TopicPartition(topic, partition, offset))
                except KafkaException as exc:
                    msg = f"librdkafka could not seek {topic}[{partition}] to {offset}: " \
                          f"{exc.args[0].str()}"
                    raise KafkaClientError(msg) from exc

    def commit(self, offsets: Mapping[TP, int], timeout: float) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        try:
            done = self._consumer.commit(offsets=[TopicPartition(t, p, o)
                                                  for (t, p), o in offsets.items()],
                                         asynchronous=False)
        except KafkaException as exc:
            msg = f"librdkafka commit failed: {exc.args[0].str()}"
            raise KafkaClientError(msg) from exc
        for part in done or ():
            if part.error is not None:
                msg = (f"librdkafka commit refused for {part.topic}[{part.partition}]: "
                       f"{part.error.str()}")
                raise KafkaClientError(msg)

    def close(self) -> None:
        self._consumer.close()

    # -- rebalance callbacks (called inside consume) ------------------------------------------

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        if self._listener is not None:
            start = self._listener.assigned([(p.topic, p.partition) for p in partitions])
            for p in partitions:
                offset = start.get((p.topic, p.partition))
                if offset is not None:
                    p.offset = offset
        consumer.assign(partitions)

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        if self._listener is not None:
            self._listener.revoked([(p.topic, p.partition) for p in partitions])
        consumer.unassign()

    def _on_lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        if self._listener is not None:
            self._listener.lost([(p.topic, p.partition) for p in partitions])
        consumer.unassign()


def _fill(messages: list[Message], form: EventForm, batch: SourceBatch) -> list[Message]:
    """Append the event of each good message to ``batch`` in one pass (``form.templated``);
    return the messages that carry an error instead.

    This is a source's per-record work, so it reads each field once, with no call per message
    beyond librdkafka's accessors and the event: the headers a run of messages of one
    partition and one millisecond share are built once (:meth:`EventForm.template`) and
    copied; a message with Kafka headers takes :meth:`EventForm.event`. An event is made
    by setting its two fields on a new instance, the object ``Event(body, headers)`` makes
    (a test holds them equal) without the Python call of its ``__init__`` (~50 ns of the
    ~420 ns a message costs here).
    """
    events, offsets, runs = batch.events, batch.offsets, batch.runs
    add_event, add_offset = events.append, offsets.append
    event_of, now = form.event, form.now()
    new_event = object.__new__  # Event(body, headers) without its __init__'s Python call
    errors: list[Message] = []
    run_topic: str | None = None
    run_partition: int | None = None
    last_timestamp: int | None = None
    stamp, template = now, {}
    for m in messages:
        if m.error() is not None:
            errors.append(m)
            continue
        topic, partition, timestamp = m.topic(), m.partition(), m.timestamp()[1]
        if timestamp != last_timestamp or partition != run_partition or topic != run_topic:
            if partition != run_partition or topic != run_topic:
                run_topic, run_partition = topic, partition
                runs.append(((topic, partition), len(events)))  # type: ignore[arg-type]
            last_timestamp = timestamp
            stamp = str(timestamp) if timestamp >= 0 else now
            template = form.template(topic, partition, stamp)  # type: ignore[arg-type]
        offset = m.offset()
        headers = template.copy()
        headers["offset"] = str(offset)
        key = m.key()
        if key is not None:
            headers["key"] = key.decode("utf-8", "replace")
        kafka_headers = m.headers()
        if kafka_headers is None:
            event = new_event(Event)
            event.body, event.headers = m.value() or b"", headers
            add_event(event)
        else:
            add_event(event_of(headers, m.value(), kafka_headers, stamp))  # type: ignore[arg-type]
        add_offset(offset)  # type: ignore[arg-type]
    return errors
