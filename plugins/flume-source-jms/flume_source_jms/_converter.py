"""Flume's DEFAULT JMS message converter, for messages that arrive as STOMP frames.

Flume copies every message *property* into an event header and makes the body
from the message: a BytesMessage's bytes, a TextMessage's text encoded in
``converter.charset``. ActiveMQ's STOMP frames mix the JMS headers (``message-id``,
``destination``, ``timestamp`` …) with the properties; the JMS ones are set apart
here, and are copied under their JMS names only with ``converter.jmsHeaders``.
ActiveMQ marks a BytesMessage with ``content-length`` and sends a TextMessage's
text as UTF-8 without it, which tells the two apart.
"""

from __future__ import annotations

from collections.abc import Mapping

from flume_sdk import Event

__all__ = ["JMS_HEADERS", "STOMP_ONLY", "convert"]

#: STOMP header -> JMS header name, for the JMS headers ActiveMQ puts in a frame.
JMS_HEADERS = {
    "message-id": "JMSMessageID",
    "destination": "JMSDestination",
    "timestamp": "JMSTimestamp",
    "priority": "JMSPriority",
    "expires": "JMSExpiration",
    "persistent": "JMSDeliveryMode",
    "correlation-id": "JMSCorrelationID",
    "reply-to": "JMSReplyTo",
    "type": "JMSType",
    "redelivered": "JMSRedelivered",
}
#: Frame headers that are STOMP's own, neither a JMS header nor a property.
STOMP_ONLY = frozenset({"subscription", "ack", "content-length", "content-type", "receipt",
                        "transformation"})


def convert(headers: Mapping[str, str], body: bytes, *, charset: str,
            jms_headers: bool) -> Event:
    """One event from one ``MESSAGE`` frame."""
    event_headers: dict[str, str] = {}
    for key, value in headers.items():
        if key in STOMP_ONLY:
            continue
        jms = JMS_HEADERS.get(key)
        if jms is None:
            event_headers[key] = value
        elif jms_headers:
            event_headers[jms] = _deliverymode(value) if key == "persistent" else value
    is_text = "content-length" not in headers
    if is_text and charset.replace("-", "").upper() != "UTF8":
        body = body.decode("utf-8", errors="replace").encode(charset, errors="replace")
    return Event(body, event_headers)


def _deliverymode(persistent: str) -> str:
    """JMS's DeliveryMode constant: 2 = PERSISTENT, 1 = NON_PERSISTENT."""
    return "2" if persistent.strip().lower() == "true" else "1"
