"""``flume-ng new-plugin sink NAME``: write a working plugin distribution with its contract test.

The files come from ``flume_sdk/plugin_template/<kind>/`` (``*.tmpl`` files are
``string.Template`` texts; a directory called ``PACKAGE`` becomes the import
package). The result installs with ``pip install -e '.[test]'`` and passes its
contract suite before the author changes a line.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import attrs

from flume_sdk._errors import ConfigurationError

__all__ = ["KINDS", "PluginNames", "new_plugin"]

KINDS = ("sink",)
"""Kinds the generator can write (one template directory each)."""

_TEMPLATES = Path(__file__).with_name("plugin_template")
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


@attrs.frozen
class PluginNames:
    """Every name derived from the plugin's ``type`` alias.

    Attributes:
        name: the entry-point name, the ``type`` users write (``mything``).
        distribution: ``flume-sink-mything``.
        package: ``flume_sink_mything``.
        cls: the component class, ``MythingSink``.
    """

    name: str
    distribution: str
    package: str
    cls: str

    @classmethod
    def of(cls, kind: str, name: str) -> PluginNames:
        """Derive the names, or raise ``ConfigurationError`` for an unusable ``name``."""
        if not _NAME.match(name):
            msg = (f"new-plugin: {name!r} cannot be a plugin name; use lower-case letters, "
                   "digits and _, starting with a letter (it becomes the `type` in flume.conf "
                   "and part of the package name), e.g. 'mything'")
            raise ConfigurationError(msg)
        camel = "".join(part.capitalize() for part in name.split("_"))
        return cls(name=name, distribution=f"flume-{kind}-{name.replace('_', '-')}",
                   package=f"flume_{kind}_{name}", cls=f"{camel}{kind.capitalize()}")


def new_plugin(kind: str, name: str, parent: Path) -> Path:
    """Write the distribution ``parent/flume-<kind>-<name>/`` and return its directory.

    Raises:
        ConfigurationError: an unknown kind, a bad name, or the directory already exists.
    """
    if kind not in KINDS:
        msg = (f"new-plugin: kind {kind!r} has no template yet; available: {', '.join(KINDS)} "
               "(for other kinds, start from the sink and the contract suite of your kind in "
               "flume-testkit)")
        raise ConfigurationError(msg)
    names = PluginNames.of(kind, name)
    target = parent / names.distribution
    if target.exists():
        msg = f"new-plugin: {target} already exists; choose another name or directory"
        raise ConfigurationError(msg)
    values = attrs.asdict(names)
    source = _TEMPLATES / kind
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source).as_posix().replace("PACKAGE", names.package)
        text = path.read_text(encoding="utf-8")
        if relative.endswith(".tmpl"):
            relative = relative.removesuffix(".tmpl")
            text = string.Template(text).substitute(values)
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return target
