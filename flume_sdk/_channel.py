"""The channel base class: buffers events between sources and sinks, in transactions."""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._lifecycle import Component
from flume_sdk._transaction import Transaction, TransactionState

__all__ = ["Channel"]


class Channel(Component):
    """Base of every channel.

    Implementers write a :class:`Transaction` subclass with the ``do_*`` hooks and
    return it from :meth:`create_transaction`; this class hands out one transaction
    per thread (Flume's semantics) and keeps the counters.

    Attributes:
        durable: committed events survive a restart (the contract tests check it).
    """

    counter_kind: ClassVar[str] = "CHANNEL"
    durable: ClassVar[bool] = False

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._local = threading.local()
        self.counter.set_gauges(self._gauges)

    @property
    def capacity(self) -> int:
        return int(getattr(self.settings, "capacity", 0))

    @property
    def transaction_capacity(self) -> int:
        return int(getattr(self.settings, "transaction_capacity", 1 << 62))

    @property
    def size(self) -> int:
        """Committed events waiting to be taken (override)."""
        return 0

    def wake(self) -> None:
        """End every wait for events or room now (a runner is stopping). Override if you wait."""

    @abc.abstractmethod
    def create_transaction(self) -> Transaction:
        """A new transaction of this channel (the kernel keeps one per thread).

        Returns:
            An instance of your :class:`Transaction` subclass, in state NEW.
        """

    def get_transaction(self) -> Transaction:
        """This thread's open transaction, or a new one when the last was closed.

        For code that must drive ``begin``/``commit``/``rollback``/``close`` itself; everything
        else uses :meth:`transaction`, the one idiom.
        """
        tx: Transaction | None = getattr(self._local, "tx", None)
        if tx is None or tx.state is TransactionState.CLOSED:
            tx = self.create_transaction()
            self._local.tx = tx
        return tx

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """The transaction idiom: ``begin``; ``commit`` when the block ends, ``rollback`` if it
        raises (the exception propagates); ``close`` either way.

        ::

            with channel.transaction() as tx:
                tx.put_batch(events)
        """
        tx = self.get_transaction()
        tx.begin()
        try:
            yield tx
            tx.commit()
        except BaseException:
            if tx.state is TransactionState.OPEN:
                tx.rollback()
            raise
        finally:
            tx.close()

    def _gauges(self) -> dict[str, int | float]:
        size, capacity = self.size, self.capacity
        fill = (100.0 * size / capacity) if capacity else 0.0
        return {"ChannelSize": size, "ChannelCapacity": capacity, "ChannelFillPercentage": fill}
