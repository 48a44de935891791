"""Event deserializers for the ``spooldir`` source: LINE, AVRO and BLOB.

A deserializer turns one open binary file into events, a batch at a time, and
reports a :class:`Mark` after each batch: the position just past the events
returned so far. The source saves the mark of the last *committed* batch in its
tracker and, after a crash, calls :meth:`Deserializer.seek` with it, so a file
resumes exactly where its committed events end.

* ``LINE`` - one event per line (``\\n``); a line longer than ``maxLineLength``
  characters is split. Bytes are decoded with the source's ``inputCharset`` and
  ``decodeErrorPolicy`` and re-encoded with ``outputCharset``.
* ``AVRO`` - one event per record of an Avro object container file; the body is
  the record in Avro binary, with the schema hash or literal in a header.
* ``BLOB`` - the whole file as one event (split every ``maxBlobLength`` bytes).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, ClassVar, Protocol

import attrs
import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from flume_sdk import Event, FlumeError, at_least, one_of, parse_settings, setting

__all__ = [
    "DESERIALIZERS",
    "AvroDeserializer",
    "BlobDeserializer",
    "DecodeError",
    "Deserializer",
    "LineDeserializer",
    "Mark",
    "build_deserializer",
    "deserializer_class",
]

_CHUNK = 1 << 18


class DecodeError(FlumeError, ValueError):
    """Bytes in the file could not be decoded and ``decodeErrorPolicy`` is FAIL."""


@attrs.frozen
class Mark:
    """A resumable position: a byte offset plus records to skip after it (AVRO blocks)."""

    offset: int = 0
    skip: int = 0


class Deserializer(Protocol):
    """What the spooldir source asks of a deserializer."""

    def read_events(self, count: int) -> list[Event]:
        """Up to ``count`` events; an empty list at the end of the file."""
        ...

    @property
    def mark(self) -> Mark:
        """The position just past the last event returned."""
        ...

    def seek(self, mark: Mark) -> None:
        """Continue from ``mark`` (a mark this deserializer reported earlier)."""
        ...


@attrs.frozen(kw_only=True)
class Decoding:
    """How the source decodes text: ``inputCharset`` and ``decodeErrorPolicy``."""

    charset: str = "utf-8"
    policy: str = "FAIL"

    @property
    def errors(self) -> str:
        return {"FAIL": "strict", "REPLACE": "replace", "IGNORE": "ignore"}[self.policy.upper()]


# -- LINE -------------------------------------------------------------------------------------


def _valid_charset(_inst: Any, attr: Any, value: str) -> None:
    try:
        codecs.lookup(value)
    except LookupError:
        msg = f"must be a known charset such as UTF-8 or ISO-8859-1 (got {value!r})"
        raise ValueError(msg) from None


@attrs.frozen(kw_only=True)
class LineSettings:
    max_line_length: int = setting(default=2048, validator=at_least(1),
                                   help="longest event in characters; longer lines are split")
    output_charset: str = setting(default="UTF-8", validator=_valid_charset,
                                  help="charset of the event bodies")


class LineDeserializer:
    """One event per ``\\n``-terminated line; a final line without ``\\n`` is an event too.

    Like Flume, a ``\\r`` before the ``\\n`` stays in the body. When input and output
    charsets are the same codec, valid bytes pass through without re-encoding.
    """

    Settings: ClassVar[type] = LineSettings

    def __init__(self, stream: BinaryIO, settings: LineSettings, decoding: Decoding) -> None:
        self._stream = stream
        self._limit = settings.max_line_length
        self._decoding = decoding
        self._in = codecs.lookup(decoding.charset).name
        self._out = codecs.lookup(settings.output_charset).name
        self._lines: list[bytes] = []
        self._next = 0
        self._tail = b""
        self._eof = False
        self._unterminated = False
        self._offset = stream.tell()

    @property
    def mark(self) -> Mark:
        return Mark(self._offset)

    def seek(self, mark: Mark) -> None:
        self._stream.seek(mark.offset)
        self._offset = mark.offset
        self._lines, self._next, self._tail = [], 0, b""
        self._eof = self._unterminated = False

    def read_events(self, count: int) -> list[Event]:
        while self._next >= len(self._lines) and not self._eof:
            self._fill()
        lines = self._lines[self._next:self._next + count]
        self._next += len(lines)
        if not lines:
            return []
        start = self._offset
        self._offset += sum(map(len, lines)) + len(lines)
        if self._unterminated and self._next >= len(self._lines):
            self._offset -= 1
        return self._to_events(lines, start)

    def _fill(self) -> None:
        chunk = self._stream.read(_CHUNK)
        if chunk:
            *self._lines, self._tail = (self._tail + chunk).split(b"\n")
        else:
            self._eof = True
            self._unterminated = bool(self._tail)
            self._lines, self._tail = ([self._tail] if self._tail else []), b""
        self._next = 0

    def _to_events(self, lines: list[bytes], start: int) -> list[Event]:
        errors = self._decoding.errors
        if self._in == self._out:
            try:
                b"\n".join(lines).decode(self._in)
            except UnicodeDecodeError:
                if errors == "strict":
                    raise self._failure(lines, start) from None
            else:
                return self._split_long([Event(line) for line in lines])
        if errors == "strict":
            try:
                texts = [line.decode(self._in) for line in lines]
            except UnicodeDecodeError:
                raise self._failure(lines, start) from None
        else:
            texts = [line.decode(self._in, errors) for line in lines]
        return self._split_long([Event(text.encode(self._out, "replace")) for text in texts])

    def _failure(self, lines: list[bytes], start: int) -> DecodeError:
        offset = start
        for line in lines:
            try:
                line.decode(self._in)
            except UnicodeDecodeError as exc:
                msg = (f"bytes at offset {offset + exc.start} are not valid {self._in} "
                       f"(decodeErrorPolicy = FAIL; use REPLACE or IGNORE to accept them)")
                return DecodeError(msg)
            offset += len(line) + 1
        return DecodeError(f"undecodable {self._in} bytes near offset {start}")

    def _split_long(self, events: list[Event]) -> list[Event]:
        limit = self._limit
        if all(len(e.body) <= limit for e in events):
            return events
        out: list[Event] = []
        for event in events:
            if len(event.body) <= limit:
                out.append(event)
                continue
            text = event.body.decode(self._out, "replace")
            out.extend(Event(text[i:i + limit].encode(self._out, "replace"))
                       for i in range(0, len(text), limit))
        return out


# -- BLOB -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BlobSettings:
    max_blob_length: int = setting(default=100_000_000, validator=at_least(1),
                                   help="largest event in bytes; a bigger file gives several")


class BlobDeserializer:
    """The whole file as one event; files over ``maxBlobLength`` give one event per chunk."""

    Settings: ClassVar[type] = BlobSettings

    def __init__(self, stream: BinaryIO, settings: BlobSettings, decoding: Decoding) -> None:
        self._stream = stream
        self._limit = settings.max_blob_length
        self._offset = stream.tell()

    @property
    def mark(self) -> Mark:
        return Mark(self._offset)

    def seek(self, mark: Mark) -> None:
        self._stream.seek(mark.offset)
        self._offset = mark.offset

    def read_events(self, count: int) -> list[Event]:
        events = []
        for _ in range(count):
            body = self._stream.read(self._limit)
            if not body:
                break
            self._offset += len(body)
            events.append(Event(body))
        return events


# -- AVRO -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AvroSettings:
    schema_type: str = setting(default="HASH", validator=one_of("HASH", "LITERAL"),
                               help="put the schema's hash or its JSON in a header")


class AvroDeserializer:
    """One event per record of an Avro container file (Flume's ``AvroEventDeserializer``).

    The body is the record in Avro binary encoding with the file's schema. The
    header ``flume.avro.schema.hash`` holds the CRC-64-AVRO fingerprint of the
    schema's canonical form (``schemaType = HASH``), or ``flume.avro.schema.literal``
    the schema JSON (``LITERAL``). Marks are a block's offset plus records into it.
    """

    Settings: ClassVar[type] = AvroSettings

    def __init__(self, stream: BinaryIO, settings: AvroSettings, decoding: Decoding) -> None:
        self._stream = stream
        try:
            self._reader = fastavro.block_reader(stream)
        except Exception as exc:
            msg = f"not an Avro object container file: {exc}"
            raise DecodeError(msg) from exc
        self._schema = fastavro.parse_schema(self._reader.writer_schema)
        self._header = self._schema_header(settings.schema_type)
        self._blocks = iter(self._reader)
        self._records: list[Any] = []
        self._block = Mark(stream.tell(), 0)
        self._index = 0
        self._target: Mark | None = None

    def _schema_header(self, schema_type: str) -> dict[str, str]:
        if schema_type.upper() == "LITERAL":
            return {"flume.avro.schema.literal": self._reader.metadata["avro.schema"]}
        canonical = to_parsing_canonical_form(self._schema)
        return {"flume.avro.schema.hash": fingerprint(canonical, "CRC-64-AVRO")}

    @property
    def mark(self) -> Mark:
        if self._target is not None:
            return self._target
        return Mark(self._block.offset, self._index)

    def seek(self, mark: Mark) -> None:
        self._target = mark

    def read_events(self, count: int) -> list[Event]:
        events: list[Event] = []
        while len(events) < count:
            if self._index >= len(self._records) and not self._next_block():
                break
            take = self._records[self._index:self._index + count - len(events)]
            self._index += len(take)
            events.extend(Event(self._encode(r), dict(self._header)) for r in take)
        return events

    def _next_block(self) -> bool:
        while True:
            try:
                block = next(self._blocks)
            except StopIteration:
                return False
            except Exception as exc:
                msg = f"corrupt Avro block after offset {self._block.offset}: {exc}"
                raise DecodeError(msg) from exc
            skip, target = 0, self._target
            if target is not None:
                if block.offset < target.offset:
                    continue
                skip = target.skip if block.offset == target.offset else 0
                self._target = None
            self._records = list(block)
            self._block, self._index = Mark(block.offset), min(skip, len(self._records))
            if self._index < len(self._records):
                return True

    def _encode(self, record: Any) -> bytes:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, self._schema, record)
        return out.getvalue()


# -- choosing one -----------------------------------------------------------------------------

DeserializerFactory = Callable[[BinaryIO, Any, Decoding], Deserializer]

DESERIALIZERS: dict[str, type] = {
    "line": LineDeserializer,
    "org.apache.flume.serialization.linedeserializer$builder": LineDeserializer,
    "avro": AvroDeserializer,
    "org.apache.flume.serialization.avroeventdeserializer$builder": AvroDeserializer,
    "blob": BlobDeserializer,
    "org.apache.flume.sink.solr.morphline.blobdeserializer$builder": BlobDeserializer,
}
"""Flume's names (case-insensitive) to deserializer classes."""


def deserializer_class(name: str) -> type:
    """The class for ``deserializer = name``: an alias, a Flume builder class, or ``module:Class``.

    Raises:
        ValueError: the name is unknown or the class cannot be imported.
    """
    cls = DESERIALIZERS.get(name.strip().lower())
    if cls is not None:
        return cls
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(__import__(module, fromlist=[attr]), attr)  # type: ignore[no-any-return]
        except (ImportError, AttributeError) as exc:
            msg = f"cannot import deserializer {name!r}: {exc}"
            raise ValueError(msg) from exc
    msg = f"must be LINE, AVRO, BLOB or package.module:Class (got {name!r})"
    raise ValueError(msg)


def build_deserializer(name: str, properties: Mapping[str, str], *,
                       component: str) -> Callable[[BinaryIO, Decoding], Deserializer]:
    """Validate ``deserializer.*`` properties now; return a factory for open files.

    Raises:
        ConfigurationError: an unknown or invalid ``deserializer.*`` key.
    """
    cls = deserializer_class(name)
    settings = parse_settings(getattr(cls, "Settings"), dict(properties),  # noqa: B009
                              component=f"{component}.deserializer")
    return lambda stream, decoding: cls(stream, settings, decoding)
