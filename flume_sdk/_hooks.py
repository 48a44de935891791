"""Cross-cutting hooks (pluggy): config filters, config inspection and lifecycle observers.

Hook implementations are modules registered in the ``flume_sdk.hooks``
entry-point group. Hooks are never on the per-event path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import pluggy

__all__ = ["hookimpl", "hookspec", "plugin_manager"]

hookspec = pluggy.HookspecMarker("flume_sdk")
hookimpl = pluggy.HookimplMarker("flume_sdk")


class FlumeHookSpecs:
    """What a hook module may implement."""

    @hookspec(firstresult=True)
    def flume_config_filter(
        self, filter_type: str, properties: Mapping[str, str]
    ) -> Callable[[str], str | None] | None:
        """Return a lookup ``key -> value or None`` for a config filter of ``filter_type``
        (``<agent>.configfilters.<f>.type``), or ``None`` if this hook does not provide it."""

    @hookspec
    def flume_config_loaded(self, agent: str, properties: dict[str, str]) -> None:
        """Inspect or rewrite an agent's properties after substitution, before validation."""

    @hookspec
    def flume_component_started(self, component: Any) -> None:
        """A component reached START."""

    @hookspec
    def flume_component_stopped(self, component: Any) -> None:
        """A component stopped."""

    @hookspec
    def flume_component_failed(self, component: Any, error: BaseException) -> None:
        """A component failed to start or failed while running; the supervisor will retry."""


@cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager with every installed hook module loaded."""
    manager = pluggy.PluginManager("flume_sdk")
    manager.add_hookspecs(FlumeHookSpecs)
    manager.load_setuptools_entrypoints("flume_sdk.hooks")
    return manager
