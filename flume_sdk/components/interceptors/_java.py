"""Java's regex, replacement-string and Joda date-pattern syntax, translated to Python.

Flume configurations are written for ``java.util.regex`` and Joda-Time; these helpers
accept that syntax so existing configurations keep their meaning. What Python's ``re``
cannot express (``\\p{Alpha}``, ``\\h``...) is reported as a configuration error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

__all__ = ["JodaParser", "compile_java_regex", "java_replacement", "regex_setting_converter"]

_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")


def _translate(pattern: str) -> str:
    """Rewrite Java-only constructs: ``(?<name>``, ``\\k<name>`` and ``\\Q...\\E``."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end
                out.append(re.escape(pattern[i + 2:end]))
                i = end + 2
                continue
            if nxt == "k" and i + 2 < n and pattern[i + 2] == "<":
                close = pattern.find(">", i + 3)
                if close > 0:
                    out.append(f"(?P={pattern[i + 3:close]})")
                    i = close + 1
                    continue
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if _NAMED_GROUP.match(pattern, i):
            out.append("(?P<")
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)


def compile_java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Java regular expression.

    Raises:
        ValueError: the pattern is not valid (or uses Java syntax Python lacks).
    """
    try:
        return re.compile(_translate(pattern))
    except re.error as exc:
        msg = f"is not a valid regular expression: {exc} (got {pattern!r})"
        raise ValueError(msg) from None


def regex_setting_converter(text: str) -> re.Pattern[str]:
    """A ``setting`` converter: the value compiled as a Java regex."""
    return compile_java_regex(text)


Part = tuple[bool, str | int]  # (is_group, literal text or group number/name)


def _group_number(template: str, i: int, groups: int) -> tuple[int, int]:
    """Java reads the first digit, then more digits while the number stays a valid group."""
    number = int(template[i])
    i += 1
    while i < len(template) and template[i].isdigit():
        longer = number * 10 + int(template[i])
        if longer > groups:
            break
        number, i = longer, i + 1
    if number > groups:
        msg = f"refers to group {number} but the pattern has {groups} group(s) (got {template!r})"
        raise ValueError(msg)
    return number, i


def _parse_dollar(template: str, i: int, pattern: re.Pattern[str]) -> tuple[Part, int]:
    if i >= len(template):
        msg = f"ends with a lone '$'; write '\\$' for a literal dollar (got {template!r})"
        raise ValueError(msg)
    if template[i] == "{":
        close = template.find("}", i)
        name = template[i + 1:close] if close > 0 else ""
        if not name or name not in pattern.groupindex:
            msg = f"names a group the pattern does not have: ${{{name}}} (got {template!r})"
            raise ValueError(msg)
        return (True, name), close + 1
    if not template[i].isdigit():
        msg = f"has '$' not followed by a group number or {{name}} (got {template!r})"
        raise ValueError(msg)
    number, i = _group_number(template, i, pattern.groups)
    return (True, number), i


def _parse_template(template: str, pattern: re.Pattern[str]) -> list[Part]:
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char == "\\":
            if i + 1 >= len(template):
                msg = f"ends with a lone '\\'; write '\\\\' for a backslash (got {template!r})"
                raise ValueError(msg)
            literal.append(template[i + 1])
            i += 2
        elif char == "$":
            part, i = _parse_dollar(template, i + 1, pattern)
            parts.append((False, "".join(literal)))
            literal = []
            parts.append(part)
        else:
            literal.append(char)
            i += 1
    parts.append((False, "".join(literal)))
    return [p for p in parts if p[0] or p[1]]


def java_replacement(template: str, pattern: re.Pattern[str]) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement function with Java's ``replaceAll`` semantics.

    ``$n`` and ``${name}`` insert groups (nothing for a group that did not take part),
    ``\\x`` inserts ``x`` literally.

    Raises:
        ValueError: the template is malformed or names a group ``pattern`` lacks.
    """
    parts = _parse_template(template, pattern)
    if all(not is_group for is_group, _ in parts):
        text = "".join(str(value) for _, value in parts)
        return lambda _match: text

    def expand(match: re.Match[str]) -> str:
        return "".join((match.group(value) or "") if is_group else str(value)
                       for is_group, value in parts)

    return expand


# -- Joda-Time patterns -------------------------------------------------------------------

_JODA_FIELDS: dict[str, Callable[[int], str]] = {
    "y": lambda n: "%y" if n == 2 else "%Y",
    "Y": lambda n: "%y" if n == 2 else "%Y",
    "M": lambda n: "%B" if n >= 4 else "%b" if n == 3 else "%m",
    "d": lambda n: "%d",
    "H": lambda n: "%H",
    "k": lambda n: "%H",
    "h": lambda n: "%I",
    "K": lambda n: "%I",
    "m": lambda n: "%M",
    "s": lambda n: "%S",
    "S": lambda n: "%f",
    "a": lambda n: "%p",
    "Z": lambda n: "%z",
    "E": lambda n: "%A" if n >= 4 else "%a",
    "D": lambda n: "%j",
}


def _joda_to_strptime(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "'":
            close = pattern.find("'", i + 1)
            close = n if close < 0 else close
            out.append(pattern[i + 1:close].replace("%", "%%") if close > i + 1 else "'")
            i = close + 1
        elif char.isalpha():
            rest = pattern[i:]
            run = len(rest) - len(rest.lstrip(char))
            if char not in _JODA_FIELDS:
                msg = f"uses pattern letter {char!r}, which is not supported (got {pattern!r})"
                raise ValueError(msg)
            out.append(_JODA_FIELDS[char](run))
            i += run
        else:
            out.append("%%" if char == "%" else char)
            i += 1
    return "".join(out)


class JodaParser:
    """Parse text with a Joda-Time pattern (``yyyy-MM-dd HH:mm``) to epoch milliseconds.

    Without a zone in the pattern the text is local time, as with Joda's default zone;
    without a year the year is 1970.

    Args:
        pattern: the Joda pattern.

    Raises:
        ValueError: the pattern uses letters this parser does not support.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._format = _joda_to_strptime(pattern)
        self._has_year = "%Y" in self._format or "%y" in self._format

    def millis(self, text: str) -> int:
        """Epoch milliseconds of ``text``.

        Raises:
            ValueError: ``text`` does not match the pattern.
        """
        parsed = datetime.strptime(text, self._format)
        if not self._has_year:
            parsed = parsed.replace(year=1970)
        return round(parsed.timestamp() * 1000)
