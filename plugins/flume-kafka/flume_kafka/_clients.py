"""The client layer: ``kafka.client`` chooses the backend, and Flume's pass-through keys
become that library's options.

``kafka.client = confluent`` (librdkafka through ``confluent-kafka``; the default when it is
installed) or ``kafka-python`` (pure Python). Both read the same Flume keys:
``kafka.producer.*`` / ``kafka.consumer.*`` take Java property names, which each backend
maps to its library's spelling (:mod:`flume_kafka._confluent`,
:mod:`flume_kafka._kafka_python`); a key the chosen library does not know is a
configuration error with a close match.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from flume_kafka._backend import Consumer, Producer

__all__ = [
    "CLIENTS",
    "ClientConfig",
    "ClientKind",
    "client_config",
    "client_problems",
    "default_client",
]

ClientKind = Literal["producer", "consumer"]

#: The values of ``kafka.client``.
CLIENTS = ("confluent", "kafka-python")


def default_client() -> str:
    """``confluent`` where ``confluent-kafka`` is installed, else ``kafka-python``."""
    return "confluent" if importlib.util.find_spec("confluent_kafka") is not None \
        else "kafka-python"


def _translate(client: str, kind: ClientKind,
               raw: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    if client == "confluent":
        from flume_kafka import _confluent

        return _confluent.translate(kind, raw)
    from flume_kafka import _kafka_python

    return _kafka_python.translate(kind, raw)


def client_problems(client: str, **namespaces: Mapping[str, str]) -> list[tuple[str, str]]:
    """Configuration problems of ``kafka.client`` and of each pass-through namespace
    (``producer=...``, ``consumer=...``), as ``(key, message)`` pairs."""
    if client == "confluent" and importlib.util.find_spec("confluent_kafka") is None:
        return [("kafka.client", "confluent needs the confluent-kafka package (pip install "
                                 "confluent-kafka; its wheels need glibc >= 2.28), or set "
                                 "kafka.client = kafka-python")]
    found: list[tuple[str, str]] = []
    for kind, raw in namespaces.items():
        found += _translate(client, kind, raw)[1]  # type: ignore[arg-type]
    return found


@attrs.frozen
class ClientConfig:
    """One client's library options and what the components read of them."""

    client: str
    kind: ClientKind
    options: dict[str, Any]

    def _value(self, java: str) -> Any:
        if self.client == "confluent":
            return self.options[java]
        return self.options[java.replace(".", "_")]

    @property
    def session_timeout(self) -> float:
        """The consumer's session timeout, in seconds."""
        return int(self._value("session.timeout.ms")) / 1000

    @property
    def group_id(self) -> str:
        return str(self._value("group.id"))

    def producer(self) -> Producer:
        """A new producer of the chosen library (it connects lazily)."""
        if self.client == "confluent":
            from flume_kafka._confluent import ConfluentProducer

            return ConfluentProducer(self.options)
        from flume_kafka._kafka_python import KafkaPythonProducer

        return KafkaPythonProducer(self.options)

    def consumer(self) -> Consumer:
        """A new consumer of the chosen library, not subscribed yet."""
        if self.client == "confluent":
            from flume_kafka._confluent import ConfluentConsumer

            return ConfluentConsumer(self.options)
        from flume_kafka._kafka_python import KafkaPythonConsumer

        return KafkaPythonConsumer(self.options)


def client_config(client: str, kind: ClientKind, raw: Mapping[str, str],
                  servers: str) -> ClientConfig:
    """Our defaults, then the user's pass-through keys ``raw``, then the bootstrap servers.

    Raises:
        ValueError: a key does not translate (validated earlier at configuration time).
    """
    user, problems = _translate(client, kind, raw)
    if problems:
        msg = "; ".join(f"{key}: {message}" for key, message in problems)
        raise ValueError(msg)
    if client == "confluent":
        from flume_kafka import _confluent

        options = _confluent.options(kind, user, {"bootstrap.servers": servers})
    else:
        from flume_kafka import _kafka_python

        options = _kafka_python.options(kind, user, {"bootstrap_servers": servers})
    return ClientConfig(client, kind, options)
