"""Reading Flume configuration: properties grammar, locations, substitution, filters, sections."""

from __future__ import annotations

import pytest

from flume_sdk._config import agent_names, parse_agent
from flume_sdk._properties import parse_properties


def agent(text: str, name: str = "a1", **kw: object):  # type: ignore[no-untyped-def]
    return parse_agent(parse_properties(text, "f.conf"), name, **kw)  # type: ignore[arg-type]


def test_properties_keep_file_and_line_through_continuations() -> None:
    entries = parse_properties("# c\na.b = 1\nx: y \\\n  z\n\nk\\u0041=v\n", "f.conf")
    assert [(e.key, e.value, e.location.line) for e in entries] == [
        ("a.b", "1", 2), ("x", "y z", 3), ("kA", "v", 6)]


def test_one_file_may_hold_several_agents() -> None:
    entries = parse_properties("a1.sources = r1\na2.sinks = k1\na1.channels = c1\n")
    assert agent_names(entries) == ["a1", "a2"]


def test_component_properties_are_grouped_under_their_prefix() -> None:
    config = agent("a1.channels = c1\na1.channels.c1.type = memory\n"
                   "a1.channels.c1.capacity = 5\n")
    assert config.channels["c1"].properties == {"type": "memory", "capacity": "5"}
    assert config.channels["c1"].locations["capacity"].line == 3


def test_misspelled_section_is_reported_with_a_suggestion() -> None:
    config = agent("a1.channels = c1\na1.channel.c1.type = memory\n")
    (problem,) = [p for p in config.problems if p.key == "channel.c1.type"]
    assert "did you mean a1.channels" in str(problem)
    assert problem.location is not None and problem.location.line == 2


def test_component_configured_but_not_listed_is_reported() -> None:
    config = agent("a1.sinks = k1\na1.sinks.k2.type = null\n")
    assert any("not listed" in p.message and p.component == "a1.sinks.k2" for p in config.problems)


def test_listed_component_without_properties_is_reported() -> None:
    config = agent("a1.sinks = k1\n")
    assert any("has no properties" in p.message for p in config.problems)


def test_env_and_sys_lookups_are_substituted() -> None:
    config = agent("a1.sinks = k1\na1.sinks.k1.type = null\n"
                   "a1.sinks.k1.batchSize = ${env:BATCH}\na1.sinks.k1.x = ${sys:y}\n",
                   environ={"BATCH": "7"}, system_properties={"y": "z"})
    assert config.sinks["k1"].properties["batchSize"] == "7"
    assert config.sinks["k1"].properties["x"] == "z"


def test_bare_reference_takes_another_key_then_the_environment() -> None:
    config = agent("a1.port = 1\na1.sources = r1\na1.sources.r1.port = ${a1.port}\n"
                   "a1.sources.r1.bind = ${HOSTVAR}\n", environ={"HOSTVAR": "h"})
    assert config.sources["r1"].properties == {"port": "1", "bind": "h"}


def test_unresolvable_reference_is_an_error() -> None:
    config = agent("a1.sinks = k1\na1.sinks.k1.type = ${env:NOPE_NOT_SET}\n", environ={})
    assert config.sinks["k1"].type == "${env:NOPE_NOT_SET}"
    assert [p.message for p in config.problems if p.severity == "error"] == [
        "${env:NOPE_NOT_SET} cannot be resolved: environment variable 'NOPE_NOT_SET' is not set"]


def test_bare_reference_takes_any_key_of_the_merged_configuration_nested() -> None:
    config = agent("DEV_BIND = 127.0.0.1\nprod.bind = 10.0.0.1\nwhich = DEV\n"
                   "a1.sources = r1\na1.sources.r1.bind = ${${which}_BIND}\n"
                   "a1.sources.r1.other = ${prod.bind}\n", environ={})
    assert config.sources["r1"].properties == {"bind": "127.0.0.1", "other": "10.0.0.1"}
    assert not [p for p in config.problems if p.severity == "error"]


def test_date_lookup_is_rejected_with_the_reason() -> None:
    config = agent("a1.sinks = k1\na1.sinks.k1.path = /x/${date:yyyy-MM-dd}\n")
    [problem] = [p for p in config.problems if "date:" in p.message]
    assert "not supported" in problem.message and "%Y-%m-%d" in problem.message


def test_env_config_filter_replaces_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "s3cret")
    config = agent("a1.configfilters = f1\na1.configfilters.f1.type = env\n"
                   "a1.sinks = k1\na1.sinks.k1.password = pre-${f1['DB_PASSWORD']}-post\n")
    assert config.sinks["k1"].properties["password"] == "pre-s3cret-post"


def test_unknown_config_filter_type_is_an_error() -> None:
    config = agent("a1.configfilters = f1\na1.configfilters.f1.type = vault\n")
    assert any("unknown config filter type" in p.message for p in config.problems)


def test_empty_value_is_an_error() -> None:
    config = agent("a1.sinks = k1\na1.sinks.k1.type =\n")
    assert any(p.message == "has an empty value" for p in config.problems)
