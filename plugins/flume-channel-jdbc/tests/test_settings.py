"""The jdbc channel's keys: Flume's names, where each database type points, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from flume_channel_jdbc import JdbcChannel, JdbcChannelSettings
from flume_channel_jdbc._settings import DEFAULT_HOME

from flume_sdk import ConfigurationError


def _settings(**props: str) -> JdbcChannelSettings:
    channel = JdbcChannel.from_config("c1", props, component="a1.channels.c1")
    return channel.settings


def _problem(props: dict[str, str]) -> str:
    with pytest.raises(ConfigurationError) as info:
        JdbcChannel.from_config("c1", props, component="a1.channels.c1")
    return str(info.value)


def test_the_default_is_an_embedded_sqlite_file_where_flume_keeps_derby() -> None:
    settings = _settings()
    assert settings.embedded and settings.sqlite_path() == DEFAULT_HOME / "flume-channel.sqlite"


def test_derby_maps_to_sqlite_with_a_warning_naming_the_file() -> None:
    channel = JdbcChannel.from_config("c1", {"db.type": "derby"}, component="a1.channels.c1")
    notes = [str(w) for w in channel.config_warnings]
    assert any("DERBY maps to the embedded SQLite database" in n for n in notes), notes


@pytest.mark.parametrize(("url", "expected"), [
    ("jdbc:derby:/var/flume/db;create=true", Path("/var/flume/db/flume-channel.sqlite")),
    ("sqlite:///tmp/x.db", Path("/tmp/x.db")),
    ("jdbc:sqlite:/tmp/y.db", Path("/tmp/y.db")),
    ("/tmp/z.db", Path("/tmp/z.db")),
])
def test_driver_url_names_the_sqlite_file(url: str, expected: Path) -> None:
    assert _settings(**{"driver.url": url}).sqlite_path() == expected


def test_derby_system_home_places_the_file_and_other_sysprops_are_warned() -> None:
    channel = JdbcChannel.from_config("c1", {"sysprop.derby.system.home": "/srv/flume",
                                             "sysprop.user.timezone": "UTC"})
    assert channel.settings.sqlite_path() == Path("/srv/flume/flume-channel.sqlite")
    warned = [w.key for w in channel.config_warnings]
    assert "sysprop.user.timezone" in warned and "sysprop.derby.system.home" not in warned


def test_jdbc_postgresql_urls_become_libpq_urls() -> None:
    settings = _settings(**{"db.type": "POSTGRESQL",
                            "driver.url": "jdbc:postgresql://127.0.0.1:5432/flume"})
    assert settings.postgres_url() == "postgresql://127.0.0.1:5432/flume"


@pytest.mark.parametrize(("props", "says"), [
    ({"db.type": "MYSQL"}, "MySQL is not supported"),
    ({"db.type": "ORACLE"}, "Oracle is not supported"),
    ({"db.type": "OTHER"}, "without a JVM"),
    ({"db.type": "MONGO"}, "must be DERBY, SQLITE or POSTGRESQL"),
    ({"db.type": "POSTGRESQL"}, "driver.url: is required"),
    ({"db.type": "POSTGRESQL", "driver.url": "mysql://h/db"}, "must be postgresql://"),
    ({"transaction.isolation": "CHAOS"}, "transaction.isolation"),
    ({"maximum.capacity": "-1"}, "maximum.capacity"),
    ({"maximum.connections": "0"}, "maximum.connections"),
    ({"create.schema": "yes"}, "create.schema"),
    ({"connection.properties.file": "/nonexistent/p"}, "applies to POSTGRESQL only"),
    ({"db.type": "POSTGRESQL", "driver.url": "postgresql://h/d",
      "connection.properties.file": "/nonexistent/p"}, "no such file"),
    ({"maximum.capacty": "5"}, "did you mean 'maximum.capacity'"),
])
def test_bad_settings_are_refused_naming_component_and_key(props: dict[str, str], says: str) -> None:
    message = _problem(props)
    assert "a1.channels.c1" in message and says in message, message


def test_the_password_never_appears_in_messages() -> None:
    message = _problem({"db.type": "POSTGRESQL", "driver.url": "mysql://u:s3cret@h/db"})
    assert "s3cret" not in message and "***" in message
