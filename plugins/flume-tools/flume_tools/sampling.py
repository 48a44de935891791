"""What ``flume-ng top`` shows, computed from two reads of each agent's ``/metrics`` and ``/health``.

Kept apart from the terminal code so the numbers are tested on their own:
rates are counter differences divided by the seconds between the two reads.
"""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flume_sdk import MetricsDocument, fetch_health, fetch_metrics

__all__ = ["AgentSample", "ComponentRow", "rows_between", "sample"]

# Per kind: the counter whose rate is "in", the one whose rate is "out", the error counters.
_IN = {"SOURCE": "EventReceivedCount", "CHANNEL": "EventPutSuccessCount", "SINK": "EventDrainAttemptCount"}
_OUT = {"SOURCE": "EventAcceptedCount", "CHANNEL": "EventTakeSuccessCount",
        "SINK": "EventDrainSuccessCount"}
_ERRORS = {"SOURCE": ("EventReadFail", "ChannelWriteFail", "GenericProcessingFail"),
           "CHANNEL": (),
           "SINK": ("EventWriteFail", "ChannelReadFail", "ConnectionFailedCount")}


@dataclass
class AgentSample:
    """One read of one agent: its documents (``None`` where unreachable) and when it was taken."""

    url: str
    at: float
    metrics: MetricsDocument | None = None
    health: Mapping[str, Any] | None = None
    error: str = ""


@dataclass
class ComponentRow:
    """One line of the view."""

    agent: str
    key: str
    kind: str
    name: str
    rate_in: float = 0.0
    rate_out: float = 0.0
    total: int = 0
    fill: float | None = None
    size: str = ""
    errors: int = 0
    error_rate: float = 0.0
    connections: int | None = None
    health: str = "ok"
    detail: dict[str, str] = field(default_factory=dict)


def sample(url: str, timeout: float = 5.0) -> AgentSample:
    """Read ``url``'s metrics and health now; an unreachable agent is a sample with ``error``."""
    at = time.monotonic()
    try:
        return AgentSample(url, at, fetch_metrics(url, timeout), fetch_health(url, timeout))
    except (OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
        return AgentSample(url, at, error=text)


def _number(doc: Mapping[str, str], name: str) -> float:
    try:
        return float(doc.get(name, 0))
    except ValueError:
        return 0.0


def _agent_label(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/").removesuffix("/metrics")


def rows_between(before: AgentSample, after: AgentSample) -> list[ComponentRow]:
    """The rows of one agent from two samples (rates need both; totals come from ``after``)."""
    agent = _agent_label(after.url)
    if after.metrics is None:
        return [ComponentRow(agent, "", "AGENT", "-", health=f"unreachable: {after.error}")]
    seconds = max(after.at - before.at, 1e-6)
    old = before.metrics or {}
    failing = dict((after.health or {}).get("failing") or {})
    rows = []
    for key, doc in after.metrics.items():
        kind, _, name = key.partition(".")
        prev = old.get(key, doc)

        def rate(counter: str, doc: Mapping[str, str] = doc, prev: Mapping[str, str] = prev) -> float:
            return max(_number(doc, counter) - _number(prev, counter), 0.0) / seconds

        errors = sum(int(_number(doc, c)) for c in _ERRORS.get(kind, ()))
        rows.append(ComponentRow(
            agent, key, kind, name,
            rate_in=rate(_IN[kind]) if kind in _IN else 0.0,
            rate_out=rate(_OUT[kind]) if kind in _OUT else 0.0,
            total=int(_number(doc, _OUT.get(kind, ""))),
            fill=_number(doc, "ChannelFillPercentage") if kind == "CHANNEL" else None,
            size=f"{doc.get('ChannelSize', '0')}/{doc.get('ChannelCapacity', '?')}" if kind == "CHANNEL"
            else "",
            errors=errors,
            error_rate=sum(rate(c) for c in _ERRORS.get(kind, ())),
            connections=_connections(kind, doc),
            health=f"FAILING: {failing[key]}" if key in failing else "ok",
            detail=dict(doc)))
    return rows


def _connections(kind: str, doc: Mapping[str, str]) -> int | None:
    if "OpenConnectionCount" in doc:
        return int(_number(doc, "OpenConnectionCount"))
    if kind == "SINK":
        return int(_number(doc, "ConnectionCreatedCount") - _number(doc, "ConnectionClosedCount"))
    return None
