"""The pure-Python backend: kafka-python, for platforms without confluent-kafka's wheels.

Flume passes Java client properties (``linger.ms``, ``auto.offset.reset``)
through unchanged. kafka-python spells the same options with underscores
(``linger_ms``) and wants typed values, so each key is translated and its value
converted to the type of kafka-python's default. Keys kafka-python does not
know are configuration errors (with a close match), except the Java
(de)serializer classes, which have no meaning here and are ignored;
``sasl.jaas.config`` becomes ``sasl_mechanism`` and the PLAIN/SCRAM credentials.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from kafka import ConsumerRebalanceListener

from flume_kafka._backend import TP, Listener, OutRecord, Record
from flume_kafka._jaas import JAAS_KEY, sasl_options

if TYPE_CHECKING:
    from flume_kafka._clients import ClientKind
    from flume_kafka._source_batch import EventForm, SourceBatch

__all__ = [
    "CONSUMER_DEFAULTS",
    "PRODUCER_DEFAULTS",
    "KafkaPythonConsumer",
    "KafkaPythonProducer",
    "known_java_names",
    "options",
    "translate",
]

log = logging.getLogger("flume_kafka.kafka_python")

#: Our consumer defaults where kafka-python's differ from what a Flume component needs.
CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable_auto_commit": False,     # offsets are committed after the channel commit, never before
    "auto_offset_reset": "earliest",  # a new group must not skip what was written before it joined
    "session_timeout_ms": 10000,     # Java clients' default before 3.0; 45 s makes joins slow
    "heartbeat_interval_ms": 3000,
    "reconnect_backoff_max_ms": 1000,  # Java's default; kafka-python's 30 s delays recovery
    "bootstrap_timeout_ms": 10000,
}

#: Our producer defaults: acks from all in-sync replicas, idempotent, bounded blocking.
#: Every batch ends with a flush, so lingering costs a batch no latency; it lets the
#: I/O thread send a few large requests instead of contending with ``send()`` for
#: each small one (about 2x events/s at half the CPU per event, bench/bench_kafka.py).
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "linger_ms": 50,
    "batch_size": 512 * 1024,
    "max_block_ms": 10000,
    "request_timeout_ms": 10000,
    "delivery_timeout_ms": 30000,
    "reconnect_backoff_max_ms": 1000,
    "bootstrap_timeout_ms": 10000,
}

_SASL_NAMES = ("sasl_mechanism", "sasl_plain_username", "sasl_plain_password")  # mechanism, user, password
_IGNORED = frozenset({"key_serializer", "value_serializer", "key_deserializer", "value_deserializer"})
_NOT_CONFIGURABLE = frozenset({"bootstrap_servers"})


def _known(kind: ClientKind) -> dict[str, Any]:
    if kind == "producer":
        from kafka import KafkaProducer

        return dict(KafkaProducer.DEFAULT_CONFIG)
    from kafka import KafkaConsumer

    return dict(KafkaConsumer.DEFAULT_CONFIG)


def known_java_names(kind: ClientKind) -> list[str]:
    """kafka-python's option names in Java spelling (close matches for unknown keys)."""
    return [name.replace("_", ".") for name in _known(kind)]


def _python_name(java_key: str) -> str:
    return java_key.strip().replace(".", "_").replace("-", "_")


def _convert(name: str, text: str, default: Any) -> Any:
    text = text.strip()
    if name == "acks":
        return "all" if text.lower() == "all" else int(text)
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered not in ("true", "false"):
            msg = f"must be true or false (got {text!r})"
            raise ValueError(msg)
        return lowered == "true"
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    if default is None and text.lstrip("-").isdigit():
        return int(text)
    return text


def translate(kind: ClientKind, raw: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """kafka-python options for the pass-through keys ``raw``, and every key that does not
    translate as ``(key, message)``."""
    known = _known(kind)
    options: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    prefix = f"kafka.{kind}."
    for java_key, text in raw.items():
        name = _python_name(java_key)
        if name in _IGNORED or java_key == JAAS_KEY:
            continue
        if name in _NOT_CONFIGURABLE or name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"; did you mean {prefix}{close[0].replace('_', '.')}?" if close else ""
            why = ("set kafka.bootstrap.servers instead" if name in _NOT_CONFIGURABLE
                   else f"kafka-python's {kind} has no option {name!r}")
            problems.append((prefix + java_key, f"{why}{hint}"))
            continue
        try:
            options[name] = _convert(name, str(text), known[name])
        except ValueError as exc:
            problems.append((prefix + java_key, f"{exc} (for kafka-python option {name})"))
    options.update(sasl_options(raw, prefix, _SASL_NAMES, problems))
    return options, problems


def options(kind: ClientKind, user: Mapping[str, Any], fixed: Mapping[str, Any]) -> dict[str, Any]:
    """Our defaults, then the user's translated options, then ``fixed`` (Python spelling)."""
    defaults = PRODUCER_DEFAULTS if kind == "producer" else CONSUMER_DEFAULTS
    merged = {**defaults, **user, **fixed}
    if kind == "consumer" and "heartbeat_interval_ms" not in user:
        merged["heartbeat_interval_ms"] = min(3000, int(merged["session_timeout_ms"]) // 3)
    if kind == "producer" and merged.get("acks") not in ("all", -1):
        merged.setdefault("enable_idempotence", False)  # idempotence requires acks=all
    return merged


class KafkaPythonProducer:
    """``KafkaProducer``: a batch is acknowledged once ``flush()`` returned and every
    record's future holds its metadata."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        from kafka import KafkaProducer

        self._producer = KafkaProducer(**config)
        self._wait = config["delivery_timeout_ms"] / 1000 + 5

    def send_batch(self, records: Iterable[OutRecord]) -> int:
        send, wait = self._producer.send, self._wait
        futures = [send(topic, value=value, key=key, headers=headers, partition=partition,
                        timestamp_ms=stamp)
                   for topic, value, key, headers, partition, stamp in records]
        self._producer.flush(timeout=wait)
        for future in futures:
            future.get(timeout=0 if future.is_done else wait)
        return len(futures)

    def close(self, timeout: float) -> None:
        self._producer.close(timeout=timeout)


class KafkaPythonConsumer(ConsumerRebalanceListener):  # type: ignore[misc]
    """``KafkaConsumer`` with its rebalance callbacks forwarded to a :class:`Listener`."""

    #: kafka-python 3.0.12 drives a join from inside ``poll()``: a join that completes
    #: between two polls is dropped and a new JoinGroup sent (tansu holds each for half
    #: a session), so under load short polls while joining can re-join again and again.
    #: Longer polls leave fewer gaps between them.
    join_slice = 1.0

    def __init__(self, config: Mapping[str, Any]) -> None:
        from kafka import KafkaConsumer

        self._consumer = KafkaConsumer(**config)
        self._listener: Listener | None = None

    def subscribe(self, topics: list[str], pattern: str | None, listener: Listener) -> None:
        self._listener = listener
        if pattern is not None:
            self._consumer.subscribe(pattern=pattern, listener=self)
        else:
            self._consumer.subscribe(topics=topics, listener=self)

    def poll(self, timeout: float, max_records: int) -> list[Record]:
        polled = self._consumer.poll(timeout_ms=int(timeout * 1000) + 1, max_records=max_records)
        return [(r.topic, r.partition, r.offset, -1 if r.timestamp is None else r.timestamp,
                 r.key, r.value, r.headers)
                for records in polled.values() for r in records]

    def poll_batch(self, timeout: float, max_records: int, form: EventForm,
                   batch: SourceBatch) -> None:
        batch.add_records(self.poll(timeout, max_records), form)

    def assignment(self) -> set[TP]:
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def behind(self, timeout: float) -> bool:
        assigned = list(self._consumer.assignment())
        if not assigned:
            return False
        timeout_ms = max(1, int(timeout * 1000))
        try:
            ends = self._consumer.end_offsets(assigned, timeout_ms=timeout_ms)
            return any(self._consumer.position(tp, timeout_ms=timeout_ms) < ends[tp]
                       for tp in assigned)
        except Exception as exc:  # unknown means "maybe": keep polling, bounded by the caller
            log.debug("kafka-python: end offsets or position unknown: %s", exc)
            return True

    def seek(self, offsets: Mapping[TP, int]) -> None:
        from kafka import TopicPartition

        assigned = self._consumer.assignment()
        for tp, offset in offsets.items():
            if tp in assigned:
                self._consumer.seek(TopicPartition(*tp), offset)

    def commit(self, offsets: Mapping[TP, int], timeout: float) -> None:
        from kafka import TopicPartition
        from kafka.structs import OffsetAndMetadata

        self._consumer.commit({TopicPartition(*tp): OffsetAndMetadata(o, "", -1)
                               for tp, o in offsets.items()}, timeout_ms=int(timeout * 1000))

    def close(self) -> None:
        self._consumer.close(autocommit=False)

    # -- ConsumerRebalanceListener (called inside poll) ---------------------------------------

    def on_partitions_revoked(self, revoked: Iterable[TP]) -> None:
        if self._listener is not None:
            self._listener.revoked([(tp[0], tp[1]) for tp in revoked])

    def on_partitions_lost(self, lost: Iterable[TP]) -> None:
        if self._listener is not None:
            self._listener.lost([(tp[0], tp[1]) for tp in lost])

    def on_partitions_assigned(self, assigned: Iterable[TP]) -> None:
        if self._listener is not None:
            from kafka import TopicPartition

            start = self._listener.assigned([(tp[0], tp[1]) for tp in assigned])
            for tp, offset in start.items():
                self._consumer.seek(TopicPartition(*tp), offset)
