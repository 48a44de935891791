"""``InterceptorContract``: what every interceptor promises.

Subclass it and provide ``make_interceptor``: ``**overrides -> configured
interceptor`` (not yet initialized). Optionally override ``interceptor_events``
(the events to push through; include some your interceptor drops or changes)
and ``bad_config`` (overrides that must be refused; default: an unknown key).
If your interceptor reads time, build it on the ``fake_clock`` fixture so both
code paths compared below see the same instant. As in the agent, ``initialize()``
and ``close()`` run on the test's thread and ``intercept``/``intercept_batch`` on
another (the source's) thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flume_sdk import ConfigurationError, Event, Interceptor
from flume_testkit.contracts._base import (
    ContractBase,
    broken,
    first_difference,
    must_not_raise,
    promise,
)
from flume_testkit.drivers import RunnerThread
from flume_testkit.events import ID_HEADER, EventFactory, copy_events

__all__ = ["InterceptorContract"]

InterceptorFactory = Callable[..., Interceptor]

BATCH_SIZES = (1, 26, 100, 1000)
"""Batch sizes the batch path is compared at: one event, odd, a typical batchSize, a big one."""
_SMALL_BODY = 64 * 1024


class InterceptorContract(ContractBase):
    """Contract suite for interceptors."""

    @pytest.fixture
    def make_interceptor(self) -> InterceptorFactory:
        """Override: ``**overrides -> configured interceptor``."""
        pytest.fail("InterceptorContract needs a make_interceptor fixture")

    @pytest.fixture
    def interceptor_events(self) -> list[Event]:
        """Override to add events your interceptor treats specially."""
        factory = EventFactory("ic")
        return [*factory.edge_case_list(), *factory.batch(20, {"kind": "plain"})]

    @pytest.fixture
    def bad_config(self) -> dict[str, str]:
        """Override: property overrides that must raise ``ConfigurationError``."""
        return {"noSuchSettingForTheContract": "x"}

    @pytest.fixture
    def source_thread(self) -> Iterator[RunnerThread]:
        """Where ``intercept`` runs: the source's thread, not the one that called ``initialize``."""
        runner = RunnerThread("source-r1")
        yield runner
        runner.close()

    def _fresh(self, make_interceptor: InterceptorFactory,
               contract_cleanup: list[Callable[[], Any]]) -> Interceptor:
        interceptor = make_interceptor()
        contract_cleanup.append(interceptor.close)
        interceptor.initialize()
        return interceptor

    @promise("intercept_batch(events) must equal [intercept(e) for e in events] without the Nones")
    def test_intercept_batch_equals_the_filtered_map_of_intercept(
        self, make_interceptor: InterceptorFactory, interceptor_events: list[Event],
        contract_cleanup: list[Callable[[], Any]], source_thread: RunnerThread,
    ) -> None:
        one_by_one = self._fresh(make_interceptor, contract_cleanup)
        batched = self._fresh(make_interceptor, contract_cleanup)
        expected = source_thread.call(lambda: _mapped(one_by_one, interceptor_events))
        got = source_thread.call(
            lambda: list(batched.intercept_batch(copy_events(interceptor_events))))
        assert list(got) == expected, broken(
            "intercept_batch(events) must equal [intercept(e) for e in events] without the Nones",
            f"{len(expected)} event(s) one by one, {len(got)} in the batch; first difference "
            f"at {first_difference(expected, list(got))}")

    @promise("intercept_batch([]) must return no events")
    def test_intercept_batch_of_nothing_is_nothing(
        self, make_interceptor: InterceptorFactory, contract_cleanup: list[Callable[[], Any]],
        source_thread: RunnerThread,
    ) -> None:
        interceptor = self._fresh(make_interceptor, contract_cleanup)
        got = source_thread.call(lambda: interceptor.intercept_batch([]))
        assert list(got) == [], broken("intercept_batch([]) must return no events", repr(got))

    @promise("intercept() must return an Event or None")
    def test_intercept_returns_an_event_or_none(
        self, make_interceptor: InterceptorFactory, interceptor_events: list[Event],
        contract_cleanup: list[Callable[[], Any]], source_thread: RunnerThread,
    ) -> None:
        interceptor = self._fresh(make_interceptor, contract_cleanup)
        results = source_thread.call(
            lambda: [interceptor.intercept(e) for e in copy_events(interceptor_events)])
        wrong = [r for r in results if r is not None and not isinstance(r, Event)]
        assert not wrong, broken("intercept() must return an Event or None", repr(wrong[:3]))

    @promise("close() must be idempotent")
    def test_close_is_idempotent(self, make_interceptor: InterceptorFactory) -> None:
        interceptor = make_interceptor()
        interceptor.initialize()
        interceptor.close()
        with must_not_raise("close() must be idempotent", "the second close"):
            interceptor.close()

    @promise("a bad configuration must raise ConfigurationError")
    def test_bad_config_is_a_configuration_error(
        self, make_interceptor: InterceptorFactory, bad_config: dict[str, str]
    ) -> None:
        try:
            make_interceptor(**bad_config)
        except ConfigurationError:
            return
        except Exception as exc:
            pytest.fail(broken("a bad configuration must raise ConfigurationError",
                               f"{bad_config!r} raised {exc!r}"))
        pytest.fail(broken("a bad configuration must raise ConfigurationError",
                           f"{bad_config!r} was accepted"))


    @pytest.mark.parametrize("size", BATCH_SIZES)
    @promise("intercept_batch must equal the filtered map of intercept at real batch sizes, "
             "with dropped events spread through the batch")
    def test_intercept_batch_equals_the_map_at_real_batch_sizes(
        self, size: int, make_interceptor: InterceptorFactory, interceptor_events: list[Event],
        contract_cleanup: list[Callable[[], Any]], source_thread: RunnerThread,
    ) -> None:
        events = _cycle(interceptor_events, size)
        one_by_one = self._fresh(make_interceptor, contract_cleanup)
        batched = self._fresh(make_interceptor, contract_cleanup)
        expected = source_thread.call(lambda: _mapped(one_by_one, events))
        got = source_thread.call(lambda: list(batched.intercept_batch(copy_events(events))))
        assert got == expected, broken(
            "intercept_batch must equal the filtered map of intercept at real batch sizes",
            f"batch of {size}: {len(expected)} event(s) one by one, {len(got)} in the batch; "
            f"first difference at {first_difference(expected, got)}")


def _mapped(interceptor: Interceptor, events: list[Event]) -> list[Event]:
    """The filtered map of ``intercept`` over copies of ``events``."""
    return [out for out in map(interceptor.intercept, copy_events(events)) if out is not None]


def _cycle(pool: list[Event], size: int) -> list[Event]:
    """``size`` events cycling through ``pool`` (large bodies only once), each with its own id."""
    small = [e for e in pool if len(e.body) <= _SMALL_BODY] or pool
    out = copy_events(pool[:size])
    index = 0
    while len(out) < size:
        event = copy_events([small[index % len(small)]])[0]
        event.headers[ID_HEADER] = f"{event.headers.get(ID_HEADER)}#{len(out)}"
        out.append(event)
        index += 1
    return out
