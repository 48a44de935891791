"""``jdbc``: Flume's durable JDBC channel, on an embedded SQLite file or on PostgreSQL.

Flume's transaction semantics: puts become rows (visible to takers) only when the put
commits; a take's rows are deleted only when the take commits; a rolled-back take
returns its events ahead of everything else, in their order.

How takes stay exact without locking rows: the channel owns its rows in the table
(one agent per channel name, as in Flume). Put commits are serialized, so row ids grow
in commit order and a reader that has seen every id up to ``cursor`` can never miss a
smaller one. Takes read rows after the cursor; rolled-back rows wait in memory, ahead of
the cursor, until taken again. Nothing in memory is needed for recovery: a restart
starts from whatever rows are in the table.

When the database is away, every put and take commit raises ``ChannelException``
naming the database; the channel's in-memory view is re-read from the table once it
answers again, so an ambiguous commit costs at most a duplicate, never a loss.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from flume_channel_jdbc._database import (
    DATABASE_ERRORS,
    ChannelInUseError,
    Database,
    MissingSchemaError,
    PostgresDatabase,
    Row,
    SqliteDatabase,
    decode_row,
    encode_event,
)
from flume_channel_jdbc._settings import JdbcChannelSettings, masked
from flume_sdk import (
    SYSTEM_CLOCK,
    Channel,
    ChannelException,
    ChannelFullException,
    Clock,
    Event,
    Transaction,
)

__all__ = ["JdbcChannel", "JdbcTransaction"]

log = logging.getLogger("flume_channel_jdbc")


class JdbcChannel(Channel):
    """Durable channel in a SQL database (see the module docstring for the semantics)."""

    Settings: ClassVar[type] = JdbcChannelSettings
    settings: JdbcChannelSettings
    durable: ClassVar[bool] = True
    counter_extra: ClassVar[tuple[str, ...]] = ("DatabaseErrorCount",)

    def __init__(self, name: str, settings: Any = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(name, settings, clock=clock)
        self._db: Database | None = None
        self._state = threading.Lock()
        self._put_order = threading.Lock()
        self._size = 0
        self._unseen = 0
        self._cursor = 0
        self._returned: list[Row] = []
        self._stale = False

    @property
    def capacity(self) -> int:
        return self.settings.maximum_capacity

    @property
    def size(self) -> int:
        return self._size

    @property
    def database(self) -> Database:
        if self._db is None:
            msg = f"{self.name}: jdbc channel is not started; call start() first"
            raise ChannelException(msg)
        return self._db

    def create_transaction(self) -> Transaction:
        return JdbcTransaction(self)

    def _open_database(self) -> Database:
        s = self.settings
        if s.embedded:
            return SqliteDatabase(s.sqlite_path(), self.name, create_schema=s.create_schema,
                                  create_index=s.create_index)
        url = s.postgres_url()
        return PostgresDatabase(
            url, self.name, where=f"PostgreSQL {masked(url)}", user=s.db_username,
            password=s.db_password, properties_file=s.connection_properties_file,
            isolation=s.transaction_isolation, max_connections=s.maximum_connections,
            create_schema=s.create_schema, create_index=s.create_index)

    def do_start(self) -> None:
        db = self._open_database()
        try:
            db.open()
        except MissingSchemaError as exc:
            db.close()
            msg = (f"{self.name}: {exc} in {db.where} and create.schema = false; create it "
                   "(see the flume-channel-jdbc README) or set create.schema = true")
            raise ChannelException(msg) from exc
        except ChannelInUseError as exc:
            db.close()
            raise ChannelException(f"{self.name}: {exc}") from exc
        except DATABASE_ERRORS as exc:
            db.close()
            raise self._failure(db, "start", exc) from exc
        self._db = db
        self._cursor, self._returned = 0, []
        self._resync()
        log.info("%s: %d event(s) in %s", self.name, self._size, db.where)

    def do_stop(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def _failure(self, db: Database, what: str, exc: BaseException) -> ChannelException:
        self.counter.incr("DatabaseErrorCount")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ChannelException(f"{self.name}: {what} failed on {db.where}: {first}")

    def _resync(self) -> None:
        """Re-read size and unseen rows from the table (at start, and after a failure)."""
        db = self.database
        try:
            db.hold()
            size, unseen = db.count(), db.count(after=self._cursor)
        except ChannelInUseError as exc:
            raise ChannelException(f"{self.name}: {exc}") from exc
        except DATABASE_ERRORS as exc:
            raise self._failure(db, "reading the channel's size", exc) from exc
        with self._state:
            self._size, self._unseen, self._stale = size, unseen, False

    def _ensure_fresh(self) -> None:
        if self._stale:
            self._resync()

    # -- what transactions call ----------------------------------------------------------

    def _take(self, max_events: int) -> list[Row]:
        self._ensure_fresh()
        with self._state:
            rows = self._returned[:max_events]
            del self._returned[:len(rows)]
            want = max_events - len(rows)
            if want and self._unseen > 0:
                try:
                    fresh = self.database.read(self._cursor, want)
                except DATABASE_ERRORS as exc:
                    self._returned[:0] = rows
                    self._stale = True
                    raise self._failure(self.database, "take", exc) from exc
                if fresh:
                    self._cursor = fresh[-1][0]
                self._unseen -= len(fresh)
                rows.extend(fresh)
            return rows

    def _give_back(self, rows: Sequence[Row]) -> None:
        with self._state:
            for row in rows:
                bisect.insort(self._returned, row, key=lambda r: r[0])

    def _commit(self, puts: Sequence[Event], takes: Sequence[Row]) -> None:
        self._ensure_fresh()
        db = self.database
        encoded = [encode_event(e) for e in puts]
        with self._put_order:
            with self._state:
                room = self.capacity - (self._size - len(takes))
                if puts and self.capacity and len(puts) > room:
                    msg = (f"{self.name}: no room for {len(puts)} event(s): maximum.capacity "
                           f"{self.capacity}, {self._size} held; sinks are not keeping up or "
                           "the channel is too small")
                    raise ChannelFullException(msg)
            try:
                db.commit(encoded, [row[0] for row in takes])
            except DATABASE_ERRORS as exc:
                self._stale = True
                raise self._failure(db, "commit", exc) from exc
            with self._state:
                self._size += len(puts) - len(takes)
                self._unseen += len(puts)


class JdbcTransaction(Transaction):
    """Buffers puts until commit; takes hold their rows until commit or rollback."""

    channel: JdbcChannel

    def do_begin(self) -> None:
        self._puts: list[Event] = []
        self._takes: list[Row] = []

    def do_put_batch(self, events: Sequence[Event]) -> None:
        self._puts.extend(events)

    def do_take_batch(self, max_events: int) -> list[Event]:
        rows = self.channel._take(max_events)
        self._takes.extend(rows)
        return [decode_row(row) for row in rows]

    def do_commit(self) -> None:
        if self._puts or self._takes:
            self.channel._commit(self._puts, self._takes)
        self._puts, self._takes = [], []

    def do_rollback(self) -> None:
        self._puts = []
        if self._takes:
            self.channel._give_back(self._takes)
            self._takes = []
