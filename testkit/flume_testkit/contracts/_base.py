"""What every contract suite shares: written skip reasons, cleanup, and the lifecycle checks."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest

from flume_sdk import Component, LifecycleState
from flume_testkit.drivers import new_threads

__all__ = ["ContractBase", "LifecycleChecks", "broken", "must_not_raise"]


def broken(promise: str, detail: str = "") -> str:
    """The message of a failed contract check: the promise first, then what happened."""
    return f"contract broken: {promise}" + (f" ({detail})" if detail else "")


@contextlib.contextmanager
def must_not_raise(promise: str, what: str = "it") -> Iterator[None]:
    """Fail the test with ``promise`` broken if the block raises (``what`` names the call)."""
    try:
        yield
    except Exception as exc:
        pytest.fail(broken(promise, f"{what} raised {exc!r}"))


class ContractBase:
    """Base of every contract suite.

    Attributes:
        skip_contract: contract test name -> the written reason it does not apply to
            this component. An empty reason or an unknown test name fails the test.
    """

    skip_contract: ClassVar[dict[str, str]] = {}

    @pytest.fixture(autouse=True)
    def _contract_skips(self, request: pytest.FixtureRequest) -> None:
        """Honour ``skip_contract`` (autouse inside contract classes only)."""
        known = {n for n in dir(type(self)) if n.startswith("test_")}
        for name, reason in self.skip_contract.items():
            if name not in known:
                pytest.fail(f"{type(self).__name__}.skip_contract names {name!r}, which is not a "
                            f"contract test; known tests: {', '.join(sorted(known))}")
            if not str(reason).strip():
                pytest.fail(f"{type(self).__name__}.skip_contract[{name!r}] has no reason; "
                            "skipping a contract test needs a written reason")
        test_name = getattr(request.node, "originalname", request.node.name)
        if test_name in self.skip_contract:
            pytest.skip(f"contract skipped: {self.skip_contract[test_name]}")

    @pytest.fixture
    def contract_cleanup(self) -> Iterator[list[Callable[[], Any]]]:
        """Callables run (last first) after the test, errors ignored: stops what a test started."""
        todo: list[Callable[[], Any]] = []
        yield todo
        for action in reversed(todo):
            with contextlib.suppress(Exception):
                action()


class LifecycleChecks:
    """Lifecycle promises; a contract provides ``contract_component``.

    ``contract_component`` is a fixture returning a zero-argument callable that
    builds a wired, unstarted component (a source with a channel processor, a
    sink with a channel) from the plugin's factory with default overrides.
    """

    def test_stop_without_start_is_safe(self, contract_component: Callable[[], Component]) -> None:
        component = contract_component()
        with must_not_raise("stop() without start() must be safe"):
            component.stop()

    def test_stop_twice_is_safe(self, contract_component: Callable[[], Component],
                                contract_cleanup: list[Callable[[], Any]]) -> None:
        component = contract_component()
        contract_cleanup.append(component.stop)
        component.start()
        component.stop()
        with must_not_raise("stop() must be idempotent", "the second stop"):
            component.stop()

    def test_start_stop_start_works(self, contract_component: Callable[[], Component],
                                    contract_cleanup: list[Callable[[], Any]]) -> None:
        component = contract_component()
        contract_cleanup.append(component.stop)
        component.start()
        component.stop()
        with must_not_raise("a stopped component must start again", "start"):
            component.start()
        assert component.lifecycle_state is LifecycleState.START, broken(
            "a stopped component must start again", f"state is {component.lifecycle_state}")

    def test_second_instance_with_same_config_starts_after_first_stopped(
        self, contract_component: Callable[[], Component],
        contract_cleanup: list[Callable[[], Any]],
    ) -> None:
        first = contract_component()
        contract_cleanup.append(first.stop)
        first.start()
        first.stop()
        second = contract_component()
        contract_cleanup.append(second.stop)
        with must_not_raise("stop() must release ports, files and locks so a second "
                            "instance with the same config starts"):
            second.start()

    def test_stop_leaves_no_threads_behind(self, contract_component: Callable[[], Component],
                                           contract_cleanup: list[Callable[[], Any]]) -> None:
        before = list(threading.enumerate())
        component = contract_component()
        contract_cleanup.append(component.stop)
        component.start()
        component.stop()
        left = new_threads(before, timeout=5.0)
        assert not left, broken("stop() must end every thread the component started",
                                f"still alive 5s after stop: {[t.name for t in left]}")
