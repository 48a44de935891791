"""A real IRC server (Debian's ``ngircd``) with a private configuration, and a listening client.

:class:`Ngircd` runs ``ngircd -n`` on a free 127.0.0.1 port with its own
configuration, pid file and (empty) include directory: no DNS, ident or PAM
look-ups. By default its flood protection is relaxed (``MaxPenaltyTime = 0``:
no penalty delays, so tests run fast); ``flood_protection=True`` keeps ngircd's
defaults (about 3 commands and 256 bytes a second for an ordinary user, more
is queued, not refused). It is stopped by its own pid and can be restarted on the
same port.

:class:`IrcListener` is a second client joined to the channel that records every
``PRIVMSG`` it sees; :meth:`IrcListener.sync` returns once everything the server
relayed before the call has been read (a ``PING``/``PONG`` round trip).

Fixture ``ngircd`` (function scope) skips with the reason when ngircd is not
installed (``scripts/install-system-deps.sh`` installs it).
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flume_testkit.servers._process import ServerProcess, free_port

__all__ = ["IrcListener", "Ngircd", "ngircd", "ngircd_path"]

_CONFIG = """\
[Global]
Name = irc.flume.test
Info = flume-testkit IRC server
Listen = 127.0.0.1
Ports = {port}
PidFile = {work}/ngircd.pid
MotdPhrase = "flume-testkit"
{password}
[Limits]
MaxConnectionsIP = 0
MaxJoins = 0
MaxPenaltyTime = {penalty}
PingTimeout = {ping}
PongTimeout = {pong}
[Options]
DNS = no
Ident = no
PAM = no
IncludeDir = {work}/conf.d
"""


def ngircd_path() -> str | None:
    """Where ``ngircd`` is, or ``None``."""
    found = shutil.which("ngircd")
    if found:
        return found
    return "/usr/sbin/ngircd" if Path("/usr/sbin/ngircd").exists() else None


class Ngircd(ServerProcess):
    """One private ngircd on :attr:`port`.

    Args:
        work: directory for its configuration, pid file and log.
        binary: the ngircd executable.
        flood_protection: keep ngircd's default throttling (``False``: ``MaxPenaltyTime = 0``).
        password: a server password clients must send with ``PASS`` (none by default).
        ping_timeout: seconds of silence before the server PINGs a client, which must answer
            within as many seconds again, at most 20 (ngircd's defaults: 120 and 20; its
            minimum: 5 and 5).
    """

    def __init__(self, work: Path, binary: str, *, flood_protection: bool = False,
                 password: str = "", ping_timeout: int = 120) -> None:
        (work / "conf.d").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.password = password
        conf = work / "ngircd.conf"
        conf.write_text(_CONFIG.format(
            port=self.port, work=work, penalty=-1 if flood_protection else 0,
            ping=ping_timeout, pong=min(ping_timeout, 20),
            password=f"Password = {password}" if password else ""))
        super().__init__("ngircd", [binary, "-n", "-f", str(conf)], work / "ngircd.log")

    def restart(self) -> None:
        """Stop and start again on the same port (clients are disconnected)."""
        self.stop()
        self.start_and_wait()

    def answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2):
            return True


class IrcListener:
    """A client joined to ``chan`` that records the text of every ``PRIVMSG`` sent there.

    Args:
        port: the server's port on 127.0.0.1.
        chan: channel to join (with its ``#``).
        nick: this client's nick.
        password: server password, if any.
    """

    def __init__(self, port: int, chan: str, nick: str = "listener", password: str = "") -> None:
        self.port, self.chan, self.nick, self._password = port, chan, nick, password
        self.messages: list[str] = []
        self.senders: list[str] = []
        self._lock = threading.Condition()
        self._pongs: set[str] = set()
        self._moderate_at: int | None = None
        self._tokens = itertools.count()
        self._sock: socket.socket | None = None
        self._alive = False
        self._thread: threading.Thread | None = None

    def connect(self, timeout: float = 10.0) -> IrcListener:
        """Connect, register and join; returns once joined."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        hello = f"PASS {self._password}\r\n" if self._password else ""
        sock.sendall(f"{hello}NICK {self.nick}\r\nUSER {self.nick} 0 * :listener\r\n"
                     f"JOIN {self.chan}\r\n".encode())
        buffer = b""
        deadline = time.monotonic() + timeout
        while f" 366 {self.nick} ".encode() not in buffer:
            if time.monotonic() > deadline:
                msg = f"listener could not join {self.chan}: {buffer[-400:]!r}"
                raise TimeoutError(msg)
            chunk = sock.recv(65536)
            if not chunk:
                msg = f"server closed the listener's connection: {buffer[-400:]!r}"
                raise ConnectionError(msg)
            buffer += chunk
        sock.settimeout(None)
        self._sock, self._alive = sock, True
        self._thread = threading.Thread(target=self._read, args=(sock,), daemon=True,
                                        name="irc-listener")
        self._thread.start()
        return self

    def sync(self, timeout: float = 30.0) -> list[str]:
        """Every message so far, after reading all that the server relayed before this call."""
        token = f"sync-{next(self._tokens)}"
        if self._sock is not None and self._alive:
            self._sock.sendall(f"PING :{token}\r\n".encode())
            with self._lock:
                self._lock.wait_for(lambda: token in self._pongs or not self._alive,
                                    timeout=timeout)
        with self._lock:
            return list(self.messages)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[str]:
        """Wait until at least ``count`` messages arrived (bounded); returns them all."""
        with self._lock:
            self._lock.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)

    def set_mode(self, mode: str) -> None:
        """``MODE <chan> <mode>`` (the first client in a channel is its operator)."""
        if self._sock is not None and self._alive:
            self._sock.sendall(f"MODE {self.chan} {mode}\r\n".encode())

    def moderate_after(self, count: int) -> None:
        """Set the channel moderated (``+m``: others cannot speak) once ``count`` more messages
        arrived, so a sender fails part-way through a batch (``set_mode("-m")`` undoes it)."""
        with self._lock:
            self._moderate_at = len(self.messages) + count

    def close(self) -> None:
        sock, self._sock, self._alive = self._sock, None, False
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _read(self, sock: socket.socket) -> None:
        buffer = b""
        try:
            while chunk := sock.recv(65536):
                *lines, buffer = (buffer + chunk).split(b"\r\n")
                for line in lines:
                    self._handle(sock, line.decode("utf-8", errors="replace"))
        except OSError:
            pass
        with self._lock:
            if self._sock is sock:
                self._alive = False
            self._lock.notify_all()

    def _handle(self, sock: socket.socket, line: str) -> None:
        prefix, _, rest = line[1:].partition(" ") if line.startswith(":") else ("", "", line)
        command, _, params = rest.partition(" ")
        if command == "PING":
            sock.sendall(f"PONG {params}\r\n".encode())
            return
        with self._lock:
            if command == "PRIVMSG" and params.split(" ", 1)[0].lower() == self.chan.lower():
                self.messages.append(params.partition(" :")[2])
                self.senders.append(prefix.split("!", 1)[0])
                if self._moderate_at is not None and len(self.messages) >= self._moderate_at:
                    self._moderate_at = None
                    sock.sendall(f"MODE {self.chan} +m\r\n".encode())
            elif command == "PONG":
                self._pongs.add(params.rpartition(":")[2])
            self._lock.notify_all()


@pytest.fixture
def ngircd(tmp_path: Path) -> Iterator[Ngircd]:
    """A started private ngircd with relaxed flood protection; skips when it is not installed."""
    binary = ngircd_path()
    if binary is None:
        pytest.skip("ngircd is not installed (Debian: ngircd; scripts/install-system-deps.sh)")
    server = Ngircd(tmp_path / "ngircd", binary)
    server.start_and_wait()
    yield server
    server.stop()
