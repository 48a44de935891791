"""Channel selectors decide which channels each event goes to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from flume_sdk._channel import Channel
from flume_sdk._configurable import Configurable
from flume_sdk._event import Event

__all__ = ["ChannelSelector", "Routing"]


@attrs.define
class Routing:
    """Where a batch goes: per channel, the events it must take and those it may take."""

    required: list[tuple[Channel, list[Event]]] = attrs.Factory(list)
    optional: list[tuple[Channel, list[Event]]] = attrs.Factory(list)


class ChannelSelector(Configurable):
    """Base of every selector.

    Custom selectors implement the per-event :meth:`required_channels` and
    :meth:`optional_channels`; :meth:`route` groups a batch by channel (built-in
    selectors override it for speed).

    Args:
        channels: the source's channels, in configuration order.
        settings: an instance of ``Settings``.
        component: the config path for messages (``a1.sources.r1.selector``).
    """

    config_context: ClassVar[tuple[str, ...]] = ("component",)
    default_component: ClassVar[str] = "selector"

    def __init__(self, channels: Sequence[Channel], settings: Any = None, *, component: str = "") -> None:
        super().__init__()
        self.channels = list(channels)
        self.settings: Any = settings if settings is not None else self.Settings()
        self.component = component
        self.by_name = {c.name: c for c in self.channels}

    def required_channels(self, event: Event) -> list[Channel]:
        return list(self.channels)

    def optional_channels(self, event: Event) -> list[Channel]:
        return []

    def route(self, events: Sequence[Event]) -> Routing:
        required: dict[str, list[Event]] = {}
        optional: dict[str, list[Event]] = {}
        for event in events:
            for channel in self.required_channels(event):
                required.setdefault(channel.name, []).append(event)
            for channel in self.optional_channels(event):
                optional.setdefault(channel.name, []).append(event)
        return Routing(
            [(self.by_name[n], evs) for n, evs in required.items()],
            [(self.by_name[n], evs) for n, evs in optional.items()],
        )
