"""A real PostgreSQL server for tests: Debian's server binaries as a private, unprivileged cluster.

``initdb`` writes a fresh cluster into a temporary directory and ``postgres`` serves it
on a free port of 127.0.0.1 (and a private Unix socket), as a child process stopped by
its own pid. PostgreSQL refuses to run as root, so when the tests run as root the
cluster belongs to the ``postgres`` system user that Debian's package creates, and
every server binary runs as that user.

The cluster has one superuser, ``flume``, with password :data:`PASSWORD`: TCP clients
must authenticate (scram-sha-256), the private Unix socket trusts. Each test gets its
own database (:meth:`PostgresServer.create_database`), so tests sharing the session's
server never see each other's tables.

Fixtures: ``postgres_server`` (one per session) and ``postgres_url`` (a fresh database
on it, as a ``postgresql://`` URL). Both skip with the reason where PostgreSQL's server
binaries are missing (``scripts/install-system-deps.sh`` installs ``postgresql-15``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flume_testkit.servers._process import ServerProcess, ServerStartError, free_port

__all__ = [
    "PASSWORD",
    "USER",
    "PostgresServer",
    "postgres_bin_dir",
    "postgres_missing_reason",
    "postgres_server",
    "postgres_url",
    "running_postgres",
]

USER = "flume"
PASSWORD = "flume-test-password"
_SYSTEM_USER = "postgres"
_START_TIMEOUT = 60.0
_DATABASES = itertools.count(1)


def postgres_bin_dir() -> Path | None:
    """Where Debian's PostgreSQL server binaries are (the newest version), if installed."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return versions[-1].parent if versions else None


def _run_as() -> str | None:
    """The user the server runs as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        return "missing"
    return _SYSTEM_USER


def postgres_missing_reason() -> str | None:
    """Why a PostgreSQL server cannot run here, or ``None`` when it can."""
    if postgres_bin_dir() is None:
        return ("PostgreSQL server binaries not found under /usr/lib/postgresql "
                "(install Debian's postgresql-15: scripts/install-system-deps.sh)")
    if _run_as() == "missing":
        return ("running as root and there is no 'postgres' user to run the server as "
                "(Debian's postgresql package creates it)")
    return None


class PostgresServer(ServerProcess):
    """A private PostgreSQL cluster in ``work``, served on a free port of 127.0.0.1.

    Args:
        work: a fresh directory for the cluster, its socket and its log (it is made
            accessible to the ``postgres`` user when running as root).
        fsync: PostgreSQL's ``fsync`` setting (on, as in production, unless asked).
    """

    #: fast shutdown: clients are disconnected and the cluster is left clean
    stop_signal = signal.SIGINT

    def __init__(self, work: Path, *, fsync: bool = True) -> None:
        reason = postgres_missing_reason()
        if reason:
            raise ServerStartError(reason)
        bin_dir = postgres_bin_dir()
        assert bin_dir is not None
        self.bin_dir = bin_dir
        self.work = work
        self.data_dir = work / "data"
        self.socket_dir = work / "socket"
        self.port = free_port()
        self._user = _run_as()
        argv = [str(bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                "-k", str(self.socket_dir), "-c", "listen_addresses=127.0.0.1",
                "-c", f"fsync={'on' if fsync else 'off'}", "-c", "max_connections=100"]
        super().__init__("postgres", argv, work / "postgres.log")
        self._initdb()

    def _popen_options(self) -> dict[str, object]:
        # cwd: the unprivileged user may not be allowed into the caller's directory (/root/...).
        options: dict[str, object] = {"cwd": self.work}
        if self._user:
            options["user"] = self._user
        return options

    def _initdb(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        pwfile = self.work / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if self._user:
            uid, gid = pwd.getpwnam(self._user).pw_uid, pwd.getpwnam(self._user).pw_gid
            for path in (self.work, self.socket_dir, pwfile):
                os.chown(path, uid, gid)
        argv = [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", USER,
                f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C", "--no-sync"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                              **self._popen_options())  # type: ignore[call-overload]
        if done.returncode != 0:
            msg = f"initdb failed (rc={done.returncode}):\n{done.stdout}\n{done.stderr}"
            raise ServerStartError(msg)

    def start(self) -> None:
        """Start the server as the unprivileged user and wait until it accepts connections."""
        self.log_path.touch()
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self.log_path, entry.pw_uid, entry.pw_gid)
        log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(  # type: ignore[call-overload]
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, **self._popen_options())
        finally:
            log.close()
        self.wait_ready(self._accepting, timeout=_START_TIMEOUT)

    def _accepting(self) -> bool:
        probe = subprocess.run([str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1",
                                "-p", str(self.port)], check=False, timeout=10)
        return probe.returncode == 0

    def restart(self) -> None:
        """Stop (fast) and start again on the same port, with the same data."""
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL with the password, over TCP."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> str:
        """Run ``sql`` with psql over the private socket; return its output."""
        done = subprocess.run(
            [str(self.bin_dir / "psql"), "-h", str(self.socket_dir), "-p", str(self.port),
             "-U", USER, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=60, check=False,
            **self._popen_options())  # type: ignore[call-overload]
        if done.returncode != 0:
            msg = f"psql failed: {done.stderr.strip()}"
            raise RuntimeError(msg)
        return str(done.stdout)

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its URL."""
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return self.url(name)


def _work_dir(prefix: str) -> Path:
    # Not under pytest's tmp_path: it is private to root (0700), so 'postgres' could not enter.
    return Path(tempfile.mkdtemp(prefix=prefix))


@contextlib.contextmanager
def running_postgres(prefix: str = "flume-pg-", *, fsync: bool = True) -> Iterator[PostgresServer]:
    """A started private cluster, stopped by pid and removed afterwards."""
    work = _work_dir(prefix)
    try:
        server = PostgresServer(work, fsync=fsync)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL cluster for the session (skips where it cannot run)."""
    reason = postgres_missing_reason()
    if reason:
        pytest.skip(reason)
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server, as a ``postgresql://`` URL."""
    return postgres_server.create_database(f"test_{next(_DATABASES)}")
