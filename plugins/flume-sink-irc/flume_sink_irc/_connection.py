"""One IRC client connection: register, join, and send lines the server acknowledged.

IRC has no acknowledgement for ``PRIVMSG``. A server handles one client's
commands in order, so the sink sends a ``PING`` with a unique token after each
window of messages and waits for its ``PONG``: when the ``PONG`` arrives, every
message before it was processed (relayed to the channel, or answered with an
error numeric, which fails the window). The window also paces the sink to the
server's flood control: at most ``window`` messages are ever waiting in the
server's receive queue, so a throttling server (ngircd: about 3 commands a
second for ordinary users) slows the sink down instead of disconnecting it.
"""

from __future__ import annotations

import itertools
import logging
import select
import socket
import time
from collections.abc import Callable, Sequence

import attrs

from flume_sdk import FlumeError

__all__ = ["IrcConnection", "IrcError", "IrcLine", "parse_line"]

log = logging.getLogger(__name__)

_REGISTERED = "001"
_NICK_TAKEN = ("433", "436")
_BAD_NICK = "432"
_JOIN_FAILURES = ("403", "405", "437", "471", "473", "474", "475", "476", "477", "479")
_JOINED = "366"


class IrcError(FlumeError):
    """The server refused, closed or did not answer in time; the message says which."""


@attrs.frozen
class IrcLine:
    """One parsed line: ``:prefix COMMAND params... :trailing``."""

    prefix: str
    command: str
    params: tuple[str, ...]

    @property
    def nick(self) -> str:
        return self.prefix.split("!", 1)[0]

    @property
    def is_error(self) -> bool:
        return self.command.isdigit() and self.command[0] in "45"


def parse_line(raw: bytes) -> IrcLine:
    """Parse one line (without CR LF); tolerant of anything a server may send."""
    text = raw.decode("utf-8", errors="replace")
    prefix = ""
    if text.startswith(":"):
        prefix, _, text = text[1:].partition(" ")
    head, sep, trailing = text.partition(" :")
    words = head.split()
    params = (*words[1:], trailing) if sep else tuple(words[1:])
    return IrcLine(prefix, words[0].upper() if words else "", params)


class IrcConnection:
    """A registered client joined to ``chan``; not thread-safe (the sink's runner owns it).

    Args:
        host: server host name.
        port: server port.
        nick: nickname (``_`` is appended when the server says it is in use).
        user: user name for ``USER``.
        realname: real name for ``USER``.
        password: server password (``PASS``), or empty.
        chan: channel to join, with its ``#``.
        timeout: seconds for connecting, registering and joining.
        ack_timeout: seconds to wait for each window's ``PONG``.
        window: messages sent before waiting for the server's ``PONG``.
    """

    def __init__(self, host: str, port: int, *, nick: str, user: str, realname: str,
                 password: str, chan: str, timeout: float, ack_timeout: float,
                 window: int) -> None:
        self.address = (host, port)
        self.nick = nick
        self._user, self._realname, self._password = user, realname, password
        self.chan = chan
        self._timeout = timeout
        self._ack_timeout = ack_timeout
        self._window = window
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._tokens = itertools.count(1)

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def open(self) -> None:
        """Connect, register and join; raises :class:`IrcError` (the socket is closed then)."""
        try:
            self._sock = socket.create_connection(self.address, timeout=self._timeout)
            self._register()
            self._join()
        except OSError as exc:
            self.close()
            msg = f"cannot connect to IRC server {self._where()}: {exc}"
            raise IrcError(msg) from exc
        except IrcError:
            self.close()
            raise

    def send(self, texts: Sequence[str]) -> None:
        """``PRIVMSG`` each text to the channel; returns once the server processed them all."""
        for start in range(0, len(texts), self._window):
            window = texts[start:start + self._window]
            token = f"flume-{next(self._tokens)}"
            data = b"".join(f"PRIVMSG {self.chan} :{text}\r\n".encode() for text in window)
            self._write(data + f"PING :{token}\r\n".encode())
            self._await(_pong_for(token), f"the PONG for {len(window)} message(s)",
                        fail_on_error=True, timeout=self._ack_timeout)

    def service(self) -> None:
        """Answer the server's PINGs and notice a closed connection, without blocking."""
        sock = self._require()
        while select.select([sock], [], [], 0)[0]:
            if not self._fill():
                return
            for line in self._drain():
                self._handle_idle(line)

    def close(self, reason: str = "") -> None:
        """Send ``QUIT`` (best effort) and close; idempotent."""
        sock, self._sock, self._buffer = self._sock, None, b""
        if sock is None:
            return
        if reason:
            try:
                sock.settimeout(1.0)
                sock.sendall(f"QUIT :{reason}\r\n".encode())
            except OSError:
                pass
        sock.close()

    # -- registration ------------------------------------------------------------------------

    def _register(self) -> None:
        if self._password:
            self._write(f"PASS {self._password}\r\n".encode())
        self._write(f"NICK {self.nick}\r\nUSER {self._user} 0 * :{self._realname}\r\n".encode())
        wanted, alternatives = self.nick, _alternatives(self.nick)
        while True:
            line = self._await(lambda ln: ln.command == _REGISTERED or ln.command in _NICK_TAKEN
                               or ln.is_error, "the welcome (001)")
            if line.command == _REGISTERED:
                self.nick = line.params[0] if line.params else self.nick
                return
            retry = line.command in _NICK_TAKEN or (line.command == _BAD_NICK
                                                     and self.nick != wanted)
            if not retry or not alternatives:
                msg = f"IRC server {self._where()} refused registration: {_describe(line)}"
                raise IrcError(msg)
            self.nick = alternatives.pop(0)
            log.warning("IRC nick %r is not available on %s (%s); trying %r", wanted,
                        self._where(), _describe(line), self.nick)
            self._write(f"NICK {self.nick}\r\n".encode())

    def _join(self) -> None:
        self._write(f"JOIN {self.chan}\r\n".encode())
        line = self._await(lambda ln: ln.command == _JOINED or ln.command in _JOIN_FAILURES,
                           f"joining {self.chan}")
        if line.command != _JOINED:
            msg = f"IRC server {self._where()} refused to let {self.nick!r} join: {_describe(line)}"
            raise IrcError(msg)

    # -- reading and writing ------------------------------------------------------------------

    def _await(self, wanted: Callable[[IrcLine], bool], what: str, *,
               fail_on_error: bool = False, timeout: float | None = None) -> IrcLine:
        sock = self._require()
        timeout = self._timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            for line in self._drain():
                if wanted(line):
                    return line
                if fail_on_error and line.is_error:
                    msg = f"IRC server {self._where()} refused a message: {_describe(line)}"
                    raise IrcError(msg)
                self._handle_idle(line)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                msg = (f"IRC server {self._where()} did not answer within "
                       f"{timeout:g}s while waiting for {what}")
                raise IrcError(msg)
            if not self._fill():
                msg = f"IRC server {self._where()} closed the connection while waiting for {what}"
                raise IrcError(msg)

    def _handle_idle(self, line: IrcLine) -> None:
        if line.command == "PING":
            self._write(f"PONG :{line.params[-1] if line.params else ''}\r\n".encode())
        elif line.command == "ERROR":
            msg = f"IRC server {self._where()} closed the connection: {_describe(line)}"
            raise IrcError(msg)
        elif line.command == "KICK" and line.params[1:2] == (self.nick,):
            msg = f"{self.nick!r} was kicked from {self.chan} on {self._where()}: {_describe(line)}"
            raise IrcError(msg)

    def _fill(self) -> bool:
        """Read what is there; ``False`` when the server closed the connection."""
        try:
            chunk = self._require().recv(65536)
        except OSError as exc:
            msg = f"IRC server {self._where()}: {exc}"
            raise IrcError(msg) from exc
        self._buffer += chunk
        return bool(chunk)

    def _drain(self) -> list[IrcLine]:
        *complete, self._buffer = self._buffer.split(b"\n")
        return [parse_line(raw.rstrip(b"\r")) for raw in complete if raw.strip()]

    def _write(self, data: bytes) -> None:
        try:
            self._require().sendall(data)
        except OSError as exc:
            msg = f"cannot write to IRC server {self._where()}: {exc}"
            raise IrcError(msg) from exc

    def _require(self) -> socket.socket:
        if self._sock is None:
            msg = f"not connected to IRC server {self._where()}"
            raise IrcError(msg)
        return self._sock

    def _where(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"


def _pong_for(token: str) -> Callable[[IrcLine], bool]:
    return lambda line: line.command == "PONG" and line.params[-1:] == (token,)


def _alternatives(nick: str) -> list[str]:
    """Nicks to try when ``nick`` is taken: ``_`` appended, then replacing its last characters
    (servers limit the length, RFC 2812 to 9)."""
    return [nick + "_", nick[:-1] + "_", nick[:-2] + "__", nick[:-3] + "___"]


def _describe(line: IrcLine) -> str:
    params = line.params[1:] if line.command.isdigit() else line.params  # drop our own nick
    return " ".join((line.command, *params))
