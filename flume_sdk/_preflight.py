"""Preflight: what must hold on this machine for a configuration to start.

``flume-ng validate`` and ``flume-ng agent`` run the same checks, so validate
predicts the start: the agent refuses to start on any of them instead of starting
and retrying forever. A component declares its checks with its settings:

- per key, ``setting(..., preflight=writable_dir())``: the value is checked alone
  (:func:`readable_dir`, :func:`writable_dir`, :func:`readable_file`,
  :func:`writable_parent`);
- for several keys, a ``preflight()`` method on the settings class yielding
  ``(key, message)`` pairs, e.g. ``yield from bind_problems("port", self.bind, self.port)``.

Unresolved ``${...}`` references are reported when the configuration is read, so
they come with the rest. :func:`preflight` runs every component's checks and
returns :class:`~flume_sdk.Problem` objects with ``file:line``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flume_sdk._clock import SYSTEM_CLOCK, Clock
from flume_sdk._errors import ConfigurationError, Problem
from flume_sdk._settings import settings_preflight

if TYPE_CHECKING:
    from flume_sdk._config import AgentConfig
    from flume_sdk._pipeline import Pipeline
    from flume_sdk._plugins import PluginRegistry

__all__ = ["bind_problems", "build_checked", "preflight", "readable_dir", "readable_file",
           "sorted_problems", "writable_dir", "writable_parent"]

Check = Callable[[Any], "str | None"]


def _existing_ancestor(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path("/")


def _dir_problem(path: Path, *, write: bool, create: bool) -> str | None:
    if not path.exists():
        if not create:
            return f"directory {str(path)!r} does not exist"
        ancestor = _existing_ancestor(path)
        if not ancestor.is_dir():
            return (f"directory {str(path)!r} cannot be created: {str(ancestor)!r} is a file, "
                    "not a directory")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return (f"directory {str(path)!r} does not exist and cannot be created "
                    f"({str(ancestor)!r} is not writable)")
        return None
    if not path.is_dir():
        return f"{str(path)!r} is not a directory"
    need = os.R_OK | os.X_OK | (os.W_OK if write else 0)
    if not os.access(path, need):
        return f"directory {str(path)!r} is not {'writable' if write else 'readable'} by this user"
    return None


def readable_dir() -> Check:
    """The value is a directory this user can list."""
    return lambda value: _dir_problem(Path(value).expanduser(), write=False, create=False)


def writable_dir(*, create: bool = False) -> Check:
    """The value is a directory this user can write (or, with ``create``, can create)."""
    return lambda value: _dir_problem(Path(value).expanduser(), write=True, create=create)


def writable_parent(*, create: bool = True) -> Check:
    """The value is a file that can be written: its directory is writable (or creatable)."""
    def check(value: Any) -> str | None:
        path = Path(value).expanduser()
        if path.is_dir():
            return f"{str(path)!r} is a directory, not a file"
        if path.exists() and not os.access(path, os.W_OK):
            return f"file {str(path)!r} is not writable by this user"
        return _dir_problem(path.parent, write=True, create=create)
    return check


def readable_file() -> Check:
    """The value is a file this user can read."""
    def check(value: Any) -> str | None:
        path = Path(value).expanduser()
        if not path.exists():
            return f"file {str(path)!r} does not exist"
        if not path.is_file():
            return f"{str(path)!r} is not a file"
        if not os.access(path, os.R_OK):
            return f"file {str(path)!r} is not readable by this user"
        return None
    return check


def bind_problems(key: str, host: str, port: int, *,
                  udp: bool = False) -> Iterator[tuple[str, str]]:
    """Yield ``(key, message)`` if ``host:port`` cannot be bound now (port 0 always can)."""
    if not port:
        return
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    try:
        infos = socket.getaddrinfo(host or None, port, type=kind, flags=socket.AI_PASSIVE)
    except OSError as exc:
        yield key, f"cannot bind {host}:{port}: address {host!r} does not resolve ({exc})"
        return
    family, _, _, _, address = infos[0]
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            why = "it is in use" if exc.errno == 98 else exc.strerror or str(exc)
            yield key, (f"cannot bind {'UDP' if udp else 'TCP'} {host}:{port}: {why}")


def preflight(pipeline: Pipeline, *, ports: bool = True) -> list[Problem]:
    """Every component's preflight problems, with ``file:line`` where known.

    Args:
        ports: also check that listening ports are free (not on reload, where the
            running pipeline holds them).
    """
    problems: list[Problem] = []
    for component in pipeline.components():
        path = getattr(component, "config_path", None) or component.name
        locations = getattr(component, "config_locations", None) or {}
        for key, message in settings_preflight(component.settings):
            if not ports and message.startswith("cannot bind"):
                continue
            problems.append(Problem(path, message, key, locations.get(key) if key else None))
    return problems


def sorted_problems(problems: list[Problem]) -> list[Problem]:
    """By file and line (problems without a location last), then component; duplicates once."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.location is None, p.location.file if p.location else "",
                                         p.location.line if p.location else 0, p.component))


def build_checked(config: AgentConfig, *, registry: PluginRegistry | None = None,
                  clock: Clock = SYSTEM_CLOCK, lenient: bool = False,
                  running: Pipeline | None = None, ports: bool = True) -> Pipeline:
    """Build ``config`` and run the preflight: what ``validate`` checks and the agent requires.

    Every problem is collected before anything is raised: configuration errors of one
    component do not hide another's, or a preflight problem.

    Raises:
        ConfigurationError: (unless ``lenient``) every error, sorted by file and line.
    """
    from flume_sdk._pipeline import build_pipeline

    pipeline = build_pipeline(config, registry=registry, clock=clock, lenient=True,
                              running=running)
    errors = [p for p in pipeline.warnings if p.severity == "error"]
    errors.extend(preflight(pipeline, ports=ports))
    if errors and not lenient:
        raise ConfigurationError(sorted_problems(errors))
    pipeline.warnings = sorted_problems(
        [p for p in pipeline.warnings if p.severity != "error"] + errors)
    return pipeline
