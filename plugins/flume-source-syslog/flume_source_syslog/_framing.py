"""Split a TCP byte stream into syslog messages, from large reads (never one readline per event).

Two framings, chosen per connection by the first byte the client sends (RFC 6587):

* octet counting (``"<len> <message>"``) when the first byte is a digit;
* newline-delimited otherwise (``\\n``; a ``\\r`` before it is dropped; empty lines are skipped).

A framer returns plain ``bytes`` for each complete message of at most ``max_size`` bytes. Longer
messages come out as :class:`Fragment` pieces of at most ``max_size`` bytes: the first piece is
parsed and flagged Incomplete, the rest keep the raw bytes, so nothing is silently dropped and
the buffer held per connection stays bounded by ``max_size`` whatever the client sends.
An octet-counting header that is not ``1*DIGIT SP`` switches the connection to newline framing.
"""

from __future__ import annotations

import attrs

__all__ = ["Fragment", "Frame", "LineFramer", "OctetFramer", "StreamFramer"]

_MAX_LENGTH_DIGITS = 10


@attrs.frozen(slots=True)
class Fragment:
    """A piece of a message longer than the size limit (or cut short by the connection closing).

    Attributes:
        data: at most ``max_size`` bytes of the message.
        first: the piece that starts the message (parsed for headers).
    """

    data: bytes
    first: bool


Frame = bytes | Fragment


def _pieces(data: bytes, max_size: int, first: bool) -> list[Frame]:
    return [
        Fragment(data[i : i + max_size], first and i == 0) for i in range(0, len(data), max_size)
    ]


class LineFramer:
    """Newline-delimited framing with a bounded pending buffer."""

    def __init__(self, max_size: int) -> None:
        self._max = max_size
        self._pending = b""
        self._continuing = False  # inside an over-long line whose head was already emitted

    def feed(self, data: bytes) -> list[Frame]:
        """Messages completed by ``data``; keeps the unterminated tail."""
        out: list[Frame] = []
        if self._continuing:
            data = self._continue(data, out)
            if not data:
                return out
        # split the read itself and glue the pending tail onto the first line only: joining
        # the tail and a 256 KiB read first would copy the whole read once more
        pending = self._pending
        lines: list[Frame] = data.split(b"\n")  # type: ignore[assignment]
        tail = lines.pop()
        assert isinstance(tail, bytes)
        if not lines:
            self._keep_tail(pending + tail, out)
            return out
        if pending:
            lines[0] = pending + lines[0]  # type: ignore[operator]
        # b"\r" is a memchr; empty lines are found in the list (searching the read for
        # b"\n\n" costs more than the split itself)
        if b"\r" in data or b"\r" in pending:
            lines = [line.removesuffix(b"\r") for line in lines]  # type: ignore[union-attr]
            lines = [line for line in lines if line]
        elif b"" in lines:
            lines = [line for line in lines if line]
        if lines and max(map(len, lines)) > self._max:  # type: ignore[arg-type]
            lines = self._cut_long(lines)  # type: ignore[arg-type]
        if out:
            out.extend(lines)
        else:
            out = lines
        self._keep_tail(tail, out)
        return out

    def finish(self) -> list[Frame]:
        """The unterminated tail at end of stream, as a last message."""
        tail, self._pending = self._pending.removesuffix(b"\r"), b""
        if not tail:
            return []
        if self._continuing:
            self._continuing = False
            return [Fragment(tail, False)]
        return [tail]

    def _continue(self, data: bytes, out: list[Frame]) -> bytes:
        newline = data.find(b"\n")
        piece = data if newline < 0 else data[:newline]
        buf = self._pending + piece
        if newline < 0:
            cut = len(buf) - len(buf) % self._max
            out.extend(_pieces(buf[:cut], self._max, False))
            self._pending = buf[cut:]
            return b""
        buf = buf.removesuffix(b"\r")
        out.extend(_pieces(buf, self._max, False))
        self._pending = b""
        self._continuing = False
        return data[newline + 1 :]

    def _cut_long(self, lines: list[bytes]) -> list[Frame]:
        out: list[Frame] = []
        for line in lines:
            if len(line) > self._max:
                out.extend(_pieces(line, self._max, True))
            else:
                out.append(line)
        return out

    def _keep_tail(self, tail: bytes, out: list[Frame]) -> None:
        if len(tail) <= self._max:
            self._pending = tail
            return
        cut = len(tail) - len(tail) % self._max
        if cut == len(tail):
            cut -= self._max
        out.extend(_pieces(tail[:cut], self._max, True))
        self._pending = tail[cut:]
        self._continuing = True


class OctetFramer:
    """RFC 6587 octet counting: ``MSG-LEN SP SYSLOG-MSG``, repeated."""

    def __init__(self, max_size: int) -> None:
        self._max = max_size
        self._buf = b""
        self._left = 0  # bytes still owed by an over-long frame being streamed out
        self._head_pending = False  # its first (parsed) piece is not out yet
        self._fallback: LineFramer | None = None

    @property
    def fell_back(self) -> bool:
        """True once a bad length header switched this connection to newline framing."""
        return self._fallback is not None

    def feed(self, data: bytes) -> list[Frame]:
        """Messages completed by ``data``."""
        if self._fallback is not None:
            return self._fallback.feed(data)
        out: list[Frame] = []
        buf = self._buf + data if self._buf else data
        pos, end = 0, len(buf)
        while True:
            if self._left:
                pos = self._stream_long(buf, pos, out)
                if self._left:
                    break
            if pos >= end:
                break
            space = buf.find(b" ", pos, pos + _MAX_LENGTH_DIGITS + 1)
            if space < 0:
                if end - pos > _MAX_LENGTH_DIGITS:
                    return self._fall_back(buf[pos:], out)
                break
            digits = buf[pos:space]
            if not digits.isdigit() or not digits.isascii():
                return self._fall_back(buf[pos:], out)
            length, start = int(digits), space + 1
            if length > self._max:
                self._left, self._head_pending, pos = length, True, start
                continue
            if end - start < length:
                break
            frame = buf[start : start + length].removesuffix(b"\n").removesuffix(b"\r")
            if frame:
                out.append(frame)
            pos = start + length
        self._buf = buf[pos:]
        return out

    def finish(self) -> list[Frame]:
        """A frame cut short by the end of the stream, flagged as a fragment."""
        if self._fallback is not None:
            return self._fallback.finish()
        rest, self._buf = self._buf, b""
        if self._left:
            self._left = 0
            return [Fragment(rest, self._head_pending)] if rest else []
        space = rest.find(b" ")
        body = rest[space + 1 :] if space > 0 and rest[:space].isdigit() else rest
        return [Fragment(body, True)] if body else []

    def _stream_long(self, buf: bytes, pos: int, out: list[Frame]) -> int:
        """Emit whole ``max_size`` pieces of an over-long frame; returns the new position."""
        size = self._max
        if self._head_pending:
            if min(len(buf) - pos, self._left) < min(size, self._left):
                return pos  # wait for a whole head piece so that it can be parsed
            out.append(Fragment(buf[pos : pos + size], True))
            pos, self._left, self._head_pending = pos + size, self._left - size, False
        available = min(len(buf) - pos, self._left)
        take = available if available == self._left else available - available % size
        out.extend(_pieces(buf[pos : pos + take], size, False))
        self._left -= take
        return pos + take

    def _fall_back(self, rest: bytes, out: list[Frame]) -> list[Frame]:
        self._buf = b""
        self._fallback = LineFramer(self._max)
        out.extend(self._fallback.feed(rest))
        return out


class StreamFramer:
    """Chooses octet counting or newline framing from the first byte of the connection."""

    def __init__(self, max_size: int) -> None:
        self._max = max_size
        self._framer: LineFramer | OctetFramer | None = None

    @property
    def octet_counting(self) -> bool:
        """Whether this connection was detected as RFC 6587 octet counting."""
        return isinstance(self._framer, OctetFramer)

    def feed(self, data: bytes) -> list[Frame]:
        """Messages completed by ``data``."""
        framer = self._framer
        if framer is None:
            if not data:
                return []
            framer = OctetFramer(self._max) if data[:1].isdigit() else LineFramer(self._max)
            self._framer = framer
        return framer.feed(data)

    def finish(self) -> list[Frame]:
        """Whatever the stream left unterminated."""
        return self._framer.finish() if self._framer is not None else []
