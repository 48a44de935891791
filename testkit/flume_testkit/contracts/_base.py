"""What every contract suite shares: promises, written skip reasons, cleanup, lifecycle checks."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, ParamSpec, TypeVar

import pytest

from flume_sdk import Component, Event, LifecycleState
from flume_testkit.drivers import new_threads, thread_rule_hint

__all__ = [
    "LEAK_GRACE",
    "ContractBase",
    "LifecycleChecks",
    "broken",
    "first_difference",
    "must_not_raise",
    "promise",
    "short_event",
]

P = ParamSpec("P")
R = TypeVar("R")

LEAK_GRACE = 0.5
"""Seconds a thread may take to finish after ``stop()`` returned before it counts as leaked."""

_BROKEN = "contract broken: "


def broken(promise: str, detail: str = "") -> str:
    """The message of a failed contract check: the promise first, then what happened."""
    return f"{_BROKEN}{promise}" + (f" ({detail})" if detail else "")


def short_event(event: Event) -> str:
    """An event in a failure message: long bodies cut, many headers counted."""
    body = event.body if len(event.body) <= 40 else event.body[:40] + b"..."
    headers = event.headers if len(event.headers) <= 6 else f"{len(event.headers)} headers"
    return f"Event({body!r}, {headers!r})"


def first_difference(expected: list[Any], got: list[Any]) -> str:
    """Where two event lists first differ, for a failure message."""
    for index, (a, b) in enumerate(zip(expected, got, strict=False)):
        if a != b:
            shown = [short_event(e) if isinstance(e, Event) else repr(e) for e in (a, b)]
            return f"index {index}: expected {shown[0]}, got {shown[1]}"
    return f"index {min(len(expected), len(got))} (lengths differ: {len(expected)} vs {len(got)})"


def promise(text: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a contract test with the promise it checks.

    Whatever goes wrong inside the test - a failed check, a crash of the component
    (``KeyError``, ``struct.error``), a hang (``DriverTimeout``), ``DID NOT RAISE`` -
    fails it as ``contract broken: <text> (<what happened>)``, the original error
    chained, so the author reads the promise first.
    """

    def decorate(test: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(test)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return test(*args, **kwargs)
            except (pytest.skip.Exception, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:
                if _BROKEN in str(exc):
                    raise
                detail = f"{type(exc).__name__}: {exc}{thread_rule_hint(exc)}"
                raise pytest.fail.Exception(broken(text, detail), pytrace=True) from exc

        run.promise = text  # type: ignore[attr-defined]
        return run

    return decorate


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

    @promise("stop() without start() must be safe")
    def test_stop_without_start_is_safe(self, contract_component: Callable[[], Component]) -> None:
        component = contract_component()
        with must_not_raise("stop() without start() must be safe"):
            component.stop()

    @promise("stop() must be idempotent")
    def test_stop_twice_is_safe(self, contract_component: Callable[[], Component],
                                contract_cleanup: list[Callable[[], Any]]) -> None:
        component = contract_component()
        contract_cleanup.append(component.stop)
        component.start()
        component.stop()
        with must_not_raise("stop() must be idempotent", "the second stop"):
            component.stop()

    @promise("a stopped component must start again")
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

    @promise("stop() must release ports, files and locks so a second instance with the same "
             "config starts")
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

    @promise("stop() must end every thread the component started before it returns")
    def test_stop_leaves_no_threads_behind(self, contract_component: Callable[[], Component],
                                           contract_cleanup: list[Callable[[], Any]]) -> None:
        before = list(threading.enumerate())
        component = contract_component()
        contract_cleanup.append(component.stop)
        component.start()
        component.stop()
        left = new_threads(before, timeout=LEAK_GRACE)
        assert not left, broken(
            "stop() must end every thread the component started before it returns",
            f"still alive {LEAK_GRACE}s after stop() returned: {[t.name for t in left]}; "
            "join your threads in do_stop()")
