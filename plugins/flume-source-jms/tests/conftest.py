"""The jms source against the testkit's ActiveMQ: a factory, a producer and queue statistics."""

from __future__ import annotations

import itertools
import queue
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs
import pytest
import stomp
from flume_source_jms import JmsSource
from flume_testkit.servers.activemq import ActiveMQ

_names = itertools.count()


@pytest.fixture
def destination(activemq_broker: ActiveMQ) -> str:
    """A fresh queue name per test (the broker is shared by the session), created on the
    broker so that its statistics answer before the first message."""
    name = f"flume.test.{next(_names)}"
    conn = stomp.Connection([("127.0.0.1", activemq_broker.stomp_port)])
    conn.connect(wait=True)
    conn.subscribe(f"/queue/{name}", "create", headers={"browser": "true"})  # takes nothing
    conn.disconnect()
    return name


@pytest.fixture
def make_jms_source(activemq_broker: ActiveMQ, destination: str) -> Callable[..., JmsSource]:
    def make(name: str = "r1", **overrides: str) -> JmsSource:
        props = {"providerURL": activemq_broker.stomp_url, "destinationName": destination,
                 "pollTimeout": "200", **overrides}
        return JmsSource.from_config(name, props)
    return make


@pytest.fixture
def send_messages(activemq_broker: ActiveMQ) -> Callable[..., None]:
    """``(destination, bodies, **options)``: :func:`send` to the session's broker."""
    return lambda destination, bodies, **options: send(activemq_broker, destination, bodies,
                                                       **options)


@pytest.fixture
def unacknowledged_on(activemq_broker: ActiveMQ) -> Callable[[str], int]:
    """``queue name -> messages not acknowledged yet`` on the session's broker."""
    if not Path("/usr/share/java/xstream.jar").is_file():
        pytest.skip("libxstream-java is not installed (the broker answers statistics as XML "
                    "maps with it; scripts/install-system-deps.sh installs it)")
    return lambda name: unacknowledged(activemq_broker, name)


def send(broker: ActiveMQ, destination: str, bodies: Sequence[bytes | str], *,
         headers: Mapping[str, str] | None = None, login: tuple[str, str] | None = None) -> None:
    """Send persistent messages: ``str`` bodies as TextMessages, ``bytes`` as BytesMessages.

    Returns once the broker confirmed the last one (a receipt), so the messages are on the
    queue, in order, when it returns.
    """
    text = all(isinstance(b, str) for b in bodies)
    if not text and any(isinstance(b, str) for b in bodies):
        msg = "send() takes text or bytes bodies, not both"
        raise AssertionError(msg)
    receipts = _Receipts()
    conn = stomp.Connection([("127.0.0.1", broker.stomp_port)], auto_content_length=not text)
    conn.set_listener("receipts", receipts)
    conn.connect(*(login or (None, None)), wait=True)
    try:
        for i, body in enumerate(bodies):
            extra = {"receipt": "sent"} if i == len(bodies) - 1 else {}
            conn.send(destination, body, headers={"persistent": "true", **(headers or {}),
                                                  **extra})
        assert receipts.arrived.wait(10), "the broker did not confirm the messages"
    finally:
        conn.disconnect()


class _Receipts(stomp.ConnectionListener):
    def __init__(self) -> None:
        self.arrived = threading.Event()

    def on_receipt(self, frame: stomp.utils.Frame) -> None:
        self.arrived.set()


def queue_stats(broker: ActiveMQ, name: str) -> dict[str, str]:
    """ActiveMQ's statistics of queue ``name`` (its statistics plugin, answered as an XML map):
    ``size`` counts every message not acknowledged yet, in a consumer's hands or not."""
    replies: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame: stomp.utils.Frame) -> None:
            replies.put(frame.body)

    reply_to = f"/queue/flume.stats.{next(_names)}"
    conn = stomp.Connection([("127.0.0.1", broker.stomp_port)], auto_decode=False)
    conn.set_listener("stats", Listener())
    conn.connect(wait=True)
    try:
        conn.subscribe(reply_to, "stats", headers={"transformation": "jms-map-xml"})
        conn.send(f"/queue/ActiveMQ.Statistics.Destination.{name}", "",
                  headers={"reply-to": reply_to})
        document = ET.fromstring(replies.get(timeout=10))
    finally:
        conn.disconnect()
    return {entry[0].text or "": entry[1].text or "" for entry in document.iter("entry")}


def unacknowledged(broker: ActiveMQ, name: str) -> int:
    return int(queue_stats(broker, name).get("size", "0"))


@attrs.frozen
class BrokerTools:
    """The helpers for a broker a test starts itself (conftest modules cannot be imported)."""

    send: Callable[..., None] = send
    unacknowledged: Callable[[ActiveMQ, str], int] = unacknowledged


@pytest.fixture
def broker_tools() -> BrokerTools:
    return BrokerTools()
