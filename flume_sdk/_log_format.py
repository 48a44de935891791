"""How ``flume-ng agent`` writes its log: a level, text or JSON lines, tracebacks only at DEBUG.

``--log-level`` sets the level (``-Dflume.root.logger=LEVEL,console`` as in Flume is
read when it is absent). ``--log-format text`` writes
``2026-12-07 01:37:10,122 ERROR [thread] logger: message``; ``--log-format json``
writes one JSON object per line with ``time`` (UTC, ISO 8601), ``level``,
``logger``, ``thread`` and ``message``. A record that carries an exception gets
its cause on the same line (``error`` in JSON); the traceback is written only
when the level is DEBUG, so a failing component costs one line, not thirty.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

from flume_sdk._failure_log import describe_error

__all__ = [
    "LOG_FORMATS", "LOG_LEVELS", "JsonFormatter", "TextFormatter", "configure_logging", "level_from",
]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
_TEXT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"


def _cause(record: logging.LogRecord) -> str | None:
    error = record.exc_info[1] if record.exc_info else None
    return describe_error(error) if error is not None else None


class TextFormatter(logging.Formatter):
    """Flume-like text lines; an exception's traceback only when ``tracebacks`` is true."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__(_TEXT)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks or not record.exc_info:
            return super().format(record)
        cause = _cause(record)
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text = saved
        return f"{line} ({cause})" if cause and cause not in line else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC)
        doc: dict[str, Any] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname, "logger": record.name, "thread": record.threadName,
            "message": record.getMessage(),
        }
        cause = _cause(record)
        if cause:
            doc["error"] = cause
            if self.tracebacks:
                doc["traceback"] = self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(doc, ensure_ascii=False)


def level_from(option: str | None, defines: dict[str, str]) -> int:
    """``--log-level``, else Flume's ``-Dflume.root.logger=LEVEL,appender``, else INFO."""
    name = (option or defines.get("flume.root.logger", "INFO,console").split(",")[0]).upper()
    name = {"WARN": "WARNING", "FATAL": "ERROR", "TRACE": "DEBUG"}.get(name, name)
    return int(getattr(logging, name, logging.INFO)) if name in LOG_LEVELS else logging.INFO


def configure_logging(level: int, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Send every log record at ``level`` or above to ``stream`` (stderr) in ``fmt``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    tracebacks = level <= logging.DEBUG
    handler.setFormatter(JsonFormatter(tracebacks) if fmt == "json" else TextFormatter(tracebacks))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
