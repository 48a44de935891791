"""An agent's configuration: Flume's key layout, value substitution and config filters.

``parse_agent`` turns the entries of one or more properties files into an
:class:`AgentConfig` for one agent name and reports structural problems (keys
outside the known sections, components listed without properties or configured
without being listed, list keys given twice). Component-level validation —
types, settings, references — happens when the pipeline is built.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping

import attrs

from flume_sdk._errors import Location, Problem
from flume_sdk._hooks import plugin_manager
from flume_sdk._properties import Entry

__all__ = ["SECTIONS", "AgentConfig", "ComponentConfig", "agent_names", "file_problems",
           "parse_agent"]

SECTIONS = ("sources", "channels", "sinks", "sinkgroups", "configfilters")
_REFERENCE = re.compile(r"\$\{([^${}]+)\}")
_FILTER_CALL = re.compile(r"^(\w+)\[(['\"]?)([-_a-zA-Z0-9.]+)\2\]$")


@attrs.define
class ComponentConfig:
    """One configured component: its properties relative to its own prefix."""

    section: str
    name: str
    path: str
    properties: dict[str, str] = attrs.Factory(dict)
    locations: dict[str, Location] = attrs.Factory(dict)

    @property
    def type(self) -> str | None:
        return self.properties.get("type")

    @property
    def location(self) -> Location | None:
        return self.locations.get("type") or next(iter(self.locations.values()), None)

    def sub(self, prefix: str) -> tuple[dict[str, str], dict[str, Location]]:
        """The properties under ``prefix`` (``selector.``), with the prefix stripped."""
        n = len(prefix)
        props = {k[n:]: v for k, v in self.properties.items() if k.startswith(prefix)}
        locs = {k[n:]: v for k, v in self.locations.items() if k.startswith(prefix)}
        return props, locs

    def words(self, key: str) -> list[str]:
        return self.properties.get(key, "").split()


@attrs.define
class AgentConfig:
    """Everything configured for one agent name, plus the problems found while reading it."""

    name: str
    sources: dict[str, ComponentConfig] = attrs.Factory(dict)
    channels: dict[str, ComponentConfig] = attrs.Factory(dict)
    sinks: dict[str, ComponentConfig] = attrs.Factory(dict)
    sinkgroups: dict[str, ComponentConfig] = attrs.Factory(dict)
    list_locations: dict[str, Location] = attrs.Factory(dict)
    problems: list[Problem] = attrs.Factory(list)
    properties: dict[str, str] = attrs.Factory(dict)

    def section(self, name: str) -> dict[str, ComponentConfig]:
        return dict(getattr(self, name))


def agent_names(entries: Iterable[Entry]) -> list[str]:
    """The agent names that appear as key prefixes, in first-seen order."""
    return list(dict.fromkeys(e.key.split(".", 1)[0] for e in entries if "." in e.key))


def file_problems(entries: Iterable[Entry], files: Iterable[object]) -> list[Problem]:
    """What Flume reports about keys outside any agent (``PROPERTY_VALUE_NULL``,
    ``AGENT_NAME_MISSING``) and a set of files that configures no agent at all."""
    entries = list(entries)
    agents = set(agent_names(entries))
    referenced = {m.group(1) for e in entries for m in _REFERENCE.finditer(e.value)}
    problems = []
    for entry in entries:
        if "." in entry.key and entry.key.split(".", 1)[0] in agents:
            continue  # the agent's own checks report it
        if not entry.value:
            problems.append(Problem(entry.key, "has an empty value (Flume: PROPERTY_VALUE_NULL)",
                                    location=entry.location))
        elif "." not in entry.key and entry.key not in referenced:
            problems.append(Problem(
                entry.key, "names no agent (Flume: AGENT_NAME_MISSING) and no ${...} uses it",
                location=entry.location, severity="warning",
                suggestion="write <agent>.<section>... keys, or reference it as ${" +
                entry.key + "}"))
    if not agents:
        where = ", ".join(map(str, files))
        problems.append(Problem("config", f"no agent is configured in {where} (keys look like "
                                "<agent>.sources = ...)"))
    return problems


def parse_agent(
    entries: Iterable[Entry],
    agent: str,
    *,
    system_properties: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> AgentConfig:
    """Build the configuration of ``agent`` from properties entries (later keys win)."""
    config = AgentConfig(agent)
    entries = list(entries)
    mine = _entries_of(entries, agent, config)
    everything = {e.key: e for e in entries if e.value}
    resolve = _Resolver(mine, everything, system_properties or {},
                        os.environ if environ is None else environ, config)
    flat = {key: resolve(key, entry.value, entry.location) for key, entry in mine.items()}
    plugin_manager().hook.flume_config_loaded(agent=agent, properties=flat)
    config.properties = flat
    for key, value in flat.items():
        _place(config, key, value, mine[key].location if key in mine else None)
    _check_listing(config)
    return config


def _entries_of(entries: list[Entry], agent: str, config: AgentConfig) -> dict[str, Entry]:
    prefix = agent + "."
    mine: dict[str, Entry] = {}
    for entry in entries:
        if not entry.key.startswith(prefix):
            continue
        rest = entry.key[len(prefix):]
        if rest in SECTIONS and rest in mine:
            config.problems.append(Problem(
                agent, f"{rest} is given more than once (earlier at {mine[rest].location}); "
                "the last one wins", rest, entry.location, severity="warning"))
        if not entry.value:
            config.problems.append(Problem(agent, "has an empty value", rest, entry.location))
            continue
        mine[rest] = entry
    return mine


class _Resolver:
    """Flume 1.10's substitution: ``${env:X}``, ``${sys:X}``, ``${f['key']}`` (config filters)
    and a bare ``${KEY}``: any key of the merged configuration (every ``-f`` file, with or
    without an agent prefix), then this agent's key ``KEY`` relative to its name, then the
    environment (Flume's legacy mode). References nest (``${${sys:env}_BIND}``). A reference
    that does not resolve is an error, as are ``${date:...}`` and ``${java:...}``.
    """

    def __init__(self, mine: dict[str, Entry], everything: dict[str, Entry],
                 system: Mapping[str, str], environ: Mapping[str, str],
                 config: AgentConfig) -> None:
        self._mine = mine
        self._everything = everything
        self._system = system
        self._environ = environ
        self._config = config
        self._reported: set[tuple[str, str]] = set()
        self._filters = self._build_filters()

    def _build_filters(self) -> dict[str, Callable[[str], str | None]]:
        filters: dict[str, Callable[[str], str | None]] = {}
        names = self._mine["configfilters"].value.split() if "configfilters" in self._mine else []
        for name in names:
            prefix = f"configfilters.{name}."
            props = {k[len(prefix):]: e.value for k, e in self._mine.items() if k.startswith(prefix)}
            kind = props.get("type", "")
            lookup = plugin_manager().hook.flume_config_filter(filter_type=kind, properties=props)
            if lookup is None:
                entry = self._mine.get(prefix + "type")
                self._config.problems.append(Problem(
                    f"{self._config.name}.configfilters.{name}",
                    f"unknown config filter type {kind!r} (known: env, external)", "type",
                    entry.location if entry else None))
                continue
            filters[name] = lookup
        return filters

    def __call__(self, key: str, value: str, location: Location) -> str:
        for _ in range(10):
            replaced = _REFERENCE.sub(lambda m: self._lookup(m.group(1), key, location), value)
            if replaced == value:
                break
            value = replaced
        return value

    def _lookup(self, token: str, key: str, location: Location) -> str:
        call = _FILTER_CALL.match(token)
        if call and call.group(1) in self._filters:
            found = self._filters[call.group(1)](call.group(3))
            why = f"config filter {call.group(1)!r} has no value for {call.group(3)!r}"
        elif token.startswith("env:"):
            found, why = self._environ.get(token[4:]), f"environment variable {token[4:]!r} is not set"
        elif token.startswith("sys:"):
            found, why = self._system.get(token[4:]), f"no -D{token[4:]}=... was given"
        elif token.startswith(("date:", "java:")):
            found, why = None, _UNSUPPORTED_LOOKUPS[token.split(":", 1)[0]]
        else:
            found = self._bare(token)
            why = (f"no key {token!r} in the configuration and no environment variable "
                   f"{token!r}")
        if found is None:
            self._report(token, key, location, why)
            return "${" + token + "}"
        return found

    def _bare(self, token: str) -> str | None:
        entry = self._everything.get(token) or self._mine.get(
            token.removeprefix(self._config.name + "."))
        return entry.value if entry else self._environ.get(token)

    def _report(self, token: str, key: str, location: Location, why: str) -> None:
        if (key, token) in self._reported:
            return
        self._reported.add((key, token))
        close = difflib.get_close_matches(token, list(self._everything), n=1)
        hint = f"did you mean ${{{close[0]}}}?" if close and ":" not in token else None
        self._config.problems.append(Problem(
            self._config.name, f"${{{token}}} cannot be resolved: {why}", key, location, hint))


_UNSUPPORTED_LOOKUPS = {
    "date": "${date:...} is not supported: Flume computes it once when the file is read, which "
            "is rarely what is wanted; use a sink's time escapes (%Y-%m-%d), evaluated per event",
    "java": "${java:...} names a property of the Java runtime, which this agent does not have",
}


def _place(config: AgentConfig, key: str, value: str, location: Location | None) -> None:
    section, _, tail = key.partition(".")
    if section not in SECTIONS:
        close = difflib.get_close_matches(section, SECTIONS, n=1)
        hint = f"did you mean {config.name}.{close[0]}?" if close else \
            f"keys go under {', '.join(SECTIONS)}"
        config.problems.append(Problem(config.name, "is not a known section", key, location, hint))
        return
    if section == "configfilters":
        return
    if not tail:
        if location:
            config.list_locations[section] = location
        return
    name, _, prop = tail.partition(".")
    path = f"{config.name}.{section}.{name}"
    if not prop:
        config.problems.append(Problem(path, "has no property name after the component name",
                                       location=location))
        return
    component = getattr(config, section).setdefault(name, ComponentConfig(section, name, path))
    component.properties[prop] = value
    if location:
        component.locations[prop] = location


def _check_listing(config: AgentConfig) -> None:
    for section in ("sources", "channels", "sinks", "sinkgroups"):
        listed = config.properties.get(section, "").split()
        configured = getattr(config, section)
        where = config.list_locations.get(section)
        for name in listed:
            if name not in configured:
                config.problems.append(Problem(
                    f"{config.name}.{section}.{name}", f"is listed in {config.name}.{section} "
                    "but has no properties", "type", where,
                    f"add {config.name}.{section}.{name}.type = ..."))
        for name, component in list(configured.items()):
            if name not in listed:
                close = difflib.get_close_matches(name, listed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else \
                    f"add it to {config.name}.{section}"
                config.problems.append(Problem(
                    component.path, f"is configured but not listed in {config.name}.{section}",
                    location=component.location, suggestion=hint))
                del configured[name]
