"""``%{header}`` substitution in the Kafka sink's topic.

Only Flume's ``%{name}`` escape is meaningful in a Kafka topic; a missing header
gives an empty string, as in Flume's ``BucketPath.escapeString``. This small
local copy exists until the kernel offers the shared escape function.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["has_header_escapes", "substitute_headers"]

_HEADER_ESCAPE = re.compile(r"%\{([\w.-]+)\}")


def has_header_escapes(template: str) -> bool:
    """Whether ``template`` contains at least one ``%{name}``."""
    return _HEADER_ESCAPE.search(template) is not None


def substitute_headers(template: str, headers: Mapping[str, str]) -> str:
    """Replace every ``%{name}`` in ``template`` by ``headers[name]`` (empty when missing)."""
    return _HEADER_ESCAPE.sub(lambda match: headers.get(match.group(1), ""), template)
