"""The jdbc channel against its databases: restarts, outages, schema and connection options."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flume_channel_jdbc import JdbcChannel
from flume_testkit import ChannelDriver, EventFactory, event_ids, take_all
from flume_testkit.servers.postgres import PASSWORD, PostgresServer, running_postgres

from flume_sdk import ChannelException

pytestmark = pytest.mark.timeout(180)
Factory = Callable[..., JdbcChannel]


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own, so stopping it disturbs no other test."""
    with running_postgres("flume-pg-outage-") as server:
        yield server


def _started(channel: JdbcChannel) -> ChannelDriver:
    channel.start()
    return ChannelDriver(channel)


def test_two_channels_share_a_database_without_seeing_each_other(postgres_channel: Factory) -> None:
    one, two = _started(postgres_channel("c1")), _started(postgres_channel("c2"))
    try:
        one.put(EventFactory("one").batch(3))
        two.put(EventFactory("two").batch(2))
        assert (len(take_all(one.channel)), len(take_all(two.channel))) == (3, 2)
    finally:
        one.channel.stop()
        two.channel.stop()


def test_a_database_outage_is_refused_clearly_and_survived(private_postgres: PostgresServer) -> None:
    url = private_postgres.create_database("outage")
    channel = JdbcChannel.from_config("c1", {"db.type": "POSTGRESQL", "driver.url": url})
    driver = _started(channel)
    try:
        before, during, after = (EventFactory(n).batch(4) for n in ("before", "during", "after"))
        driver.put(before)
        private_postgres.stop()
        with pytest.raises(ChannelException, match=r"c1: commit failed on PostgreSQL "
                                                   r"postgresql://flume:\*\*\*@127\.0\.0\.1"):
            driver.put(during)
        with pytest.raises(ChannelException, match=r"failed on PostgreSQL .*Connection refused"):
            driver.take(1)
        assert PASSWORD not in str(channel.last_error or "")
        private_postgres.start()
        driver.put(after)
        assert event_ids(take_all(channel)) == event_ids(before + after)
        assert channel.counter.get("DatabaseErrorCount") >= 2
    finally:
        channel.stop()


def test_a_take_rolled_back_during_an_outage_is_delivered_after_it(
    private_postgres: PostgresServer,
) -> None:
    url = private_postgres.create_database("rollback")
    channel = JdbcChannel.from_config("c1", {"db.type": "POSTGRESQL", "driver.url": url})
    driver = _started(channel)
    try:
        events = EventFactory().batch(5)
        driver.put(events)
        tx = channel.get_transaction()
        tx.begin()
        assert len(tx.take_batch(3)) == 3
        private_postgres.stop()
        with pytest.raises(ChannelException, match="commit failed"):
            tx.commit()
        tx.rollback()
        tx.close()
        private_postgres.start()
        assert event_ids(take_all(channel)) == event_ids(events)
    finally:
        channel.stop()


def test_start_against_a_stopped_server_fails_naming_it(private_postgres: PostgresServer) -> None:
    url = private_postgres.create_database("down")
    private_postgres.stop()
    channel = JdbcChannel.from_config("c1", {"db.type": "POSTGRESQL", "driver.url": url})
    with pytest.raises(ChannelException, match=r"c1: start failed on PostgreSQL .*127\.0\.0\.1"):
        channel.start()
    channel.stop()


def test_a_wrong_password_fails_start_clearly(postgres_url: str) -> None:
    channel = JdbcChannel.from_config("c1", {"db.type": "POSTGRESQL", "driver.url": postgres_url,
                                             "db.password": "wrong"})
    with pytest.raises(ChannelException, match="password authentication failed"):
        channel.start()


def test_username_and_password_keys_are_used(postgres_server: PostgresServer,
                                            postgres_url: str) -> None:
    bare = postgres_url.replace(f"flume:{PASSWORD}@", "")
    channel = JdbcChannel.from_config("c1", {"db.type": "POSTGRESQL", "driver.url": bare,
                                             "db.username": "flume", "db.password": PASSWORD})
    driver = _started(channel)
    try:
        driver.put(EventFactory().batch(1))
        assert len(take_all(channel)) == 1
    finally:
        channel.stop()


def test_connection_properties_file_reaches_the_server(postgres_url: str, tmp_path: Path) -> None:
    props = tmp_path / "conn.properties"
    props.write_text("application_name = flume-jdbc-test\n")
    channel = JdbcChannel.from_config("c1", {"db.type": "POSTGRESQL", "driver.url": postgres_url,
                                             "connection.properties.file": str(props)})
    channel.start()
    try:
        with psycopg.connect(postgres_url) as conn:
            names = conn.execute("SELECT application_name FROM pg_stat_activity").fetchall()
        assert ("flume-jdbc-test",) in names
    finally:
        channel.stop()


def test_without_create_schema_a_missing_table_fails_start_clearly(postgres_url: str,
                                                                   tmp_path: Path) -> None:
    for props in ({"db.type": "POSTGRESQL", "driver.url": postgres_url},
                  {"db.type": "SQLITE", "driver.url": str(tmp_path / "x.sqlite")}):
        channel = JdbcChannel.from_config("c1", {**props, "create.schema": "false"})
        with pytest.raises(ChannelException, match=r"does not exist .* create.schema = false"):
            channel.start()


def test_maximum_capacity_bounds_the_channel(sqlite_channel: Factory) -> None:
    driver = _started(sqlite_channel(capacity="3"))
    try:
        driver.put(EventFactory().batch(3))
        with pytest.raises(ChannelException, match=r"no room for 1 event\(s\): maximum.capacity 3"):
            driver.put(EventFactory("more").batch(1))
    finally:
        driver.channel.stop()


def test_sqlite_events_survive_in_the_file_for_a_new_instance(sqlite_channel: Factory) -> None:
    first = _started(sqlite_channel())
    events = EventFactory().batch(10)
    first.put(events)
    first.take(4)
    first.channel.stop()
    second = _started(sqlite_channel())
    try:
        assert event_ids(take_all(second.channel)) == event_ids(events[4:])
        assert second.channel.size == 0
    finally:
        second.channel.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_second_agent_on_the_same_channel_is_refused(backend: str,
                                                        request: pytest.FixtureRequest) -> None:
    make: Factory = request.getfixturevalue(f"{backend}_channel")
    first = make()
    first.start()
    try:
        with pytest.raises(ChannelException, match="in use by another agent"):
            make().start()
        other_name = make("c2")
        other_name.start()  # another channel in the same database is fine
        other_name.stop()
    finally:
        first.stop()
    again = make()
    again.start()  # released at stop
    again.stop()


def test_the_advisory_lock_is_taken_again_after_a_database_restart(
    private_postgres: PostgresServer,
) -> None:
    url = private_postgres.create_database("relock")
    props = {"db.type": "POSTGRESQL", "driver.url": url}
    channel = JdbcChannel.from_config("c1", props)
    driver = _started(channel)
    try:
        private_postgres.restart()
        with pytest.raises(ChannelException):
            driver.put(EventFactory("lost-connection").batch(1))
        driver.put(EventFactory("after").batch(2))
        with pytest.raises(ChannelException, match="in use by another agent"):
            JdbcChannel.from_config("c1", props).start()
    finally:
        channel.stop()
