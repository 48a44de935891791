"""spooldir, exec, taildir and http keep every source promise of the testkit's SourceContract."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from flume_testkit import SourceContract, SourceDriver

from flume_sdk import Source
from flume_sdk.components.exec_source import ExecSource
from flume_sdk.components.http_source import HTTPSource
from flume_sdk.components.spooldir_source import SpoolDirectorySource
from flume_sdk.components.taildir_source import TaildirSource

__all__ = [
    "TestExecSourceContract",
    "TestHTTPSourceContract",
    "TestSpoolDirectorySourceContract",
    "TestTaildirSourceContract",
]

_LINE = 12  # bytes in each line written below: "line-000000\n"
_PROCESS_CALLS = 50


def _lines(start: int, count: int) -> bytes:
    return b"".join(b"line-%06d\n" % i for i in range(start, start + count))


def _pause(seconds: float) -> None:
    threading.Event().wait(seconds)


class TestSpoolDirectorySourceContract(SourceContract):
    @pytest.fixture
    def make_source(self, tmp_path: Path) -> Callable[..., Source]:
        spool = tmp_path / "spool"
        spool.mkdir()
        return lambda **overrides: SpoolDirectorySource.from_config(
            "r1", {"spoolDir": str(spool), "batchSize": "2", **overrides})

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        def drive(driver: SourceDriver, count: int) -> int:
            """Drop a file of ``count`` lines; acknowledged = lines of files completed now."""
            source = driver.source
            assert isinstance(source, SpoolDirectorySource)
            written: dict[str, int] = driver.__dict__.setdefault("spooled", {})
            name = f"in{len(written)}.log"
            (source.spool_dir / name).write_bytes(_lines(0, count))
            written[name] = count
            done_before = {p.name for p in source.spool_dir.glob("*.COMPLETED")}
            driver.process(times=_PROCESS_CALLS)
            done = {p.name for p in source.spool_dir.glob("*.COMPLETED")} - done_before
            return sum(n for f, n in written.items() if f + ".COMPLETED" in done)
        return drive


class TestTaildirSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self, tmp_path: Path) -> Callable[..., Source]:
        (tmp_path / "logs").mkdir()
        return lambda **overrides: TaildirSource.from_config("r1", {
            "filegroups": "g1", "filegroups.g1": str(tmp_path / "logs" / r"app\.log"),
            "positionFile": str(tmp_path / "pos.json"), "batchSize": "2", **overrides})

    @pytest.fixture
    def drive_source(self, tmp_path: Path) -> Callable[[SourceDriver, int], int]:
        def drive(driver: SourceDriver, count: int) -> int:
            """Append ``count`` lines; acknowledged = lines the committed position moved by."""
            source = driver.source
            assert isinstance(source, TaildirSource)
            path = tmp_path / "logs" / "app.log"
            before = source.committed_positions().get(str(path), 0)
            with open(path, "ab") as out:
                out.write(_lines(0, count))
            driver.process(times=_PROCESS_CALLS)
            return (source.committed_positions().get(str(path), 0) - before) // _LINE
        return drive


class TestExecSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self, tmp_path: Path) -> Callable[..., Source]:
        feed = tmp_path / "feed.log"
        feed.touch()
        return lambda **overrides: ExecSource.from_config("r1", {
            "command": f"tail -n +1 -F {feed}", "batchSize": "2", "batchTimeout": "20",
            "maxBackoff": "20", **overrides})

    @pytest.fixture
    def drive_source(self, tmp_path: Path) -> Callable[[SourceDriver, int], int]:
        def drive(driver: SourceDriver, count: int) -> int:
            """Append to the file the command follows; acknowledged = events accepted now."""
            counter = driver.source.counter
            before = counter.get("EventAcceptedCount")
            with open(tmp_path / "feed.log", "ab") as out:
                out.write(_lines(0, count))
            for _ in range(50):
                if counter.get("EventAcceptedCount") - before >= count:
                    break
                _pause(0.02)
            return counter.get("EventAcceptedCount") - before
        return drive


class TestHTTPSourceContract(SourceContract):
    @pytest.fixture
    def make_source(self) -> Callable[..., Source]:
        return lambda **overrides: HTTPSource.from_config(
            "r1", {"bind": "127.0.0.1", "port": "0", **overrides})

    @pytest.fixture
    def drive_source(self) -> Callable[[SourceDriver, int], int]:
        def drive(driver: SourceDriver, count: int) -> int:
            """POST ``count`` events; acknowledged = all of them on 200, none otherwise."""
            source = driver.source
            assert isinstance(source, HTTPSource)
            body = json.dumps([{"headers": {}, "body": f"e{i}"} for i in range(count)])
            conn = http.client.HTTPConnection("127.0.0.1", source.port, timeout=10)
            try:
                conn.request("POST", "/", body=body.encode())
                response = conn.getresponse()
                response.read()
            finally:
                conn.close()
            return count if response.status == 200 else 0
        return drive
