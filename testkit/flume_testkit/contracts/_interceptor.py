"""``InterceptorContract``: what every interceptor promises.

Subclass it and provide ``make_interceptor``: ``**overrides -> configured
interceptor`` (not yet initialized). Optionally override ``interceptor_events``
(the events to push through; include some your interceptor drops or changes)
and ``bad_config`` (overrides that must be refused; default: an unknown key).
If your interceptor reads time, build it on the ``fake_clock`` fixture so both
code paths compared below see the same instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flume_sdk import ConfigurationError, Event, Interceptor
from flume_testkit.contracts._base import ContractBase, broken, must_not_raise
from flume_testkit.events import EventFactory, copy_events

__all__ = ["InterceptorContract"]

InterceptorFactory = Callable[..., Interceptor]


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

    def _fresh(self, make_interceptor: InterceptorFactory,
               contract_cleanup: list[Callable[[], Any]]) -> Interceptor:
        interceptor = make_interceptor()
        contract_cleanup.append(interceptor.close)
        interceptor.initialize()
        return interceptor

    def test_intercept_batch_equals_the_filtered_map_of_intercept(
        self, make_interceptor: InterceptorFactory, interceptor_events: list[Event],
        contract_cleanup: list[Callable[[], Any]],
    ) -> None:
        one_by_one = self._fresh(make_interceptor, contract_cleanup)
        batched = self._fresh(make_interceptor, contract_cleanup)
        mapped = [one_by_one.intercept(e) for e in copy_events(interceptor_events)]
        expected = [e for e in mapped if e is not None]
        got = batched.intercept_batch(copy_events(interceptor_events))
        assert list(got) == expected, broken(
            "intercept_batch(events) must equal [intercept(e) for e in events] without the Nones",
            f"{len(expected)} event(s) one by one, {len(got)} in the batch; first difference "
            f"at {_first_difference(expected, list(got))}")

    def test_intercept_batch_of_nothing_is_nothing(
        self, make_interceptor: InterceptorFactory, contract_cleanup: list[Callable[[], Any]]
    ) -> None:
        got = self._fresh(make_interceptor, contract_cleanup).intercept_batch([])
        assert list(got) == [], broken("intercept_batch([]) must return no events", repr(got))

    def test_intercept_returns_an_event_or_none(
        self, make_interceptor: InterceptorFactory, interceptor_events: list[Event],
        contract_cleanup: list[Callable[[], Any]],
    ) -> None:
        interceptor = self._fresh(make_interceptor, contract_cleanup)
        wrong = [r for r in map(interceptor.intercept, copy_events(interceptor_events))
                 if r is not None and not isinstance(r, Event)]
        assert not wrong, broken("intercept() must return an Event or None", repr(wrong[:3]))

    def test_close_is_idempotent(self, make_interceptor: InterceptorFactory) -> None:
        interceptor = make_interceptor()
        interceptor.initialize()
        interceptor.close()
        with must_not_raise("close() must be idempotent", "the second close"):
            interceptor.close()

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


def _first_difference(left: list[Event], right: list[Event]) -> str:
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if a != b:
            return f"index {index}: {a!r} vs {b!r}"
    return f"index {min(len(left), len(right))} (lengths differ)"
