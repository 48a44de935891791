"""Flume's channel selectors: ``replicating``, ``multiplexing`` and ``load_balancing``."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from flume_sdk import (
    Channel,
    ChannelSelector,
    ConfigurationError,
    Event,
    Problem,
    Routing,
    namespace,
    one_of,
    setting,
)

__all__ = ["LoadBalancingSelector", "MultiplexingSelector", "ReplicatingSelector"]


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _unknown_channels(selector: ChannelSelector, key: str, names: Sequence[str]) -> list[Problem]:
    return [Problem(selector.component, f"names channel {n!r}, which is not among the source's "
                    f"channels ({', '.join(selector.by_name)})", key)
            for n in names if n not in selector.by_name]


@attrs.frozen(kw_only=True)
class ReplicatingSettings:
    optional: tuple[str, ...] = setting(default=(), help="channels that are best effort")


class ReplicatingSelector(ChannelSelector):
    """Every event to every channel; those in ``optional`` are best effort."""

    Settings: ClassVar[type] = ReplicatingSettings

    def __init__(self, channels: Sequence[Channel], settings: Any = None, *, component: str = "") -> None:
        super().__init__(channels, settings, component=component)
        problems = _unknown_channels(self, "optional", self.settings.optional)
        if problems:
            raise ConfigurationError(problems)
        optional = set(self.settings.optional)
        self._required = [c for c in self.channels if c.name not in optional]
        self._optional = [c for c in self.channels if c.name in optional]

    def required_channels(self, event: Event) -> list[Channel]:
        return list(self._required)

    def optional_channels(self, event: Event) -> list[Channel]:
        return list(self._optional)

    def route(self, events: Sequence[Event]) -> Routing:
        batch = list(events)
        return Routing([(c, batch) for c in self._required], [(c, batch) for c in self._optional])


@attrs.frozen(kw_only=True)
class MultiplexingSettings:
    header: str = setting(default="flume.selector.header", help="header whose value picks channels")
    default: tuple[str, ...] = setting(default=(), help="channels for unmapped values")
    mapping: dict[str, str] = namespace("mapping.", help="header value -> channels")
    optional: dict[str, str] = namespace("optional.", help="header value -> optional channels")


class MultiplexingSelector(ChannelSelector):
    """Channels chosen by the value of one header (``mapping.<value>``), else ``default``."""

    Settings: ClassVar[type] = MultiplexingSettings

    def __init__(self, channels: Sequence[Channel], settings: Any = None, *, component: str = "") -> None:
        super().__init__(channels, settings, component=component)
        s = self.settings
        problems = _unknown_channels(self, "default", s.default)
        self._mapping = self._table(s.mapping, "mapping", problems)
        optional = self._table(s.optional, "optional", problems)
        if problems:
            raise ConfigurationError(problems)
        self._default = [self.by_name[n] for n in s.default]
        self._optional = {v: [c for c in chans if c not in self._mapping.get(v, self._default)]
                          for v, chans in optional.items()}

    def _table(self, raw: dict[str, str], prefix: str, problems: list[Problem]) -> dict[str, list[Channel]]:
        table = {}
        for value, text in raw.items():
            names = _names(text)
            if not names:
                problems.append(Problem(self.component, "maps to no channel", f"{prefix}.{value}"))
            problems.extend(_unknown_channels(self, f"{prefix}.{value}", names))
            table[value] = [self.by_name[n] for n in names if n in self.by_name]
        return table

    def required_channels(self, event: Event) -> list[Channel]:
        value = event.headers.get(self.settings.header, "").strip()
        return list(self._mapping.get(value, self._default)) if value else list(self._default)

    def optional_channels(self, event: Event) -> list[Channel]:
        return list(self._optional.get(event.headers.get(self.settings.header, ""), ()))

    def route(self, events: Sequence[Event]) -> Routing:
        header = self.settings.header
        groups: dict[str, list[Event]] = {}
        for event in events:
            groups.setdefault(event.headers.get(header, "").strip(), []).append(event)
        if len(groups) == 1:
            ((value, batch),) = groups.items()
            return Routing([(c, batch) for c in self._required_for(value)],
                           [(c, batch) for c in self._optional.get(value, ())])
        return super().route(events)

    def _required_for(self, value: str) -> list[Channel]:
        return self._mapping.get(value, self._default) if value else self._default


@attrs.frozen(kw_only=True)
class LoadBalancingSettings:
    policy: str = setting(default="round_robin", validator=one_of("round_robin", "random"))


class LoadBalancingSelector(ChannelSelector):
    """Each batch to exactly one channel, round-robin or at random (Flume 1.10+)."""

    Settings: ClassVar[type] = LoadBalancingSettings

    def __init__(self, channels: Sequence[Channel], settings: Any = None, *, component: str = "") -> None:
        super().__init__(channels, settings, component=component)
        self._cycle = itertools.cycle(self.channels)

    def _pick(self) -> Channel:
        if self.settings.policy.lower() == "random":
            return random.choice(self.channels)
        return next(self._cycle)

    def required_channels(self, event: Event) -> list[Channel]:
        return [self._pick()]

    def route(self, events: Sequence[Event]) -> Routing:
        return Routing([(self._pick(), list(events))])
