"""The one ``from_config``: how every pluggable class is built from Flume properties.

Sources, channels, sinks, interceptors, channel selectors and sink processors all extend
:class:`Configurable`: a ``Settings`` class declares the keys, and ``from_config`` parses
and validates the properties into it, keeps the settings' warnings and calls the
constructor as ``cls(target, settings, **options)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import attrs

from flume_sdk._errors import Location, Problem
from flume_sdk._settings import parse_settings_and_warnings

__all__ = ["Configurable", "NoSettings"]


@attrs.frozen(kw_only=True)
class NoSettings:
    """The settings of a component that has none."""


class Configurable:
    """Built from Flume properties through ``Settings``.

    Attributes:
        Settings: the attrs class declaring the keys (built with ``setting``).
        config_context: the context keyword arguments the constructor takes, among
            ``component`` (the config path, ``a1.sinks.k1``) and ``locations`` (key ->
            file:line): a class that checks keys of its own (a serializer's) wants both.
        default_component: the config path used when ``from_config`` is given none and its
            first argument is not a name.
        config_warnings: what the settings warned about (``flume-ng validate`` prints it).
        config_path / config_locations: the config path it was built for and where each of
            its keys was written (for messages after construction).
    """

    Settings: ClassVar[type] = NoSettings
    config_context: ClassVar[tuple[str, ...]] = ()
    default_component: ClassVar[str] = "component"
    config_warnings: list[Problem]
    config_path: str
    config_locations: Mapping[str, Location]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("wants_config_context"):  # the older spelling of config_context
            cls.config_context = ("component", "locations")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.config_warnings = []
        self.config_path = args[0] if args and isinstance(args[0], str) else ""
        self.config_locations = {}

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
        """Build from Flume properties (``{"capacity": "1000"}``), validating every key.

        Args:
            target: the constructor's first argument: the name (``k1``), or the channels of
                a selector, the sinks of a sink processor.
            properties: the component's own keys, values as written.
            component: the config path for messages (default: ``target`` if it is a name).
            locations: where each key was written, for messages.
            options: more constructor arguments (``clock=...``).

        Returns:
            The configured, unstarted instance; its ``config_warnings`` hold the warnings
            (deprecated keys read, and the settings' own ``warnings()``).

        Raises:
            ConfigurationError: listing every problem in the properties.
        """
        path = component or (target if isinstance(target, str) else cls.default_component)
        settings: Any
        settings, warnings = parse_settings_and_warnings(
            cls.Settings, properties or {}, component=path, locations=locations)
        context = {"component": path, "locations": locations}
        options = {**{key: context[key] for key in cls.config_context}, **options}
        built = cls(target, settings, **options)
        built.config_path, built.config_locations = path, dict(locations or {})
        built.config_warnings = warnings
        return built
