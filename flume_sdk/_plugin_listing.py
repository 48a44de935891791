"""``flume-ng plugins``: one row per installed component, its Flume class names as aliases.

A component registered under several names (``seq`` and
``org.apache.flume.source.SequenceGeneratorSource``) is one class: it is listed
once, under its short name, with the other names as aliases. ``--check`` imports
each and documents its settings (key, default, aliases, required) in text as in
JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import attrs

from flume_sdk._errors import PluginError
from flume_sdk._plugins import PluginInfo, PluginRegistry, check_all, default_registry
from flume_sdk._settings import SettingDoc, describe_settings

__all__ = ["Listed", "list_plugins", "plugins_command"]


@attrs.frozen
class Listed:
    """One component class: its main type name, its other names, and whether it loads."""

    info: PluginInfo
    aliases: tuple[str, ...]
    error: PluginError | None = None
    settings: tuple[SettingDoc, ...] = ()


def _main_name(infos: list[PluginInfo]) -> PluginInfo:
    return min(infos, key=lambda i: ("." in i.type_name, len(i.type_name), i.type_name))


def list_plugins(registry: PluginRegistry | None = None, *, check: bool = False) -> list[Listed]:
    """Every registered class once, in kind then name order."""
    registry = registry or default_registry()
    rows = check_all(registry) if check else [(i, None) for i in registry.available()]
    groups: dict[tuple[str, str, str], list[tuple[PluginInfo, PluginError | None]]] = {}
    for info, err in rows:
        groups.setdefault((info.kind.label, info.value, info.distribution), []).append((info, err))
    out = []
    for members in groups.values():
        main = _main_name([i for i, _ in members])
        error = next((e for _, e in members if e is not None), None)
        aliases = tuple(sorted(i.type_name for i, _ in members if i is not main))
        docs = tuple(_settings(registry, main)) if check and error is None else ()
        out.append(Listed(main, aliases, error, docs))
    order = {kind: n for n, kind in enumerate(dict.fromkeys(i.kind for i, _ in rows))}
    return sorted(out, key=lambda r: (order[r.info.kind], r.info.type_name))


def _settings(registry: PluginRegistry, info: PluginInfo) -> Iterable[SettingDoc]:
    settings = getattr(registry.load(info.kind, info.type_name), "Settings", None)
    return describe_settings(settings) if settings is not None else []


def _doc(doc: SettingDoc) -> dict[str, object]:
    return {k: getattr(doc, k) for k in ("key", "type", "default", "required", "help", "aliases",
                                         "deprecated")}


def _json(rows: list[Listed], check: bool) -> str:
    out = []
    for r in rows:
        row: dict[str, object] = {"kind": r.info.kind.label, "type": r.info.type_name,
                                  "aliases": list(r.aliases), "class": r.info.value,
                                  "distribution": r.info.distribution, "version": r.info.version}
        if check:
            row["status"] = "ok" if r.error is None else str(r.error)
            if r.error is None:
                row["settings"] = [_doc(d) for d in r.settings]
        out.append(row)
    return json.dumps(out, indent=2)


def _text(rows: list[Listed], check: bool) -> str:
    lines = []
    for r in rows:
        status = "" if not check else ("  ok" if r.error is None else f"  FAILED: {r.error}")
        lines.append(f"{r.info.kind.label:16} {r.info.type_name:22} {r.info.origin}{status}")
        if r.aliases:
            lines.append(f"{'':16}   also: {', '.join(r.aliases)}")
        for doc in r.settings:
            default = "required" if doc.required else f"default {doc.default or '(empty)'}"
            also = f"; also {', '.join(doc.aliases)}" if doc.aliases else ""
            also += f"; deprecated: {', '.join(doc.deprecated)}" if doc.deprecated else ""
            text = f" - {doc.help}" if doc.help else ""
            lines.append(f"{'':16}   {doc.key} ({doc.type}, {default}{also}){text}")
    return "\n".join(lines)


def plugins_command(check: bool, as_json: bool) -> int:
    """Print the listing; exit status 1 if ``check`` found a plugin that does not load."""
    rows = list_plugins(check=check)
    print(_json(rows, check) if as_json else _text(rows, check))
    return 1 if any(r.error for r in rows) else 0
