"""One STOMP subscription (stomp.py) whose messages are taken in batches and acked one by one.

stomp.py's receiver thread puts each ``MESSAGE`` frame in a queue; the source's
runner thread takes batches from it. The subscription uses
``ack:client-individual``: a message is settled only by its own ``ACK``, sent by
the source after the channel commit; whatever is not acked when the connection
ends is redelivered by the broker. ``activemq.prefetchSize`` bounds how many
unacked messages the broker hands over, so a refusing channel stops the flow.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Sequence

import attrs
import stomp  # type: ignore[import-untyped]
import stomp.exception  # type: ignore[import-untyped]

from flume_sdk import FlumeError

__all__ = ["Frame", "JmsError", "StompConsumer", "Subscription"]

log = logging.getLogger(__name__)

_SUBSCRIPTION_IDS = itertools.count(1)
_RECEIPTS = itertools.count(1)


class JmsError(FlumeError):
    """The broker refused, closed or could not be reached; the message says which."""


@attrs.frozen
class Frame:
    """One received message: its frame headers and body."""

    headers: dict[str, str]
    body: bytes

    @property
    def message_id(self) -> str:
        return self.headers.get("message-id", "")


@attrs.frozen(kw_only=True)
class Subscription:
    """What to connect to and subscribe."""

    brokers: Sequence[tuple[str, int]]
    destination: str
    selector: str = ""
    login: str = ""
    passcode: str = ""
    client_id: str = ""
    durable_name: str = ""
    prefetch: int = 100
    timeout: float = 10.0


class _Listener(stomp.ConnectionListener):  # type: ignore[misc]
    def __init__(self, inbox: queue.SimpleQueue[Frame | None]) -> None:
        self.inbox = inbox
        self.error = ""
        self.closed = threading.Event()
        self.receipts: set[str] = set()
        self.receipt_arrived = threading.Condition()

    def on_message(self, frame: stomp.utils.Frame) -> None:
        self.inbox.put(Frame(dict(frame.headers), frame.body or b""))

    def on_error(self, frame: stomp.utils.Frame) -> None:
        self.error = frame.headers.get("message", "") or str(frame.body or b"", "utf-8", "replace")

    def on_receipt(self, frame: stomp.utils.Frame) -> None:
        with self.receipt_arrived:
            self.receipts.add(frame.headers.get("receipt-id", ""))
            self.receipt_arrived.notify_all()

    def on_disconnected(self) -> None:
        self.closed.set()
        self.inbox.put(None)  # wakes a waiting take
        with self.receipt_arrived:
            self.receipt_arrived.notify_all()


class StompConsumer:
    """A connected subscription; :meth:`take` and :meth:`ack` on the source's runner thread."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self._inbox: queue.SimpleQueue[Frame | None] = queue.SimpleQueue()
        self._listener = _Listener(self._inbox)
        self._id = str(next(_SUBSCRIPTION_IDS))
        self._conn: stomp.Connection | None = None

    @property
    def alive(self) -> bool:
        return self._conn is not None and not self._listener.closed.is_set()

    def open(self) -> None:
        """Connect and subscribe; raises :class:`JmsError` (and leaves nothing running)."""
        sub = self.subscription
        conn = stomp.Connection(list(sub.brokers), auto_decode=False, reconnect_attempts_max=1,
                                timeout=sub.timeout, heartbeats=(0, 0))
        conn.set_listener("flume", self._listener)
        headers = {"client-id": sub.client_id} if sub.client_id else {}
        try:
            conn.connect(sub.login or None, sub.passcode or None, wait=True, headers=headers)
        except (stomp.exception.StompException, OSError) as exc:
            _quietly_close(conn)
            reason = self._listener.error or str(exc) or type(exc).__name__
            msg = f"cannot connect to {self._where()}: {reason}"
            raise JmsError(msg) from exc
        self._conn = conn
        try:
            conn.subscribe(sub.destination, self._id, ack="client-individual",
                           headers=self._subscribe_headers())
        except stomp.exception.StompException as exc:
            self.close()
            msg = f"cannot subscribe to {sub.destination} on {self._where()}: {exc}"
            raise JmsError(msg) from exc

    def take(self, limit: int, wait: float) -> list[Frame]:
        """Up to ``limit`` messages: waits ``wait`` seconds for the first, then takes what is there."""
        frames: list[Frame] = []
        try:
            first = self._inbox.get(timeout=wait) if wait > 0 else self._inbox.get_nowait()
        except queue.Empty:
            return frames
        if first is not None:
            frames.append(first)
        while len(frames) < limit:
            try:
                frame = self._inbox.get_nowait()
            except queue.Empty:
                break
            if frame is not None:
                frames.append(frame)
        return frames

    def ack(self, frames: Sequence[Frame]) -> None:
        """``ACK`` each message and wait for the broker's receipt of the last one.

        Raises:
            JmsError: the connection is gone or the receipt did not come in time (the
                broker then redelivers what it did not take as acknowledged).
        """
        conn = self._conn
        if conn is None or not self.alive:
            msg = f"connection to {self._where()} lost before the acknowledgement"
            raise JmsError(msg)
        receipt = f"ack-{next(_RECEIPTS)}"
        try:
            for frame in frames[:-1]:
                conn.ack(frame.message_id, self._id)
            conn.ack(frames[-1].message_id, self._id, receipt=receipt)
        except (stomp.exception.StompException, OSError) as exc:
            msg = f"acknowledgement to {self._where()} failed: {exc}"
            raise JmsError(msg) from exc
        listener = self._listener
        with listener.receipt_arrived:
            if not listener.receipt_arrived.wait_for(
                    lambda: receipt in listener.receipts or listener.closed.is_set(),
                    timeout=self.subscription.timeout):
                msg = f"no receipt for the acknowledgement from {self._where()}"
                raise JmsError(msg)
            listener.receipts.discard(receipt)
        if listener.closed.is_set():
            msg = f"connection to {self._where()} lost during the acknowledgement"
            raise JmsError(msg)

    def broker_error(self) -> str:
        return self._listener.error

    def close(self) -> None:
        """Disconnect (unacked messages go back to the broker); idempotent."""
        conn, self._conn = self._conn, None
        if conn is not None:
            _quietly_close(conn)

    def _subscribe_headers(self) -> dict[str, str]:
        sub = self.subscription
        headers = {"activemq.prefetchSize": str(sub.prefetch)}
        if sub.selector:
            headers["selector"] = sub.selector
        if sub.durable_name:
            headers["activemq.subscriptionName"] = sub.durable_name
        return headers

    def _where(self) -> str:
        return ", ".join(f"stomp://{h}:{p}" for h, p in self.subscription.brokers)


def _quietly_close(conn: stomp.Connection) -> None:
    try:
        if conn.is_connected():
            conn.disconnect()
    except (stomp.exception.StompException, OSError) as exc:
        log.debug("STOMP disconnect failed: %s", exc)
    finally:
        conn.transport.stop()
