"""Plugin discovery: component types found by name in entry-point groups, loaded lazily.

Each kind of component has its own entry-point group; the entry point's name
is the ``type`` alias used in configuration (matched case-insensitively) and
its value the class. A ``type`` that names no entry point but looks like
``package.module:Class`` is imported directly. Nothing is imported until a
configuration asks for it, so a broken plugin cannot break a pipeline that
does not use it.
"""

from __future__ import annotations

import difflib
import enum
import importlib
import importlib.metadata as md
from collections.abc import Iterable
from functools import cache
from typing import Any

import attrs

from flume_sdk._channel import Channel
from flume_sdk._errors import (
    PluginConflictError,
    PluginError,
    PluginInvalidError,
    PluginLoadError,
    PluginNotFoundError,
)
from flume_sdk._interceptor import Interceptor
from flume_sdk._selector import ChannelSelector
from flume_sdk._serializer import EventSerializer
from flume_sdk._sink import Sink
from flume_sdk._sink_processor import SinkProcessor
from flume_sdk._source import Source
from flume_sdk._unavailable import unavailable

__all__ = ["PluginInfo", "PluginKind", "PluginRegistry", "default_registry", "load_plugin"]


class PluginKind(enum.Enum):
    """A kind of component, its entry-point group and the base class its plugins extend."""

    SOURCE = ("source", "flume_sdk.sources")
    CHANNEL = ("channel", "flume_sdk.channels")
    SINK = ("sink", "flume_sdk.sinks")
    INTERCEPTOR = ("interceptor", "flume_sdk.interceptors")
    SERIALIZER = ("serializer", "flume_sdk.serializers")
    CHANNEL_SELECTOR = ("channel selector", "flume_sdk.channel_selectors")
    SINK_PROCESSOR = ("sink processor", "flume_sdk.sink_processors")

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def group(self) -> str:
        return self.value[1]

    @property
    def base(self) -> type:
        return _BASES[self]


_BASES: dict[PluginKind, type] = {
    PluginKind.SOURCE: Source,
    PluginKind.CHANNEL: Channel,
    PluginKind.SINK: Sink,
    PluginKind.INTERCEPTOR: Interceptor,
    PluginKind.SERIALIZER: EventSerializer,
    PluginKind.CHANNEL_SELECTOR: ChannelSelector,
    PluginKind.SINK_PROCESSOR: SinkProcessor,
}


@attrs.frozen
class PluginInfo:
    """One registered type: what ``flume-ng plugins`` lists."""

    kind: PluginKind
    type_name: str
    value: str
    distribution: str
    version: str

    @property
    def origin(self) -> str:
        return f"{self.distribution} {self.version}".strip()


def _info(kind: PluginKind, ep: md.EntryPoint) -> PluginInfo:
    dist = getattr(ep, "dist", None)
    name = dist.metadata["Name"] if dist is not None else "?"
    version = dist.version if dist is not None else ""
    return PluginInfo(kind, ep.name, ep.value, name, version)


class PluginRegistry:
    """The registered component types, read from entry points once.

    Args:
        infos: the plugins to know; by default every installed entry point.
    """

    def __init__(self, infos: Iterable[PluginInfo] | None = None) -> None:
        if infos is None:
            infos = [_info(kind, ep) for kind in PluginKind
                     for ep in md.entry_points(group=kind.group)]
        self._by_kind: dict[PluginKind, dict[str, list[PluginInfo]]] = {k: {} for k in PluginKind}
        for info in infos:
            self._by_kind[info.kind].setdefault(info.type_name.lower(), []).append(info)
        self._loaded: dict[tuple[PluginKind, str], type] = {}

    def available(self, kind: PluginKind | None = None) -> list[PluginInfo]:
        kinds = [kind] if kind else list(PluginKind)
        return [i for k in kinds for infos in self._by_kind[k].values() for i in infos]

    def find(self, kind: PluginKind, type_name: str) -> PluginInfo:
        """The registration for ``type_name``, or a typed error with a did-you-mean."""
        infos = self._by_kind[kind].get(type_name.strip().lower(), [])
        if len(infos) > 1 and len({i.value for i in infos}) > 1:
            origins = ", ".join(f"{i.value} from {i.origin}" for i in infos)
            msg = f"{kind.label} type {type_name!r} is registered more than once: {origins}"
            raise PluginConflictError(msg, kind=kind.label, type_name=type_name)
        if not infos:
            raise self._not_found(kind, type_name)
        return infos[0]

    def _not_found(self, kind: PluginKind, type_name: str) -> PluginNotFoundError:
        reason = unavailable(kind.label, type_name)
        if reason is not None:  # a Flume component we cannot offer: no did-you-mean
            return PluginNotFoundError(reason, kind=kind.label, type_name=type_name)
        names = sorted({i.type_name for infos in self._by_kind[kind].values() for i in infos})
        short = [n for n in names if "." not in n]
        close = difflib.get_close_matches(type_name, names, n=1, cutoff=0.6) or \
            difflib.get_close_matches(type_name.lower(), [n.lower() for n in short], n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(short) or "none installed"
        msg = (f"no {kind.label} type {type_name!r} is installed{hint} (known: {known}; "
               "or give a class as 'package.module:Class')")
        return PluginNotFoundError(msg, kind=kind.label, type_name=type_name)

    def load(self, kind: PluginKind, type_name: str) -> type:
        """Import and return the class for ``type_name`` of ``kind``."""
        key = (kind, type_name.strip().lower())
        if key in self._loaded:
            return self._loaded[key]
        if ":" in type_name and not self._by_kind[kind].get(key[1]):
            info = PluginInfo(kind, type_name, type_name.strip(), "(by class path)", "")
        else:
            info = self.find(kind, type_name)
        cls = _import(info)
        if not (isinstance(cls, type) and issubclass(cls, kind.base)):
            msg = (f"{kind.label} type {type_name!r} ({info.value} from {info.origin}) is not a "
                   f"subclass of flume_sdk.{kind.base.__name__} (got {cls!r})")
            raise PluginInvalidError(msg, kind=kind.label, type_name=type_name,
                                     distribution=info.origin)
        self._loaded[key] = cls
        return cls


def _import(info: PluginInfo) -> Any:
    module_name, _, attr = info.value.partition(":")
    try:
        obj: Any = importlib.import_module(module_name.strip())
        for part in attr.strip().split(".") if attr else ():
            obj = getattr(obj, part)
    except Exception as exc:
        msg = (f"{info.kind.label} type {info.type_name!r} from {info.origin} failed to load "
               f"({info.value}): {type(exc).__name__}: {exc}")
        raise PluginLoadError(msg, kind=info.kind.label, type_name=info.type_name,
                              distribution=info.origin) from exc
    return obj


@cache
def default_registry() -> PluginRegistry:
    """The registry of everything installed, read once per process."""
    return PluginRegistry()


def load_plugin(kind: PluginKind, type_name: str) -> type:
    """Load a component class by its configured ``type`` from the installed plugins."""
    return default_registry().load(kind, type_name)


def check_all(registry: PluginRegistry | None = None) -> list[tuple[PluginInfo, PluginError | None]]:
    """Import every registered plugin and report, per row, whether it loads."""
    registry = registry or default_registry()
    out: list[tuple[PluginInfo, PluginError | None]] = []
    for info in registry.available():
        try:
            registry.load(info.kind, info.type_name)
        except PluginError as exc:
            out.append((info, exc))
        else:
            out.append((info, None))
    return out
