"""Building a pipeline: every problem reported together with file:line, nothing half-built."""

from __future__ import annotations

import pytest

from flume_sdk import ConfigurationError
from flume_sdk._config import parse_agent
from flume_sdk._pipeline import build_pipeline
from flume_sdk._properties import parse_properties

GOOD = """\
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
"""


def build(text: str, **kw: object):  # type: ignore[no-untyped-def]
    return build_pipeline(parse_agent(parse_properties(text, "a.conf"), "a1"), **kw)  # type: ignore[arg-type]


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigurationError) as info:
        build(text)
    return [str(p) for p in info.value.problems]


def test_good_config_builds_every_component() -> None:
    pipeline = build(GOOD)
    assert set(pipeline.sources) == {"r1"}
    assert set(pipeline.channels) == {"c1"}
    assert set(pipeline.sinks) == {"k1"}
    assert len(pipeline.sink_runners) == 1


def test_misspelled_type_names_file_line_and_close_match() -> None:
    (message,) = problems(GOOD.replace("type = null", "type = nul"))
    assert message.startswith("a.conf:7: a1.sinks.k1.type:")
    assert "did you mean 'null'" in message


def test_type_match_is_case_insensitive_and_accepts_flume_class_names() -> None:
    text = GOOD.replace("type = memory", "type = org.apache.flume.channel.MemoryChannel")
    build(text.replace("type = seq", "type = SEQ"))


def test_dangling_channel_reference_is_reported() -> None:
    (message,) = problems(GOOD.replace("r1.channels = c1", "r1.channels = c2"))
    assert "names channel 'c2'" in message and "a.conf:5" in message


def test_batch_size_above_transaction_capacity_is_reported() -> None:
    text = GOOD + "a1.sinks.k1.batchSize = 500\n"
    (message,) = problems(text)
    assert "a1.sinks.k1.batchSize" in message and "transactionCapacity 100" in message


def test_unknown_key_with_close_match_is_reported() -> None:
    (message,) = problems(GOOD + "a1.channels.c1.capcity = 5\n")
    assert "unknown key" in message and "did you mean 'capacity'" in message


def test_every_problem_is_reported_together() -> None:
    text = GOOD.replace("type = null", "type = nul") + "a1.channels.c1.capacity = lots\n"
    assert len(problems(text)) == 2


def test_missing_required_key_is_reported() -> None:
    text = GOOD.replace("type = seq", "type = netcat")
    found = problems(text)
    assert any("bind: is required" in p for p in found)
    assert any("port: is required" in p for p in found)


def test_dotted_class_path_type_loads_unregistered_class() -> None:
    build(GOOD.replace("type = null", "type = flume_sdk.components.null_sink:NullSink"))


def test_lenient_mode_drops_invalid_components_and_keeps_the_rest() -> None:
    text = GOOD + "a1.sinks = k1 k2\na1.sinks.k2.type = nope\na1.sinks.k2.channel = c1\n"
    pipeline = build(text, lenient=True)
    assert set(pipeline.sinks) == {"k1"}
    assert any("nope" in str(w) for w in pipeline.warnings)


def test_sink_group_processor_type_is_required() -> None:
    text = GOOD + "a1.sinkgroups = g1\na1.sinkgroups.g1.sinks = k1\n"
    assert any("processor.type" in p for p in problems(text))


def test_load_balance_needs_two_sinks() -> None:
    text = GOOD + ("a1.sinkgroups = g1\na1.sinkgroups.g1.sinks = k1\n"
                   "a1.sinkgroups.g1.processor.type = load_balance\n")
    assert any("at least 2 sinks" in p for p in problems(text))


def test_sink_in_two_groups_is_reported() -> None:
    text = GOOD + ("a1.sinks = k1 k2\na1.sinks.k2.type = null\na1.sinks.k2.channel = c1\n"
                   "a1.sinkgroups = g1 g2\n"
                   "a1.sinkgroups.g1.sinks = k1 k2\na1.sinkgroups.g1.processor.type = failover\n"
                   "a1.sinkgroups.g2.sinks = k1\na1.sinkgroups.g2.processor.type = failover\n")
    assert any("already in sink group" in p for p in problems(text))


def test_selector_mapping_to_unknown_channel_is_reported() -> None:
    text = GOOD + ("a1.sources.r1.selector.type = multiplexing\n"
                   "a1.sources.r1.selector.mapping.x = c9\n")
    assert any("'c9'" in p for p in problems(text))
