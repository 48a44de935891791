"""Reading a running agent's monitoring documents, for tools (``graph --live``, ``top``).

Works with Flume's own agents too: Flume and ``-Dflume.monitoring.type=http``
agents serve the JSON at ``/metrics``; a ``prometheus``-type agent serves it at
``/metrics/json``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

__all__ = ["MetricsDocument", "fetch_health", "fetch_metrics"]

MetricsDocument = dict[str, dict[str, str]]


def _base(url: str) -> str:
    return url.rstrip("/").removesuffix("/metrics")


def fetch_metrics(url: str, timeout: float = 5.0) -> MetricsDocument:
    """Flume's ``/metrics`` JSON from a monitoring URL (the base URL or its ``/metrics``).

    Raises:
        OSError: the agent cannot be reached (``urllib.error.URLError`` is one).
        ValueError: it answers, but with no Flume JSON document.
    """
    base = _base(url)
    for path in ("/metrics", "/metrics/json"):
        with urllib.request.urlopen(base + path, timeout=timeout) as response:
            body = response.read()
            if "json" in response.headers.get("Content-Type", ""):
                document: MetricsDocument = json.loads(body)
                return document
    msg = f"{url} serves no Flume /metrics JSON"
    raise ValueError(msg)


def fetch_health(url: str, timeout: float = 5.0) -> dict[str, Any] | None:
    """The agent's ``/health`` document, or ``None`` where it has none (Flume's own agents).

    A failing agent answers 503 with the same document; that is returned too.
    """
    try:
        with urllib.request.urlopen(_base(url) + "/health", timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        if err.code != 503:
            return None
        body = err.read()
    try:
        document: dict[str, Any] = json.loads(body)
    except ValueError:
        return None
    return document
