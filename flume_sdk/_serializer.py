"""Event serializers: turn events into bytes on an output stream (file_roll, hdfs)."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, BinaryIO, ClassVar, Self

from flume_sdk._event import Event
from flume_sdk._lifecycle import NoSettings
from flume_sdk._settings import parse_settings

__all__ = ["EventSerializer"]


class EventSerializer(abc.ABC):
    """Base of every serializer.

    The hook order is ``after_create`` (new file) or ``after_reopen`` (appending to
    an existing one, only if ``supports_reopen``), then ``write`` per event, ``flush``
    whenever the caller needs durability, and ``before_close`` once.

    Args:
        out: the binary stream to write to.
        settings: an instance of ``Settings``.
    """

    Settings: ClassVar[type] = NoSettings
    supports_reopen: ClassVar[bool] = True

    def __init__(self, out: BinaryIO, settings: Any = None) -> None:
        self.out = out
        self.settings = settings if settings is not None else self.Settings()

    @classmethod
    def create(
        cls, out: BinaryIO, properties: Mapping[str, Any] | None = None, *, component: str = "serializer"
    ) -> Self:
        """Build from Flume properties (the ``serializer.*`` keys with the prefix stripped)."""
        return cls(out, parse_settings(cls.Settings, properties or {}, component=component))

    def after_create(self) -> None:
        """Write a header into a new, empty stream."""

    def after_reopen(self) -> None:
        """Prepare to append to an existing stream."""
        if not self.supports_reopen:
            msg = f"{type(self).__name__} cannot append to an existing file"
            raise RuntimeError(msg)

    @abc.abstractmethod
    def write(self, event: Event) -> None:
        """Write one event to ``self.out`` (buffering is fine until :meth:`flush`).

        Called on the sink's runner thread, between ``after_create``/``after_reopen`` and
        ``before_close``.

        Args:
            event: the event; its headers and body must read back intact where the format
                carries them.

        Raises:
            OSError: the stream refused the bytes (the sink rolls the batch back).
        """

    def write_batch(self, events: list[Event]) -> None:
        """``write`` each event, in order; override only to make it faster."""
        for event in events:
            self.write(event)

    def flush(self) -> None:
        """Push buffered bytes to ``out``: afterwards everything written so far reads back."""

    def before_close(self) -> None:
        """Write a trailer before the stream is closed."""
