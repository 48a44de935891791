"""The two databases behind the jdbc channel: one table of events, written in SQL transactions.

Each event is one row: an increasing id (the channel's order), the channel's name (one
database may hold several channels, as in Flume), the headers as JSON text and the body.
A channel commit is one database transaction that inserts the puts and deletes the
committed takes. Errors are the drivers' own (``sqlite3.Error``, ``psycopg.Error``);
the channel turns them into ``ChannelException``.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import javaproperties
import psycopg

from flume_sdk import Event, FlumeError

__all__ = ["DATABASE_ERRORS", "ChannelInUseError", "Database", "PostgresDatabase", "Row",
           "SqliteDatabase", "decode_row", "encode_event"]

Row = tuple[int, str, bytes]
DATABASE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, psycopg.Error, OSError)
_CONNECT_TIMEOUT = 5
_DELETE_CHUNK = 500  # SQLite's default limit is 32766 host parameters; stay well below it


_encode_headers = json.JSONEncoder(separators=(",", ":")).encode
_decode_headers = json.JSONDecoder().decode


def encode_event(event: Event) -> tuple[str, bytes]:
    """Headers as compact ASCII JSON (any string survives), body as bytes."""
    headers = event.headers
    return (_encode_headers(headers) if headers else "{}"), bytes(event.body)


def decode_row(row: Row) -> Event:
    text = row[1]
    return Event(bytes(row[2]), _decode_headers(text) if text != "{}" else {})


def _id_range(ids: Sequence[int]) -> tuple[int, int] | None:
    """``(first, last)`` when ``ids`` are consecutive and ascending (the usual take)."""
    if ids and ids[-1] - ids[0] + 1 == len(ids) and all(
            b == a + 1 for a, b in itertools.pairwise(ids)):
        return ids[0], ids[-1]
    return None


class Database(Protocol):
    """What the channel needs from a database."""

    where: str

    def open(self) -> None: ...
    def close(self) -> None: ...
    def hold(self) -> None: ...
    def count(self, after: int = 0) -> int: ...
    def read(self, after: int, limit: int) -> list[Row]: ...
    def commit(self, puts: Sequence[tuple[str, bytes]], deletes: Sequence[int]) -> None: ...


class MissingSchemaError(FlumeError, RuntimeError):
    """The table is missing and ``create.schema = false``."""


class ChannelInUseError(FlumeError, RuntimeError):
    """Another channel instance (another agent) holds this channel's rows."""


class _LockFile:
    """An ``flock`` on ``path`` holding the owner's pid; taken at once or not at all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    def acquire(self, what: str) -> None:
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ChannelInUseError(f"{what} is in use by another agent (pid {holder}; "
                                    f"lock {self.path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


class SqliteDatabase:
    """An embedded SQLite file in WAL mode, every commit synced (``synchronous = FULL``).

    One connection serves every thread, one statement group at a time: SQLite has a
    single writer anyway, and the channel's puts and takes are short.
    """

    def __init__(self, path: Path, channel: str, *, create_schema: bool, create_index: bool) -> None:
        self.path = path
        self.where = f"SQLite file {path}"
        self._channel = channel
        self._create_schema = create_schema
        self._create_index = create_index
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in channel)
        self._owner = _LockFile(path.with_name(f"{path.name}.{safe}.lock"))

    def open(self) -> None:
        if self._create_schema:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._owner.acquire(f"channel {self._channel!r} in {self.where}")
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   timeout=30)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                self._schema(conn)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            self._owner.release()
            raise
        self._conn = conn

    def _schema(self, conn: sqlite3.Connection) -> None:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                              "name = 'fl_event'").fetchone()
        if exists:
            return
        if not self._create_schema:
            raise MissingSchemaError("table fl_event does not exist")
        conn.execute("CREATE TABLE IF NOT EXISTS fl_event (fe_id INTEGER PRIMARY KEY "
                     "AUTOINCREMENT, fe_channel TEXT NOT NULL, fe_headers TEXT NOT NULL, "
                     "fe_payload BLOB NOT NULL)")
        if self._create_index:
            conn.execute("CREATE INDEX IF NOT EXISTS fl_event_channel ON fl_event "
                         "(fe_channel, fe_id)")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._owner.release()

    def hold(self) -> None:
        """The lock file is held for the channel's life: nothing to renew."""

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise sqlite3.OperationalError(f"{self.where} is closed")
            yield self._conn

    def count(self, after: int = 0) -> int:
        with self._connection() as conn:
            row = conn.execute("SELECT count(*) FROM fl_event WHERE fe_channel = ? AND fe_id > ?",
                               (self._channel, after)).fetchone()
        return int(row[0])

    def read(self, after: int, limit: int) -> list[Row]:
        with self._connection() as conn:
            return conn.execute(
                "SELECT fe_id, fe_headers, fe_payload FROM fl_event WHERE fe_channel = ? AND "
                "fe_id > ? ORDER BY fe_id LIMIT ?", (self._channel, after, limit)).fetchall()

    def commit(self, puts: Sequence[tuple[str, bytes]], deletes: Sequence[int]) -> None:
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if puts:
                    conn.executemany("INSERT INTO fl_event (fe_channel, fe_headers, fe_payload) "
                                     "VALUES (?, ?, ?)", [(self._channel, h, b) for h, b in puts])
                span = _id_range(deletes)
                if span:
                    conn.execute("DELETE FROM fl_event WHERE fe_id BETWEEN ? AND ?", span)
                else:
                    for start in range(0, len(deletes), _DELETE_CHUNK):
                        chunk = deletes[start:start + _DELETE_CHUNK]
                        marks = ",".join("?" * len(chunk))
                        conn.execute(f"DELETE FROM fl_event WHERE fe_id IN ({marks})", chunk)
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise


class PostgresDatabase:
    """A PostgreSQL table ``flume.fl_event`` through a small pool of psycopg connections.

    A connection that failed is closed, not returned: after a server restart the next
    operation connects afresh (bounded by a connect timeout), so the channel refuses
    while the server is away and works again as soon as it is back.
    """

    def __init__(self, url: str, channel: str, *, where: str, user: str, password: str,
                 properties_file: Path | None, isolation: str, max_connections: int,
                 create_schema: bool, create_index: bool) -> None:
        self.where = where
        self._url = url
        self._channel = channel
        self._options: dict[str, Any] = {"connect_timeout": _CONNECT_TIMEOUT}
        if properties_file is not None:
            with properties_file.open(encoding="utf-8") as handle:
                self._options.update(javaproperties.load(handle))
        if user:
            self._options["user"] = user
        if password:
            self._options["password"] = password
        self._isolation = psycopg.IsolationLevel[isolation]
        self._create_schema = create_schema
        self._create_index = create_index
        self._idle: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._closed = False
        self._owner: psycopg.Connection[Any] | None = None

    def open(self) -> None:
        self._closed = False
        self.hold()
        try:
            with self._connection() as conn:
                self._schema(conn)
        except BaseException:
            self.close()
            raise

    def hold(self) -> None:
        """Hold the channel's advisory lock on a connection of its own (again, after an outage).

        The lock is PostgreSQL's session lock on the channel's name, so a second agent using
        the same channel name is refused instead of taking the same rows.
        """
        if self._owner is not None:
            try:
                self._owner.execute("SELECT 1")  # still connected, so still holding the lock
                return
            except psycopg.Error:
                self._owner.close()
                self._owner = None
        conn = self._connect()
        try:
            conn.autocommit = True
            row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))",
                               (f"flume-jdbc-channel:{self._channel}",)).fetchone()
        except BaseException:
            conn.close()
            raise
        if not row or not row[0]:
            conn.close()
            raise ChannelInUseError(f"channel {self._channel!r} in {self.where} is in use by "
                                    "another agent (its advisory lock is held)")
        self._owner = conn

    def _schema(self, conn: psycopg.Connection[Any]) -> None:
        found = conn.execute("SELECT to_regclass('flume.fl_event')").fetchone()
        if found and found[0] is not None:
            conn.commit()
            return
        if not self._create_schema:
            conn.rollback()
            raise MissingSchemaError("table flume.fl_event does not exist")
        conn.execute("CREATE SCHEMA IF NOT EXISTS flume")
        conn.execute("CREATE TABLE IF NOT EXISTS flume.fl_event (fe_id BIGSERIAL PRIMARY KEY, "
                     "fe_channel TEXT NOT NULL, fe_headers TEXT NOT NULL, fe_payload BYTEA NOT NULL)")
        if self._create_index:
            conn.execute("CREATE INDEX IF NOT EXISTS fl_event_channel ON flume.fl_event "
                         "(fe_channel, fe_id)")
        conn.commit()

    def close(self) -> None:
        self._closed = True
        if self._owner is not None:
            with contextlib.suppress(psycopg.Error):  # at once, not when the backend exits
                self._owner.execute("SELECT pg_advisory_unlock_all()")
            self._owner.close()
            self._owner = None
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                return
            conn.close()

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self._url, **self._options)
        conn.isolation_level = self._isolation
        return conn

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._closed:
            raise psycopg.OperationalError(f"{self.where}: the channel is stopped")
        if not self._slots.acquire(timeout=30):
            raise psycopg.OperationalError(f"{self.where}: no free connection within 30 s "
                                           "(raise maximum.connections)")
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
            try:
                yield conn
            except BaseException:
                _discard(conn)
                raise
            if conn.closed or conn.broken or self._closed:
                conn.close()
            else:
                self._idle.put(conn)
        finally:
            self._slots.release()

    def count(self, after: int = 0) -> int:
        with self._connection() as conn:
            row = conn.execute("SELECT count(*) FROM flume.fl_event WHERE fe_channel = %s AND "
                               "fe_id > %s", (self._channel, after)).fetchone()
            conn.commit()
        assert row is not None
        return int(row[0])

    def read(self, after: int, limit: int) -> list[Row]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT fe_id, fe_headers, fe_payload FROM flume.fl_event WHERE fe_channel = %s "
                "AND fe_id > %s ORDER BY fe_id LIMIT %s", (self._channel, after, limit)).fetchall()
            conn.commit()
        return rows

    def commit(self, puts: Sequence[tuple[str, bytes]], deletes: Sequence[int]) -> None:
        with self._connection() as conn:
            with conn.cursor() as cur:
                if puts:
                    with cur.copy("COPY flume.fl_event (fe_channel, fe_headers, fe_payload) "
                                  "FROM STDIN") as copy:
                        for headers, body in puts:
                            copy.write_row((self._channel, headers, body))
                span = _id_range(deletes)
                if span:
                    cur.execute("DELETE FROM flume.fl_event WHERE fe_id BETWEEN %s AND %s", span)
                elif deletes:
                    cur.execute("DELETE FROM flume.fl_event WHERE fe_id = ANY(%s)", (list(deletes),))
            conn.commit()


def _discard(conn: psycopg.Connection[Any]) -> None:
    """Roll back and close a connection whose operation failed (it may be broken)."""
    with contextlib.suppress(psycopg.Error):
        conn.rollback()
    conn.close()
