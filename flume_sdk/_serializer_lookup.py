"""Resolve a sink's ``serializer`` setting: load the type, parse its keys, report problems.

Sinks that write through an :class:`EventSerializer` (file_roll, hdfs) name it with a
type key and configure it with the keys under a prefix. Resolving both when the sink is
configured turns a misspelt serializer or a bad serializer key into a configuration
error that names the sink, the key and its file:line, instead of a failure at the
first write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, BinaryIO

import attrs

from flume_sdk._errors import ConfigurationError, Location, PluginError, Problem
from flume_sdk._plugins import PluginKind, PluginRegistry, default_registry
from flume_sdk._serializer import EventSerializer
from flume_sdk._settings import parse_settings

__all__ = ["SerializerFactory", "resolve_serializer"]


@attrs.frozen
class SerializerFactory:
    """A serializer class with its parsed settings; ``create`` makes one per output stream."""

    cls: type[EventSerializer]
    settings: Any

    def create(self, out: BinaryIO) -> EventSerializer:
        return self.cls(out, self.settings)


def resolve_serializer(
    type_name: str,
    properties: Mapping[str, str],
    *,
    component: str,
    key: str = "serializer",
    locations: Mapping[str, Location] | None = None,
    registry: PluginRegistry | None = None,
) -> SerializerFactory:
    """Load serializer ``type_name`` and parse its ``properties`` (the prefix already stripped).

    Args:
        type_name: the configured type (``text``, a Flume builder class, ``pkg.mod:Class``).
        properties: the serializer's own keys, e.g. ``{"appendNewline": "false"}``.
        component: the sink's config path (``a1.sinks.k1``).
        key: the sink's key naming the type (``serializer``, ``sink.serializer``); its
            sub-keys are ``<key>.<name>``.
        locations: where the sink's keys were written, for ``file:line``.
        registry: where types come from (the installed plugins by default).

    Raises:
        ConfigurationError: the type is unknown or broken, or a serializer key is wrong.
    """
    where = locations or {}
    try:
        cls: type[EventSerializer] = (registry or default_registry()).load(
            PluginKind.SERIALIZER, type_name)
    except PluginError as exc:
        raise ConfigurationError([Problem(component, str(exc), key, where.get(key))]) from exc
    prefix = f"{key}."
    sub_locations = {k[len(prefix):]: v for k, v in where.items() if k.startswith(prefix)}
    settings: Any = parse_settings(cls.Settings, properties, component=f"{component}.{key}",
                                   locations=sub_locations)
    return SerializerFactory(cls, settings)
