"""Settings declared once, as attrs fields carrying Flume's key names.

A component declares its settings as an attrs class whose fields are made with
:func:`setting` (one key) or :func:`namespace` (every key under a prefix).
:func:`parse_settings` turns Flume's string properties into that class and
reports every problem at once: unknown keys with a close match, values that
do not convert, values a validator rejects, missing required keys.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

from flume_sdk._errors import ConfigurationError, Location, Problem

__all__ = [
    "SettingDoc",
    "at_least",
    "describe_settings",
    "in_range",
    "is_secret_key",
    "namespace",
    "one_of",
    "parse_settings",
    "parse_settings_and_warnings",
    "redact",
    "setting",
    "settings_preflight",
    "settings_warnings",
    "to_bool",
]

T = TypeVar("T")
_SPEC = "flume_sdk.setting"
_NAMESPACE = "flume_sdk.namespace"
Converter = Callable[[str], Any]
Validator = Callable[[Any, Any, Any], None]


@attrs.frozen
class _SettingSpec:
    key: str | None
    converter: Converter | None
    help: str
    aliases: tuple[str, ...]
    preflight: Callable[[Any], str | None] | None = None
    deprecated: tuple[str, ...] = ()


@attrs.frozen
class SettingDoc:
    """One documented key of a component, for ``flume-ng plugins --check``."""

    key: str
    type: str
    default: str
    required: bool
    help: str
    aliases: tuple[str, ...] = ()
    deprecated: tuple[str, ...] = ()


def setting(
    key: str | None = None,
    *,
    default: Any = attrs.NOTHING,
    required: bool = False,
    converter: Converter | None = None,
    validator: Validator | None = None,
    aliases: tuple[str, ...] = (),
    help: str = "",
    preflight: Callable[[Any], str | None] | None = None,
    deprecated: tuple[str, ...] = (),
) -> Any:
    """Declare one setting.

    Args:
        key: Flume's exact key; defaults to the attribute name in camelCase.
        default: the default value (already converted); omit with ``required=True``.
        required: the key must be present.
        converter: turns the string value into the field's type; derived from the
            annotation when omitted.
        validator: an attrs-style validator run on the converted value.
        aliases: other accepted spellings of the key.
        help: one line for the documentation.
        preflight: checks the value against this machine before the agent starts (and in
            ``flume-ng validate``); returns what is wrong or ``None``. See
            :func:`flume_sdk.writable_dir` and the other checks of ``flume_sdk._preflight``.
        deprecated: old spellings still read, each with a configuration warning naming the
            new key (``flume-ng validate`` prints it, the agent logs it); when the new key
            is set too, it wins and the old one is only reported.
    """
    if default is attrs.NOTHING and not required:
        msg = f"setting {key!r} needs a default or required=True"
        raise TypeError(msg)
    spec = _SettingSpec(key, converter, help, aliases, preflight, deprecated)
    field_default = attrs.NOTHING if required else default
    if isinstance(field_default, (list, dict, set)):
        value = field_default
        field_default = attrs.Factory(lambda: type(value)(value))
    return attrs.field(default=field_default, validator=validator, metadata={_SPEC: spec})


def namespace(prefix: str, *, help: str = "") -> Any:
    """Declare a field that collects every key under ``prefix`` (prefix stripped) as strings."""
    return attrs.field(factory=dict, metadata={_NAMESPACE: (prefix, help)})


# -- converters ---------------------------------------------------------------------------


def to_bool(text: str) -> bool:
    """Flume's booleans, strictly: ``true``/``false`` in any case; anything else is an error."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    msg = f"must be true or false (got {text!r})"
    raise ValueError(msg)


def _to_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        msg = f"must be an integer (got {text!r})"
        raise ValueError(msg) from None


def _to_float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        msg = f"must be a number (got {text!r})"
        raise ValueError(msg) from None


def _to_words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _to_path(text: str) -> Path:
    return Path(text.strip()).expanduser()


_CONVERTERS: dict[Any, Converter] = {
    int: _to_int,
    float: _to_float,
    bool: to_bool,
    str: str,
    Path: _to_path,
}


def _converter_for(annotation: Any) -> Converter:
    if annotation in _CONVERTERS:
        return _CONVERTERS[annotation]
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _converter_for(args[0])
    if origin is tuple:
        return _to_words
    return str


# -- validators -----------------------------------------------------------------------------


@attrs.frozen(repr=False)
class _AtLeast:
    bound: float

    def __call__(self, _inst: Any, attr: Any, value: Any) -> None:
        if value < self.bound:
            msg = f"must be at least {self.bound} (got {value!r})"
            raise ValueError(msg)

    def __repr__(self) -> str:
        return f"at_least({self.bound})"


@attrs.frozen(repr=False)
class _InRange:
    low: float
    high: float

    def __call__(self, _inst: Any, attr: Any, value: Any) -> None:
        if not self.low <= value <= self.high:
            msg = f"must be between {self.low} and {self.high} (got {value!r})"
            raise ValueError(msg)

    def __repr__(self) -> str:
        return f"in_range({self.low}, {self.high})"


@attrs.frozen(repr=False)
class _OneOf:
    choices: tuple[str, ...]
    case_sensitive: bool

    def __call__(self, _inst: Any, attr: Any, value: Any) -> None:
        fold = (lambda s: s) if self.case_sensitive else str.lower
        if fold(str(value)) not in {fold(c) for c in self.choices}:
            close = difflib.get_close_matches(str(value), self.choices, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            msg = f"must be one of {', '.join(self.choices)} (got {value!r}){hint}"
            raise ValueError(msg)

    def __repr__(self) -> str:
        return f"one_of({', '.join(map(repr, self.choices))})"


def at_least(bound: float) -> Validator:
    """Validator: the value is ``>= bound``."""
    return _AtLeast(bound)


def in_range(low: float, high: float) -> Validator:
    """Validator: ``low <= value <= high``."""
    return _InRange(low, high)


def one_of(*choices: str, case_sensitive: bool = False) -> Validator:
    """Validator: the value is one of ``choices`` (case-insensitive unless asked)."""
    return _OneOf(tuple(choices), case_sensitive)


# -- parsing ----------------------------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _key_of(field: attrs.Attribute) -> str:  # type: ignore[type-arg]
    spec: _SettingSpec = field.metadata[_SPEC]
    return spec.key or _camel(field.name)


def _resolved_fields(cls: type) -> tuple[attrs.Attribute, ...]:  # type: ignore[type-arg]
    attrs.resolve_types(cls)
    fields: tuple[attrs.Attribute, ...] = attrs.fields(cls)  # type: ignore[type-arg]
    return fields


_SECRET = re.compile(r"pass(word|phrase|wd)?|secret|token|jaas|credential|private.?key|"
                     r"sasl\.|auth", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    """Whether ``key`` may hold a secret (a password, a JAAS config, a token): its value is
    never echoed in errors, ``/health`` or logs."""
    return bool(_SECRET.search(key))


def redact(message: str, key: str | None, value: object) -> str:
    """``message`` without ``value`` when ``key`` may hold a secret."""
    if key is None or not isinstance(value, str) or not value.strip() or not is_secret_key(key):
        return message
    return message.replace(repr(value), "(value hidden)").replace(value, "(value hidden)")


@attrs.define
class _Parse:
    component: str
    locations: Mapping[str, Location]
    properties: Mapping[str, Any] = attrs.Factory(dict)
    problems: list[Problem] = attrs.Factory(list)
    warnings: list[Problem] = attrs.Factory(list)

    def warn(self, message: str, key: str) -> None:
        self.warnings.append(Problem(self.component, message, key, self.locations.get(key),
                                     severity="warning"))

    def problem(self, message: str, key: str | None = None, suggestion: str | None = None) -> None:
        location = self.locations.get(key) if key else None
        if location is None and self.locations:
            location = min(self.locations.values(), key=lambda where: where.line)
        message = redact(message, key, self.properties.get(key) if key else None)
        self.problems.append(Problem(self.component, message, key, location, suggestion))


def parse_settings_and_warnings(
    cls: type[T],
    properties: Mapping[str, Any],
    *,
    component: str = "component",
    locations: Mapping[str, Location] | None = None,
    ignore: Iterable[str] = (),
) -> tuple[T, list[Problem]]:
    """Build the settings object ``cls`` and collect its configuration warnings.

    The warnings are those of deprecated keys (``setting(deprecated=...)``) and of the
    settings' own ``warnings()`` (see :func:`settings_warnings`). Arguments and errors
    are :func:`parse_settings`'s.
    """
    run = _Parse(component, locations or {}, properties)
    settings = _parse(run, cls, properties, ignore)
    return settings, [*run.warnings, *settings_warnings(settings, component=component,
                                                        locations=locations)]


def parse_settings(
    cls: type[T],
    properties: Mapping[str, Any],
    *,
    component: str = "component",
    locations: Mapping[str, Location] | None = None,
    ignore: Iterable[str] = (),
) -> T:
    """Build the settings object ``cls`` from Flume-style properties.

    Args:
        cls: an attrs class whose fields were declared with ``setting``/``namespace``.
        properties: key to value (strings, or already-typed values from Python callers).
        component: the component's config path for messages (``a1.sinks.k1``).
        locations: where each key was written, for ``file:line`` in messages.
        ignore: keys handled by the framework (``type``, ``channels``...).

    Raises:
        ConfigurationError: with every problem found.
    """
    return _parse(_Parse(component, locations or {}, properties), cls, properties, ignore)


def _parse(run: _Parse, cls: type[T], properties: Mapping[str, Any],
           ignore: Iterable[str]) -> T:
    known: dict[str, str] = {}
    values: dict[str, Any] = {}
    consumed = set(ignore)
    for field in _resolved_fields(cls):
        if _NAMESPACE in field.metadata:
            prefix = field.metadata[_NAMESPACE][0]
            sub = {k[len(prefix):]: str(v) for k, v in properties.items() if k.startswith(prefix)}
            consumed.update(prefix + k for k in sub)
            values[field.name] = sub
            known[prefix + "*"] = field.name
            continue
        if _SPEC not in field.metadata:
            continue
        _parse_field(run, field, properties, values, consumed, known)
    _report_unknown(run, properties, consumed, known)
    return _construct(run, cls, values)


def settings_warnings(
    settings: object, *, component: str, locations: Mapping[str, Location] | None = None
) -> list[Problem]:
    """What a valid settings object warns about, from its optional ``warnings()`` method.

    ``warnings()`` yields ``(key, message)`` pairs, like ``problems()``: keys that are
    accepted but have no effect here, deprecated spellings, values that are unwise.
    ``flume-ng validate`` prints them and the agent logs them, with ``file:line``.
    """
    check = getattr(settings, "warnings", None)
    if not callable(check):
        return []
    where = locations or {}
    return [Problem(component, message, key, where.get(key) if key else None, severity="warning")
            for key, message in check()]


def settings_preflight(settings: object) -> list[tuple[str | None, str]]:
    """What stops ``settings`` from working on this machine, as ``(key, message)`` pairs.

    Runs each field's ``preflight`` check on its value (``None`` and empty values are
    skipped), then the settings' own ``preflight()`` method if it has one (checks that
    need several fields, such as binding ``bind`` and ``port``).
    """
    found: list[tuple[str | None, str]] = []
    if attrs.has(type(settings)):
        for field in attrs.fields(type(settings)):  # type: ignore[arg-type]
            spec = field.metadata.get(_SPEC)
            value = getattr(settings, field.name, None)
            if spec is None or spec.preflight is None or value is None or value == "":
                continue
            message = spec.preflight(value)
            if message:
                found.append((_key_of(field), message))
    check = getattr(settings, "preflight", None)
    if callable(check):
        found.extend(check())
    return found


def _parse_field(
    run: _Parse,
    field: attrs.Attribute,  # type: ignore[type-arg]
    properties: Mapping[str, Any],
    values: dict[str, Any],
    consumed: set[str],
    known: dict[str, str],
) -> None:
    spec: _SettingSpec = field.metadata[_SPEC]
    key = _key_of(field)
    names = (key, *spec.aliases, *spec.deprecated)
    known.update(dict.fromkeys(names, field.name))
    present = [n for n in names if n in properties]
    consumed.update(present)
    for old in (n for n in present if n in spec.deprecated):
        run.warn(f"deprecated key ignored because {present[0]} is set too; remove it"
                 if old != present[0] else f"deprecated key read as {key}; rename it", old)
    if not present:
        if field.default is attrs.NOTHING:
            run.problem("is required but missing", key, f"add {run.component}.{key} = ...")
        return
    raw = properties[present[0]]
    try:
        value = raw if not isinstance(raw, str) else (spec.converter or _converter_for(field.type))(raw)
        if field.validator is not None:
            field.validator(None, field, value)
    except (ValueError, TypeError) as exc:
        run.problem(str(exc), present[0])
        return
    values[field.name] = value


def _report_unknown(
    run: _Parse, properties: Mapping[str, Any], consumed: set[str], known: dict[str, str]
) -> None:
    candidates = [k for k in known if not k.endswith("*")]
    for key in properties:
        if key in consumed:
            continue
        lowered = {c.lower(): c for c in candidates}
        close = [lowered[key.lower()]] if key.lower() in lowered else difflib.get_close_matches(
            key, candidates, n=1, cutoff=0.6
        )
        hint = f"did you mean {close[0]!r}?" if close else None
        run.problem("unknown key", key, hint)


def _construct(run: _Parse, cls: type[T], values: dict[str, Any]) -> T:
    if not run.problems:
        try:
            obj = cls(**values)
        except (ValueError, TypeError) as exc:
            run.problem(str(exc))
        else:
            check = getattr(obj, "problems", None)
            for key, message in check() if callable(check) else ():
                run.problem(message, key)
            if not run.problems:
                return obj
    raise ConfigurationError(run.problems)


def describe_settings(cls: type) -> list[SettingDoc]:
    """Document every key of a settings class (key, type, default, required, help, aliases)."""
    docs = []
    for field in _resolved_fields(cls):
        if _NAMESPACE in field.metadata:
            prefix, text = field.metadata[_NAMESPACE]
            docs.append(SettingDoc(prefix + "*", "namespace", "", False, text))
        elif _SPEC in field.metadata:
            default = field.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = default.factory()  # type: ignore[union-attr]
            required = default is attrs.NOTHING
            shown = "" if required else repr(default)
            type_name = getattr(field.type, "__name__", str(field.type))
            spec = field.metadata[_SPEC]
            docs.append(SettingDoc(_key_of(field), type_name, shown, required, spec.help,
                                   spec.aliases, spec.deprecated))
    return docs
