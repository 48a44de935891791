"""The kernel's own hook implementations: Flume's ``env`` and ``external`` config filters."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping

from flume_sdk._hooks import hookimpl

__all__ = ["flume_config_filter"]


def _env_lookup(key: str) -> str | None:
    return os.environ.get(key)


def _external_lookup(command: str, charset: str) -> Callable[[str], str | None]:
    def lookup(key: str) -> str | None:
        try:
            done = subprocess.run([*command.split(), key], capture_output=True, timeout=30,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
        lines = done.stdout.decode(charset, errors="replace").splitlines()
        return lines[0] if lines else None

    return lookup


@hookimpl
def flume_config_filter(
    filter_type: str, properties: Mapping[str, str]
) -> Callable[[str], str | None] | None:
    kind = filter_type.lower()
    if kind in ("env", "org.apache.flume.configfilter.environmentvariableconfigfilter"):
        return _env_lookup
    if kind in ("external", "org.apache.flume.configfilter.externalprocessconfigfilter"):
        command = properties.get("command")
        if not command:
            return None
        return _external_lookup(command, properties.get("charset", "UTF-8"))
    return None
