"""Read Java properties files keeping each key's file and line, for error messages."""

from __future__ import annotations

import io
from pathlib import Path

import attrs
import javaproperties

from flume_sdk._errors import ConfigurationError, Location, Problem

__all__ = ["Entry", "parse_properties", "read_properties"]


@attrs.frozen
class Entry:
    """One ``key = value`` line (after continuations and escapes), with where it was."""

    key: str
    value: str
    location: Location


def parse_properties(text: str, file: str = "<string>") -> list[Entry]:
    """Parse properties text (Java's grammar: ``=``/``:``, continuations, escapes, ``#``/``!``)."""
    entries: list[Entry] = []
    line = 1
    try:
        for element in javaproperties.parse(io.StringIO(text)):
            if isinstance(element, javaproperties.KeyValue):
                entries.append(Entry(element.key.strip(), element.value.strip(),
                                     Location(file, line)))
            line += element.source.count("\n")
    except (ValueError, UnicodeError) as exc:
        problem = Problem("config", f"cannot parse properties: {exc}", location=Location(file, line))
        raise ConfigurationError([problem]) from exc
    return entries


def read_properties(path: str | Path) -> list[Entry]:
    """Read a properties file as UTF-8 (Flume 1.10+ reads UTF-8 too)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = Problem("config", f"cannot read configuration file: {exc.strerror}",
                          location=Location(str(path), 0))
        raise ConfigurationError([problem]) from exc
    except UnicodeDecodeError as exc:
        problem = Problem("config", f"not UTF-8 text: {exc}", location=Location(str(path), 0))
        raise ConfigurationError([problem]) from exc
    return parse_properties(text, str(path))
