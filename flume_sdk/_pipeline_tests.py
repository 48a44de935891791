"""``flume-ng test FILE...``: unit tests of a pipeline on sample events, like ``vector test``.

A test file (TOML) names an agent configuration and lists tests. Each test hands
its input events to one source's real interceptor chain and selector (built from
the configuration exactly as the agent builds them, but with nothing started: no
sockets, no servers, no channel writes) and compares what each named channel, or
a named sink's channel, would receive::

    config = "routing.conf"          # relative to the test file
    agent = "a1"

    [[test]]
    name = "errors go to alerts"
    source = "r1"
    input = [{ body = "ERROR disk full", headers = { host = "web1" } }]
    dropped = 0                      # events the interceptors drop (optional)
    [test.expect.alerts]             # a channel or a sink
    events = [{ body = "ERROR disk full", headers = { level = "ERROR" }, absent = ["debug"] }]
    [test.expect.archive]
    count = 0

An expected event's ``headers`` must be present with those values (others may
be there too), ``absent`` headers must not be, and ``body`` (when given) must be
equal. A failed expectation prints a diff; the exit status is 1 if any test
failed and 2 if a file or its configuration is wrong.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from flume_sdk._agent import load_config
from flume_sdk._errors import ConfigurationError, FlumeError
from flume_sdk._event import Event
from flume_sdk._pipeline import Pipeline, build_pipeline

__all__ = ["PipelineTestError", "TestOutcome", "main", "run_file"]


class PipelineTestError(FlumeError, ValueError):
    """A test file that cannot be run: the message names the file, the test and the key."""


@attrs.frozen
class TestOutcome:
    """One test's result: its name and, when it failed, the explanation (a diff)."""

    name: str
    failure: str = ""

    @property
    def passed(self) -> bool:
        return not self.failure


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="flume-ng test", epilog="example:\n  flume-ng test examples/routing.test.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "run pipeline unit tests (TOML): input events through a source's real "
            "interceptors and selector, expectations per channel or sink"))
    parser.add_argument("files", nargs="+", type=Path, help="test files (TOML)")
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="KEY=VALUE",
                        help="system property for ${sys:...} in the configuration")
    args = parser.parse_args(argv)
    defines = dict(d.partition("=")[::2] for d in args.defines)
    passed = failed = 0
    for file in args.files:
        try:
            outcomes = run_file(file, defines)
        except (PipelineTestError, ConfigurationError, OSError) as exc:
            print(f"{file}: cannot run: {exc}", file=sys.stderr)
            return 2
        print(f"{file}: {len(outcomes)} test{'s' * (len(outcomes) != 1)}")
        for outcome in outcomes:
            print(f"  {'ok  ' if outcome.passed else 'FAIL'}  {outcome.name}")
            if outcome.failure:
                print("\n".join("        " + line for line in outcome.failure.splitlines()))
        passed += sum(o.passed for o in outcomes)
        failed += sum(not o.passed for o in outcomes)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run_file(file: Path, defines: Mapping[str, str] | None = None) -> list[TestOutcome]:
    """Run every test of ``file``.

    Raises:
        PipelineTestError: the file is not a valid test file.
        ConfigurationError: the configuration it names has errors.
    """
    try:
        doc = tomllib.loads(file.read_text())
    except tomllib.TOMLDecodeError as exc:
        msg = f"not valid TOML: {exc}"
        raise PipelineTestError(msg) from exc
    config_path = file.parent / _required(doc, "config", str, "the file")
    agent = _required(doc, "agent", str, "the file")
    pipeline = build_pipeline(load_config([config_path], agent, system_properties=defines))
    tests = doc.get("test")
    if not isinstance(tests, list) or not tests:
        msg = "has no [[test]] tables"
        raise PipelineTestError(msg)
    return [_run_test(pipeline, test, i) for i, test in enumerate(tests, 1)]


def _required(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    if not isinstance(value, kind):
        msg = f"{where} needs {key} = <{kind.__name__}> (got {value!r})"
        raise PipelineTestError(msg)
    return value


def _run_test(pipeline: Pipeline, test: Mapping[str, Any], index: int) -> TestOutcome:
    name = str(test.get("name", f"test #{index}"))
    where = f"test {name!r}"
    source_name = _required(test, "source", str, where)
    source = pipeline.sources.get(source_name)
    if source is None:
        msg = f"{where}: source {source_name!r} is not in the agent (sources: {', '.join(pipeline.sources)})"
        raise PipelineTestError(msg)
    inputs = [_input_event(e, f"{where} input #{i}") for i, e in
              enumerate(_required(test, "input", list, where), 1)]
    processor = source.channel_processor
    processor.initialize()
    try:
        events = list(processor.intercept(inputs))
        routing = processor.selector.route(events) if events else None
    finally:
        processor.close()
    arrived: dict[str, list[Event]] = {}
    if routing is not None:
        for channel, batch in [*routing.required, *routing.optional]:
            arrived.setdefault(channel.name, []).extend(batch)
    failures = [_check_dropped(test, len(inputs) - len(events))]
    expectations = _required(test, "expect", dict, where)
    for target, expected in expectations.items():
        channel_name = _channel_of(pipeline, target, where)
        failures.append(_check_target(target, channel_name, expected, arrived.get(channel_name, []),
                                      where))
    return TestOutcome(name, "\n".join(f for f in failures if f))


def _input_event(raw: object, where: str) -> Event:
    if not isinstance(raw, dict):
        msg = f"{where} must be a table like {{ body = \"...\", headers = {{ k = \"v\" }} }}"
        raise PipelineTestError(msg)
    headers = raw.get("headers", {})
    return Event(str(raw.get("body", "")).encode(), {str(k): str(v) for k, v in headers.items()})


def _channel_of(pipeline: Pipeline, target: str, where: str) -> str:
    if target in pipeline.channels:
        return target
    sink = pipeline.sinks.get(target)
    if sink is not None and sink.channel is not None:
        return sink.channel.name
    known = ", ".join([*pipeline.channels, *pipeline.sinks])
    msg = f"{where}: expect.{target} is neither a channel nor a sink of the agent (known: {known})"
    raise PipelineTestError(msg)


def _check_dropped(test: Mapping[str, Any], dropped: int) -> str:
    expected = test.get("dropped")
    if expected is None or expected == dropped:
        return ""
    return f"dropped by the interceptors: expected {expected}, got {dropped}"


def _check_target(target: str, channel: str, expected: Mapping[str, Any], got: list[Event],
                  where: str) -> str:
    label = target if target == channel else f"{target} (channel {channel})"
    count = expected.get("count")
    if count is not None and count != len(got):
        return f"{label}: expected {count} event(s), got {len(got)}" + \
            "".join(f"\n  + {_render(e, None)}" for e in got)
    wanted = expected.get("events")
    if wanted is None:
        return ""
    if not isinstance(wanted, list) or not all(isinstance(w, dict) for w in wanted):
        msg = f"{where}: expect.{target}.events must be a list of tables"
        raise PipelineTestError(msg)
    if len(wanted) == len(got) and all(_matches(w, e) for w, e in zip(wanted, got, strict=True)):
        return ""
    want_lines = [_render_expected(w) for w in wanted]
    got_lines = [_render(e, wanted[i] if i < len(wanted) else None) for i, e in enumerate(got)]
    diff = difflib.unified_diff(want_lines, got_lines, "expected", "actual", lineterm="", n=len(got))
    return f"{label}:\n" + "\n".join(diff)


def _matches(want: Mapping[str, Any], event: Event) -> bool:
    if "body" in want and str(want["body"]).encode() != event.body:
        return False
    if any(h in event.headers for h in want.get("absent", ())):
        return False
    return all(event.headers.get(k) == str(v) for k, v in want.get("headers", {}).items())


def _render_expected(want: Mapping[str, Any]) -> str:
    headers = {k: str(v) for k, v in want.get("headers", {}).items()}
    parts = [f"headers={dict(sorted(headers.items()))}"]
    parts.extend(f"no {h!r}" for h in want.get("absent", ()))
    if "body" in want:
        parts.append(f"body={str(want['body'])!r}")
    return " ".join(parts)


def _render(event: Event, like: Mapping[str, Any] | None) -> str:
    """``event`` shown with the headers ``like`` names (all of them when there is no ``like``)."""
    if like is None:
        return f"headers={dict(sorted(event.headers.items()))} body={_text(event.body)!r}"
    shown = {k: event.headers[k] for k in like.get("headers", {}) if k in event.headers}
    parts = [f"headers={dict(sorted(shown.items()))}"]
    parts.extend(f"no {h!r}" if h not in event.headers else f"{h}={event.headers[h]!r}"
                 for h in like.get("absent", ()))
    if "body" in like:
        parts.append(f"body={_text(event.body)!r}")
    return " ".join(parts)


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")
