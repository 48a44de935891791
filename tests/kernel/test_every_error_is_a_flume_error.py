"""Every error class the kernel and the plugins of this repository define is a ``FlumeError``.

One ``except FlumeError`` catches anything a component raises on purpose; a plugin's own
errors also subclass the builtin they specialise (``OSError``, ``ValueError``, ...).
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import inspect
import pkgutil
from collections.abc import Iterator

from flume_sdk import FlumeError

__all__: list[str] = []

_PACKAGES = ["flume_sdk"]


def _plugin_packages() -> list[str]:
    found = set()
    for group in ("flume_sdk.sources", "flume_sdk.channels", "flume_sdk.sinks",
                  "flume_sdk.interceptors", "flume_sdk.serializers", "flume_sdk.cli"):
        for ep in md.entry_points(group=group):
            found.add(ep.value.split(":")[0].split(".")[0])
    return sorted(found - set(_PACKAGES))


def _modules(package: str) -> Iterator[str]:
    root = importlib.import_module(package)
    yield package
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        yield info.name


def _error_classes() -> Iterator[tuple[str, type[BaseException]]]:
    for package in [*_PACKAGES, *_plugin_packages()]:
        for name in _modules(package):
            module = importlib.import_module(name)
            for attr, value in vars(module).items():
                if (inspect.isclass(value) and issubclass(value, BaseException)
                        and value.__module__ == name and not attr.startswith("_")):
                    yield f"{name}.{attr}", value


def test_plugins_of_this_repository_are_found() -> None:
    assert {"flume_rpc_avro", "flume_rpc_thrift", "flume_channel_file"} <= set(_plugin_packages())


def test_every_public_error_class_is_a_flume_error() -> None:
    outside = sorted(name for name, cls in _error_classes() if not issubclass(cls, FlumeError))
    assert not outside, f"error classes outside the FlumeError hierarchy: {outside}"
