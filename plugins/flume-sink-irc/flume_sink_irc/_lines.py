"""From an event body to the texts of IRC ``PRIVMSG`` lines.

IRC forbids CR, LF and NUL inside a message and limits a line to 512 bytes,
including the prefix the server adds when it relays the line to the channel's
members. Flume's sink ignores both (a body with a newline injects raw IRC
commands; an over-long line is cut or refused by the server); this module
makes every body safe:

* the body is decoded as UTF-8, invalid bytes replaced (Flume: ``new String(body)``);
* with ``splitlines`` the text is split by the ``splitchars`` regular expression, as
  Flume's ``String.split`` does; without it, and after it, CR/LF always end a line;
* NUL becomes U+FFFD; empty lines are skipped (servers answer "no text to send");
* a line longer than the byte budget is cut into several messages at UTF-8
  character boundaries.
"""

from __future__ import annotations

import re

__all__ = ["LINE_LIMIT", "message_texts", "text_budget"]

#: RFC 1459/2812's line limit, CR LF included.
LINE_LIMIT = 512
#: Room kept for the ``!user@host`` a server puts in the prefix of a relayed line (host ≤ 63).
_HOST_ROOM = 64
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def text_budget(nick: str, user: str, chan: str) -> int:
    """Most UTF-8 bytes of text per message so the relayed line fits in 512 bytes.

    The relayed line is ``:nick!~user@host PRIVMSG chan :text\\r\\n``.
    """
    fixed = len(f":{nick}!~{user}@ PRIVMSG {chan} :\r\n".encode()) + _HOST_ROOM
    return max(LINE_LIMIT - fixed, 16)


def message_texts(body: bytes, split: re.Pattern[str] | None, budget: int) -> list[str]:
    """The message texts ``body`` becomes, in order (empty for an empty body)."""
    text = body.decode("utf-8", errors="replace").replace("\0", "\ufffd")
    pieces = split.split(text) if split is not None else [text]
    out: list[str] = []
    for piece in pieces:
        for line in _LINE_BREAK.split(piece):
            if line:
                out.extend(_cut(line, budget))
    return out


def _cut(line: str, budget: int) -> list[str]:
    data = line.encode()
    if len(data) <= budget:
        return [line]
    chunks: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + budget, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # never cut inside a UTF-8 character
        chunks.append(data[start:end].decode())
        start = end
    return chunks
