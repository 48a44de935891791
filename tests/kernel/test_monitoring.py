"""HTTP monitoring: Flume's JSON shape, Prometheus text, health."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from flume_sdk import Counter
from flume_sdk._monitoring import MonitoringServer


@pytest.fixture
def server() -> Iterator[tuple[MonitoringServer, dict[str, object]]]:
    source = Counter("SOURCE", "r1")
    source.incr("EventReceivedCount", 3)
    health: dict[str, object] = {"status": "ok", "failing": {}}
    srv = MonitoringServer(lambda: [source], lambda: health, host="127.0.0.1", port=0)
    srv.start()
    yield srv, health
    srv.stop()


def get(srv: MonitoringServer, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}{path}", timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_metrics_is_flume_json_with_string_values(server) -> None:  # type: ignore[no-untyped-def]
    status, body = get(server[0], "/metrics")
    doc = json.loads(body)
    assert status == 200
    assert doc["SOURCE.r1"]["EventReceivedCount"] == "3"
    assert doc["SOURCE.r1"]["Type"] == "SOURCE"
    assert all(isinstance(v, str) for v in doc["SOURCE.r1"].values())


def test_prometheus_view_has_the_same_counters(server) -> None:  # type: ignore[no-untyped-def]
    _, body = get(server[0], "/metrics/prometheus")
    assert b'flume_source_event_received_total{agent="",component="r1"' in body


def test_health_is_503_while_a_component_fails(server) -> None:  # type: ignore[no-untyped-def]
    srv, health = server
    assert get(srv, "/health")[0] == 200
    health["status"] = "failing"
    assert get(srv, "/health")[0] == 503


def test_unknown_path_is_404(server) -> None:  # type: ignore[no-untyped-def]
    assert get(server[0], "/nope")[0] == 404


def test_health_is_200_while_only_degraded(server) -> None:  # type: ignore[no-untyped-def]
    srv, health = server
    health["status"] = "degraded"
    assert get(srv, "/health")[0] == 200
