"""The JMS source's keys, as Flume names them, and which values can apply over STOMP.

Flume's source looks a connection factory up through JNDI and speaks the
broker's Java client protocol. Python has no JMS, so this source speaks STOMP,
which ActiveMQ serves beside OpenWire (its ``stomp`` transport connector).
ActiveMQ's JNDI context factory and its built-in connection factory names are
accepted (they only say "ActiveMQ"); other JNDI providers, ``tcp://`` (OpenWire)
URLs and custom converters are refused with the reason.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import attrs

from flume_sdk import PollableSourceSettings, at_least, one_of, setting

__all__ = ["ACTIVEMQ_FACTORY", "JmsSourceSettings", "parse_provider_url"]

ACTIVEMQ_FACTORY = "org.apache.activemq.jndi.ActiveMQInitialContextFactory"
_ACTIVEMQ_NAMES = ("ConnectionFactory", "QueueConnectionFactory", "TopicConnectionFactory")
_STOMP_URL = re.compile(r"^stomp://([^:/?#\s]+):(\d{1,5})/?(\?.*)?$")
_FAILOVER = re.compile(r"^failover:\(?([^)]*)\)?(\?.*)?$")
_OPENWIRE = ("tcp://", "nio://", "ssl://", "nio+ssl://", "vm://", "auto://", "udp://")


def parse_provider_url(url: str) -> list[tuple[str, int]]:
    """``stomp://host:port`` or ``failover:(stomp://a:1,stomp://b:2)`` as ``(host, port)`` pairs.

    Raises:
        ValueError: with the reason the URL cannot be used.
    """
    url = url.strip()
    failover = _FAILOVER.match(url)
    parts = failover.group(1).split(",") if failover else [url]
    brokers: list[tuple[str, int]] = []
    for part in (p.strip() for p in parts):
        match = _STOMP_URL.match(part)
        if match and 0 < int(match.group(2)) < 65536:
            brokers.append((match.group(1), int(match.group(2))))
        elif part.startswith(_OPENWIRE):
            msg = (f"{part!r} is ActiveMQ's OpenWire, a Java-only protocol; enable the broker's "
                   "STOMP transport connector (<transportConnector name=\"stomp\" "
                   "uri=\"stomp://0.0.0.0:61613\"/>) and use stomp://HOST:61613")
            raise ValueError(msg)
        else:
            msg = (f"must be stomp://HOST:PORT or failover:(stomp://HOST:PORT,...) "
                   f"(got {part!r}); stomp+ssl is not implemented")
            raise ValueError(msg)
    return brokers


def _upper(text: str) -> str:
    return text.strip().upper()


@attrs.frozen(kw_only=True)
class JmsSourceSettings(PollableSourceSettings):
    """Flume's ``jms`` source keys (plus ``converter.jmsHeaders``, flume-sdk's)."""

    initial_context_factory: str = setting(
        "initialContextFactory", default=ACTIVEMQ_FACTORY,
        help="accepted for ActiveMQ only; the source speaks STOMP, not JNDI")
    connection_factory: str = setting(
        "connectionFactory", default="ConnectionFactory",
        help="accepted for ActiveMQ's built-in JNDI names only")
    provider_url: str = setting("providerURL", required=True,
                                help="stomp://HOST:PORT or failover:(stomp://...,stomp://...)")
    destination_name: str = setting("destinationName", required=True,
                                    help="queue or topic name")
    destination_type: str = setting("destinationType", default="QUEUE", converter=_upper,
                                    validator=one_of("QUEUE", "TOPIC"), help="QUEUE or TOPIC")
    message_selector: str = setting("messageSelector", default="",
                                    help="JMS message selector (SQL-92 subset)")
    user_name: str = setting("userName", default="", help="broker login")
    password_file: Path | None = setting("passwordFile", default=None,
                                         help="file holding the broker password")
    batch_size: int = setting("batchSize", default=100, validator=at_least(1),
                              help="messages per channel transaction")
    poll_timeout: int = setting("pollTimeout", default=1000, validator=at_least(0),
                                help="ms to wait for the first message of a batch")
    converter_type: str = setting("converter.type", default="DEFAULT", converter=_upper,
                                  help="DEFAULT only (custom converters are Java classes)")
    converter_charset: str = setting("converter.charset", default="UTF-8",
                                     help="charset text messages are encoded in as bodies")
    converter_jms_headers: bool = setting(
        "converter.jmsHeaders", default=False,
        help="also copy the JMS headers (JMSMessageID, JMSTimestamp, ...) into event headers")
    create_durable_subscription: bool = setting(
        "createDurableSubscription", default=False, help="durable topic subscription")
    client_id: str = setting("clientId", default="", help="JMS client id (durable subscriptions)")
    durable_subscription_name: str = setting("durableSubscriptionName", default="",
                                             help="durable subscription name")

    @property
    def destination(self) -> str:
        """The STOMP destination: ``/queue/NAME`` or ``/topic/NAME``."""
        return f"/{self.destination_type.lower()}/{self.destination_name.strip()}"

    @property
    def durable(self) -> bool:
        return self.create_durable_subscription and self.destination_type == "TOPIC"

    def brokers(self) -> list[tuple[str, int]]:
        return parse_provider_url(self.provider_url)

    def password(self) -> str:
        """The password file's content, trimmed (as Flume reads it), or empty."""
        if self.password_file is None:
            return ""
        return self.password_file.read_text(encoding="utf-8").strip()

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.initial_context_factory.strip() not in (ACTIVEMQ_FACTORY, ""):
            found.append(("initialContextFactory", (
                f"{self.initial_context_factory!r} cannot apply: flume-sdk has no JVM to load "
                "a JNDI provider and speaks STOMP to ActiveMQ; use "
                f"{ACTIVEMQ_FACTORY} with a stomp:// providerURL")))
        if self.connection_factory.strip() not in _ACTIVEMQ_NAMES:
            found.append(("connectionFactory", (
                f"{self.connection_factory!r} cannot be looked up: there is no JNDI here; "
                f"ActiveMQ's built-in names are accepted ({', '.join(_ACTIVEMQ_NAMES)})")))
        try:
            parse_provider_url(self.provider_url)
        except ValueError as exc:
            found.append(("providerURL", str(exc)))
        if not self.destination_name.strip():
            found.append(("destinationName", "must not be empty"))
        if self.converter_type != "DEFAULT":
            found.append(("converter.type", (
                f"{self.converter_type!r} cannot apply: custom converters are Java classes; "
                "flume-sdk's jms source has Flume's DEFAULT converter only")))
        try:
            codecs.lookup(self.converter_charset)
        except LookupError:
            found.append(("converter.charset", f"unknown charset {self.converter_charset!r}"))
        if self.password_file is not None and not self.password_file.is_file():
            found.append(("passwordFile", f"no such file: {self.password_file}"))
        if self.durable and not self.client_id.strip():
            found.append(("clientId", "is required with createDurableSubscription = true"))
        if self.durable and not self.durable_subscription_name.strip():
            found.append(("durableSubscriptionName",
                          "is required with createDurableSubscription = true"))
        return found

    def warnings(self) -> list[tuple[str, str]]:
        if self.create_durable_subscription and self.destination_type != "TOPIC":
            return [("createDurableSubscription",
                     "has no effect on a queue (queues are durable; it applies to topics)")]
        return []
