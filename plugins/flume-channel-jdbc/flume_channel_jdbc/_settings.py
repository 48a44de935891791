"""The JDBC channel's keys, as Flume names them, and where each database type points.

Flume's embedded default is Apache Derby; here the embedded database is SQLite, so
``db.type = DERBY`` (the default) and ``SQLITE`` both mean a SQLite file. ``POSTGRESQL``
connects with psycopg 3. Flume's MYSQL, ORACLE and OTHER are refused with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from flume_sdk import at_least, namespace, one_of, setting

__all__ = ["DEFAULT_HOME", "JdbcChannelSettings", "masked"]

#: Where Flume's embedded Derby database lives by default, and so our SQLite file.
DEFAULT_HOME = Path("~/.flume/jdbc-channel").expanduser()
_SQLITE_FILE = "flume-channel.sqlite"
_EMBEDDED = ("DERBY", "SQLITE")
_REFUSED = {
    "MYSQL": "MySQL is not supported by flume-sdk's jdbc channel",
    "ORACLE": "Oracle is not supported by flume-sdk's jdbc channel",
    "OTHER": "arbitrary JDBC drivers cannot be loaded without a JVM",
}
_ISOLATIONS = ("READ_UNCOMMITTED", "READ_COMMITTED", "REPEATABLE_READ", "SERIALIZABLE")


def _upper(text: str) -> str:
    return text.strip().upper()


def masked(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


@attrs.frozen(kw_only=True)
class JdbcChannelSettings:
    """Flume's ``jdbc`` channel keys (plus ``transactionCapacity``, which Flume lacks)."""

    db_type: str = setting("db.type", default="DERBY", converter=_upper,
                           help="DERBY or SQLITE (embedded SQLite file) or POSTGRESQL")
    driver_class: str = setting("driver.class", default="",
                                help="accepted for compatibility; the driver follows db.type")
    driver_url: str = setting(
        "driver.url", default="",
        help="SQLite: a file path, sqlite:///PATH or jdbc:derby:DIR; PostgreSQL: "
             "postgresql://... or jdbc:postgresql://...")
    db_username: str = setting("db.username", default="",
                               help="PostgreSQL user (default: the URL's); Derby's 'sa' is moot")
    db_password: str = setting("db.password", default="", help="PostgreSQL password")
    connection_properties_file: Path | None = setting(
        "connection.properties.file", default=None,
        help="Java properties file of libpq connection parameters (PostgreSQL)")
    create_schema: bool = setting("create.schema", default=True,
                                  help="create the schema and table when missing")
    create_index: bool = setting("create.index", default=True,
                                 help="index the table by channel and id")
    create_foreignkey: bool = setting(
        "create.foreignkey", default=True,
        help="accepted; headers are stored in the event's own row, so there is no key to create")
    transaction_isolation: str = setting(
        "transaction.isolation", default="READ_COMMITTED", converter=_upper,
        validator=one_of(*_ISOLATIONS), help="PostgreSQL isolation level")
    maximum_connections: int = setting("maximum.connections", default=10, validator=at_least(1),
                                       help="PostgreSQL connections the channel opens at most")
    maximum_capacity: int = setting("maximum.capacity", default=0, validator=at_least(0),
                                    aliases=("capacity",), help="most events held; 0 = unlimited")
    transaction_capacity: int = setting(
        "transactionCapacity", default=10_000, validator=at_least(1),
        help="most puts (and takes) in one transaction (not a Flume key of this channel)")
    sysprop: dict[str, str] = namespace(
        "sysprop.", help="Java system properties; only sysprop.derby.system.home has an effect")

    @property
    def embedded(self) -> bool:
        return self.db_type in _EMBEDDED

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.db_type in _REFUSED:
            found.append(("db.type", f"{self.db_type}: {_REFUSED[self.db_type]}; use POSTGRESQL "
                          "or the embedded default (DERBY/SQLITE)"))
        elif self.db_type not in (*_EMBEDDED, "POSTGRESQL"):
            found.append(("db.type", f"must be DERBY, SQLITE or POSTGRESQL (got {self.db_type!r})"))
        elif self.db_type == "POSTGRESQL" and not self.postgres_url():
            found.append(("driver.url", "is required with db.type = POSTGRESQL "
                          "(postgresql://HOST:PORT/DB or jdbc:postgresql://HOST:PORT/DB)"))
        elif self.db_type == "POSTGRESQL" and not self.postgres_url().startswith("postgresql://"):
            found.append(("driver.url", "must be postgresql://... or jdbc:postgresql://... "
                          f"(got {masked(self.driver_url)!r})"))
        if self.embedded and self.connection_properties_file is not None:
            found.append(("connection.properties.file", "applies to POSTGRESQL only"))
        if self.connection_properties_file and not self.connection_properties_file.is_file():
            found.append(("connection.properties.file",
                          f"no such file: {self.connection_properties_file}"))
        return found

    def warnings(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.db_type == "DERBY":
            found.append(("db.type", f"DERBY maps to the embedded SQLite database "
                          f"{self.sqlite_path()} (flume-sdk has no JVM to run Derby)"))
        if self.driver_class:
            found.append(("driver.class", "has no effect: the driver follows db.type"))
        for key in self.sysprop:
            if key != "derby.system.home":
                found.append((f"sysprop.{key}", "has no effect: there is no JVM"))
        if self.embedded and (self.db_username or self.db_password):
            found.append(("db.username", "has no effect on the embedded SQLite database"))
        if self.embedded and self.transaction_isolation != "READ_COMMITTED":
            found.append(("transaction.isolation",
                          "has no effect on SQLite, whose transactions are serializable"))
        return found

    def sqlite_path(self) -> Path:
        """The SQLite file: from ``driver.url``, else under ``derby.system.home`` or the default."""
        url = self.driver_url.strip()
        if url.startswith("jdbc:derby:"):
            return Path(url[len("jdbc:derby:"):].split(";")[0]).expanduser() / _SQLITE_FILE
        for prefix in ("jdbc:sqlite:", "sqlite:///", "sqlite://"):
            if url.startswith(prefix):
                url = url[len(prefix) - (1 if prefix == "sqlite:///" else 0):]
                break
        if url:
            return Path(url).expanduser()
        home = self.sysprop.get("derby.system.home")
        return (Path(home).expanduser() if home else DEFAULT_HOME) / _SQLITE_FILE

    def postgres_url(self) -> str:
        """``driver.url`` as a libpq URL (``jdbc:`` dropped, ``postgres://`` normalised)."""
        url = self.driver_url.strip().removeprefix("jdbc:")
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        return url
