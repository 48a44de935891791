"""``SerializerContract``: what every event serializer promises.

Subclass it and provide ``make_serializer``: ``(out, **overrides) -> serializer``
writing to the binary stream ``out``. Optionally provide ``read_events``
(``bytes -> list[Event]``, a reader for your format) so output is checked to
round-trip; without it the round-trip checks skip, saying so. Set
``round_trip_headers = False`` if the format keeps bodies only, and override
``serializer_events`` if your format cannot carry some edge case (say why).

Each check runs a serializer the way a sink does in the agent: created, written and
flushed on the sink's runner thread, and closed (``before_close``) on the agent's main
thread, as a sink's ``stop()`` finishes its open file there.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import pytest

from flume_sdk import Event, EventSerializer
from flume_testkit.contracts._base import ContractBase, broken, promise
from flume_testkit.drivers import THREAD_RULE, run_in_thread
from flume_testkit.events import EventFactory

__all__ = ["SerializerContract"]

SerializerFactory = Callable[..., EventSerializer]
Reader = Callable[[bytes], list[Event]]
T = TypeVar("T")

_RUNNER = "sink-k1"
_THREAD_PROMISE = ("a serializer written on the sink's runner thread must close on the agent's "
                   "main thread (a sink's stop() finishes its open file there)")


class SerializerContract(ContractBase):
    """Contract suite for event serializers.

    Attributes:
        round_trip_headers: the format carries headers (else only bodies are compared).
    """

    round_trip_headers: ClassVar[bool] = True

    @pytest.fixture
    def make_serializer(self) -> SerializerFactory:
        """Override: ``(out, **overrides) -> serializer``."""
        pytest.fail("SerializerContract needs a make_serializer fixture")

    @pytest.fixture
    def read_events(self) -> Reader | None:
        """Override with a reader for the format; ``None`` skips the round-trip checks."""
        return None

    @pytest.fixture
    def serializer_events(self) -> list[Event]:
        """Override to narrow the events, saying in a comment why your format cannot carry one."""
        factory = EventFactory("ser")
        return [*factory.edge_case_list(), *factory.batch(5)]

    def _comparable(self, events: list[Event]) -> list[Any]:
        return [(e.body, e.headers) if self.round_trip_headers else e.body for e in events]

    def _require_reader(self, read_events: Reader | None) -> Reader:
        if read_events is None:
            pytest.skip("no read_events fixture: this format has no reader to round-trip with")
        return read_events

    @staticmethod
    def _on_runner(fn: Callable[[], T]) -> T:
        """Run ``fn`` on a thread named as a sink's runner (the serializer's working thread)."""
        return run_in_thread(fn, name=_RUNNER)

    def _opened(self, make_serializer: SerializerFactory, out: io.BytesIO,
                events: list[Event], *, reopen: bool = False) -> EventSerializer:
        """Create (or reopen), write and flush on the runner thread; the file is still open."""
        def work() -> EventSerializer:
            serializer = make_serializer(out)
            if reopen:
                serializer.after_reopen()
            else:
                serializer.after_create()
            for event in events:
                serializer.write(event)
            serializer.flush()
            return serializer
        return self._on_runner(work)

    def _session(self, make_serializer: SerializerFactory, out: io.BytesIO,
                 events: list[Event], *, reopen: bool = False) -> bytes:
        """One file's life: open, write and flush on the runner, close on the main thread;
        return the bytes so far."""
        serializer = self._opened(make_serializer, out, events, reopen=reopen)
        self._close_on_main(serializer)
        return out.getvalue()

    @staticmethod
    def _close_on_main(serializer: EventSerializer) -> None:
        try:
            serializer.before_close()
        except Exception as exc:
            pytest.fail(broken(_THREAD_PROMISE, f"before_close() on the main thread raised "
                               f"{exc!r} [thread rule: {THREAD_RULE}]"))

    @promise("after_create, write, flush, before_close must put the events on the stream")
    def test_full_hook_sequence_writes_the_events(
        self, make_serializer: SerializerFactory, serializer_events: list[Event]
    ) -> None:
        data = self._session(make_serializer, io.BytesIO(), serializer_events)
        assert data, broken("after_create, write, flush, before_close must put the events "
                            "on the stream", "the stream is empty")

    @promise("flush() must push every written event to the stream and before_close() may only "
             "append a trailer")
    def test_before_close_only_appends(
        self, make_serializer: SerializerFactory, serializer_events: list[Event]
    ) -> None:
        out = io.BytesIO()
        serializer = self._opened(make_serializer, out, serializer_events)
        flushed = out.getvalue()
        self._close_on_main(serializer)
        assert flushed and out.getvalue().startswith(flushed), broken(
            "flush() must push every written event to the stream and before_close() may only "
            "append a trailer", f"{len(flushed)} bytes after flush, {len(out.getvalue())} after "
            "before_close")

    @promise("what a serializer writes must read back as the same events")
    def test_round_trip_keeps_every_event(
        self, make_serializer: SerializerFactory, serializer_events: list[Event],
        read_events: Reader | None,
    ) -> None:
        reader = self._require_reader(read_events)
        data = self._session(make_serializer, io.BytesIO(), serializer_events)
        got = reader(data)
        assert self._comparable(got) == self._comparable(serializer_events), broken(
            "what a serializer writes must read back as the same events",
            f"wrote {len(serializer_events)}, read {len(got)}")

    @promise("write_batch(events) must write the same events as write() one by one")
    def test_write_batch_equals_writes(
        self, make_serializer: SerializerFactory, serializer_events: list[Event],
        read_events: Reader | None,
    ) -> None:
        reader = self._require_reader(read_events)
        out = io.BytesIO()

        def work() -> EventSerializer:
            serializer = make_serializer(out)
            serializer.after_create()
            serializer.write_batch(list(serializer_events))
            serializer.flush()
            return serializer
        self._close_on_main(self._on_runner(work))
        got = reader(out.getvalue())
        assert self._comparable(got) == self._comparable(serializer_events), broken(
            "write_batch(events) must write the same events as write() one by one",
            f"wrote {len(serializer_events)}, read {len(got)}")

    @promise("a serializer that supports reopen must append after after_reopen(); one that does "
             "not must refuse it")
    def test_reopen_support_is_honoured(
        self, make_serializer: SerializerFactory, serializer_events: list[Event],
        read_events: Reader | None,
    ) -> None:
        out = io.BytesIO()
        first = self._session(make_serializer, out, serializer_events[:3])
        probe = make_serializer(out)
        if not probe.supports_reopen:
            with pytest.raises(Exception):  # noqa: B017 - any refusal will do
                probe.after_reopen()
            return
        both = self._session(make_serializer, out, serializer_events[3:], reopen=True)
        assert both.startswith(first) and len(both) > len(first), broken(
            "a serializer that supports reopen must append after after_reopen()",
            f"{len(first)} bytes before reopening, {len(both)} after")
        if read_events is not None:
            got = read_events(both)
            assert self._comparable(got) == self._comparable(serializer_events), broken(
                "a reopened stream must read back as every event of both sessions",
                f"wrote {len(serializer_events)}, read {len(got)}")

    @promise("after flush(), every event written so far must read back")
    def test_flush_makes_everything_written_so_far_readable(
        self, make_serializer: SerializerFactory, serializer_events: list[Event],
        read_events: Reader | None,
    ) -> None:
        reader = self._require_reader(read_events)
        out = io.BytesIO()
        half = max(1, len(serializer_events) // 2)
        serializer = self._opened(make_serializer, out, serializer_events[:half])

        def write_the_rest() -> None:
            for event in serializer_events[half:]:
                serializer.write(event)
            serializer.flush()
        for upto in (half, len(serializer_events)):
            if upto > half:
                self._on_runner(write_the_rest)
            got = reader(out.getvalue())
            assert self._comparable(got) == self._comparable(serializer_events[:upto]), broken(
                "after flush(), every event written so far must read back",
                f"wrote and flushed {upto}, read {len(got)} back before close")
        self._close_on_main(serializer)

    @promise("a file opened and closed with no events in it must be valid and read back empty")
    def test_empty_file_reads_back_empty(
        self, make_serializer: SerializerFactory, read_events: Reader | None
    ) -> None:
        reader = self._require_reader(read_events)
        data = self._session(make_serializer, io.BytesIO(), [])
        try:
            got = reader(data)
        except Exception as exc:
            pytest.fail(broken("a file opened and closed with no events in it must be valid",
                               f"reading its {len(data)} byte(s) raised {exc!r}"))
        assert got == [], broken("a file with no events in it must read back empty",
                                 f"read {len(got)} event(s)")
