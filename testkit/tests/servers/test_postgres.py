"""Specification of the private PostgreSQL cluster: unprivileged, password over TCP, restartable."""

from __future__ import annotations

import psycopg
import pytest
from flume_testkit.servers.postgres import PASSWORD, PostgresServer, running_postgres

__all__: list[str] = []

pytestmark = pytest.mark.timeout(180)


def test_each_test_gets_its_own_empty_database(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        user = conn.execute("SELECT current_user").fetchone()
    assert tables == (0,) and user == ("flume",)


def test_tcp_clients_need_the_password(postgres_server: PostgresServer) -> None:
    wrong = postgres_server.url().replace(PASSWORD, "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)


def test_the_server_runs_as_an_unprivileged_user(postgres_server: PostgresServer) -> None:
    assert postgres_server.pid is not None
    with open(f"/proc/{postgres_server.pid}/status") as status:
        uid = next(line.split()[1] for line in status if line.startswith("Uid:"))
    assert uid != "0"


def test_a_restart_keeps_committed_data_and_the_port() -> None:
    with running_postgres() as server:
        url = server.create_database("keep")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (v int)")
            conn.execute("INSERT INTO t VALUES (7)")
        port = server.port
        server.restart()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT v FROM t").fetchall() == [(7,)]
        assert server.port == port
