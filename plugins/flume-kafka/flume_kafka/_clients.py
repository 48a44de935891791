"""Flume's ``kafka.producer.*`` / ``kafka.consumer.*`` pass-through, mapped onto kafka-python.

Flume passes Java client properties (``linger.ms``, ``auto.offset.reset``)
through unchanged. kafka-python spells the same options with underscores
(``linger_ms``) and wants typed values, so each key is translated and its value
converted to the type of kafka-python's default. Keys kafka-python does not
know are configuration errors (with a close match), except the Java
(de)serializer classes, which have no meaning here and are ignored.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Literal

__all__ = [
    "CONSUMER_DEFAULTS",
    "PRODUCER_DEFAULTS",
    "ClientKind",
    "client_options",
    "option_problems",
]

ClientKind = Literal["producer", "consumer"]

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

_IGNORED = frozenset({"key_serializer", "value_serializer", "key_deserializer", "value_deserializer"})
_NOT_CONFIGURABLE = frozenset({"bootstrap_servers"})


def _known(kind: ClientKind) -> dict[str, Any]:
    if kind == "producer":
        from kafka import KafkaProducer

        return dict(KafkaProducer.DEFAULT_CONFIG)
    from kafka import KafkaConsumer

    return dict(KafkaConsumer.DEFAULT_CONFIG)


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


def _translate(kind: ClientKind, raw: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    known = _known(kind)
    options: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    prefix = f"kafka.{kind}."
    for java_key, text in raw.items():
        name = _python_name(java_key)
        if name in _IGNORED:
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
    return options, problems


def option_problems(kind: ClientKind, raw: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every pass-through key that does not translate, as ``(key, message)`` pairs."""
    return _translate(kind, raw)[1]


def client_options(kind: ClientKind, raw: Mapping[str, str], **fixed: Any) -> dict[str, Any]:
    """kafka-python keyword arguments: our defaults, then the user's pass-through, then ``fixed``.

    Args:
        kind: ``"producer"`` or ``"consumer"``.
        raw: the keys under ``kafka.<kind>.`` with the prefix stripped (Java spelling).
        fixed: options the component sets itself (``bootstrap_servers``...).

    Raises:
        ValueError: a key does not translate (validated earlier at configuration time).
    """
    options, problems = _translate(kind, raw)
    if problems:
        msg = "; ".join(f"{key}: {message}" for key, message in problems)
        raise ValueError(msg)
    defaults = PRODUCER_DEFAULTS if kind == "producer" else CONSUMER_DEFAULTS
    merged = {**defaults, **options, **fixed}
    if kind == "consumer" and "heartbeat_interval_ms" not in options:
        merged["heartbeat_interval_ms"] = min(3000, int(merged["session_timeout_ms"]) // 3)
    if kind == "producer" and merged.get("acks") not in ("all", -1):
        merged.setdefault("enable_idempotence", False)  # idempotence requires acks=all
    return merged
