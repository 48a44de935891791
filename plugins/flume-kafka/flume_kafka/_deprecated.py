"""Flume's deprecated Kafka keys (before Flume 1.7), mapped onto today's keys.

Flume still reads its old keys (``brokerList``, ``topic``, ``groupId``,
``requiredAcks``...) and logs a warning; so does this plugin, with one warning
per key naming the component and the old and new key. Where the new key is
set too, it wins and the old one is only reported. Keys that cannot work here
(``zookeeperConnect``: Kafka clients have not talked to ZooKeeper since Kafka
0.9) are configuration errors; ``migrateZookeeperOffsets``, which only acts
together with ``zookeeperConnect``, is accepted with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

import attrs

from flume_sdk import ConfigurationError, Location, Problem, to_bool

__all__ = [
    "CHANNEL_KEYS",
    "SINK_KEYS",
    "SOURCE_KEYS",
    "DeprecatedKeys",
    "Ignored",
    "Rejected",
    "Renamed",
    "translate_deprecated",
]



@attrs.frozen
class Renamed:
    """``old`` means ``new``; ``convert`` maps the value (raising ``ValueError`` if it cannot)."""

    old: str
    new: str
    convert: Callable[[str], str] = str


@attrs.frozen
class Ignored:
    """``old`` has no effect here; accepted with a warning saying ``why``."""

    old: str
    why: str


@attrs.frozen
class Rejected:
    """``old`` cannot work here: a configuration error saying ``why`` and ``fix``."""

    old: str
    why: str
    fix: str


Deprecated = Renamed | Ignored | Rejected


def _offset_reset(text: str) -> str:
    return "earliest" if to_bool(text) else "latest"


_ZOOKEEPER = Rejected(
    "zookeeperConnect",
    "is not supported: Kafka clients since Kafka 0.9 find brokers, groups and offsets "
    "through the brokers, not ZooKeeper",
    "remove it and set kafka.bootstrap.servers = host:port of the Kafka brokers")
_MIGRATE = Ignored("migrateZookeeperOffsets",
                   "has no effect: offsets are read from Kafka only (ZooKeeper offsets are not "
                   "migrated)")

SOURCE_KEYS: tuple[Deprecated, ...] = (
    Renamed("topic", "kafka.topics"),
    Renamed("groupId", "kafka.consumer.group.id"),
    _ZOOKEEPER,
    _MIGRATE,
)
SINK_KEYS: tuple[Deprecated, ...] = (
    Renamed("brokerList", "kafka.bootstrap.servers"),
    Renamed("topic", "kafka.topic"),
    Renamed("batchSize", "flumeBatchSize"),
    Renamed("requiredAcks", "kafka.producer.acks"),
)
CHANNEL_KEYS: tuple[Deprecated, ...] = (
    Renamed("brokerList", "kafka.bootstrap.servers"),
    Renamed("topic", "kafka.topic"),
    Renamed("groupId", "kafka.consumer.group.id"),
    Renamed("readSmallestOffset", "kafka.consumer.auto.offset.reset", _offset_reset),
    _ZOOKEEPER,
    _MIGRATE,
)


def translate_deprecated(
    properties: Mapping[str, Any],
    locations: Mapping[str, Location] | None,
    table: tuple[Deprecated, ...],
    component: str,
) -> tuple[dict[str, Any], dict[str, Location], list[Problem]]:
    """Rewrite the deprecated keys of ``table`` in ``properties``.

    Returns:
        the rewritten properties, their locations, and the problems: errors (rejected
        keys, values that do not convert) and one warning per deprecated key.
    """
    props, locs = dict(properties), dict(locations or {})
    problems: list[Problem] = []

    def warn(key: str, message: str, where: Location | None) -> None:
        problems.append(Problem(component, message, key, where, severity="warning"))

    for entry in table:
        if entry.old not in props:
            continue
        value, where = props.pop(entry.old), locs.pop(entry.old, None)
        if isinstance(entry, Rejected):
            problems.append(Problem(component, entry.why, entry.old, where, entry.fix))
        elif isinstance(entry, Ignored):
            warn(entry.old, f"deprecated key {entry.why}", where)
        elif entry.new in props:
            warn(entry.old, f"deprecated key ignored because {entry.new} is set too; remove it",
                 where)
        else:
            try:
                props[entry.new] = entry.convert(value) if isinstance(value, str) else value
            except ValueError as exc:
                problems.append(Problem(component, f"{exc} (deprecated key for {entry.new})",
                                        entry.old, where))
                continue
            if where is not None:
                locs[entry.new] = where
            warn(entry.old, f"deprecated key read as {entry.new}; rename it", where)
    return props, locs, problems


class DeprecatedKeys:
    """Mixin for a component: ``from_config`` reads the keys of ``deprecated_keys`` first."""

    deprecated_keys: ClassVar[tuple[Deprecated, ...]] = ()

    @classmethod
    def from_config(
        cls,
        target: Any,
        properties: Mapping[str, Any] | None = None,
        *,
        component: str | None = None,
        locations: Mapping[str, Location] | None = None,
        **options: Any,
    ) -> Self:
        """Build from Flume properties, old keys included (see the module docstring).

        Raises:
            ConfigurationError: every problem, of the deprecated keys and of the rest.
        """
        path = component or str(target)
        props, locs, found = translate_deprecated(properties or {}, locations,
                                                  cls.deprecated_keys, path)
        errors = [p for p in found if p.severity == "error"]
        try:
            built: Self = super().from_config(  # type: ignore[misc]
                target, props, component=path, locations=locs, **options)
        except ConfigurationError as exc:
            raise ConfigurationError([*errors, *exc.problems]) from exc
        if errors:
            raise ConfigurationError(errors)
        built.config_warnings[:0] = [p for p in found if p.severity == "warning"]  # type: ignore[attr-defined]
        return built
