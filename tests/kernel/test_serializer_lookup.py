"""resolve_serializer: one place turns a sink's serializer keys into a factory or a config error."""

from __future__ import annotations

import io

import pytest

from flume_sdk import ConfigurationError, Event, Location, resolve_serializer


def test_registered_type_with_its_keys_builds_serializers() -> None:
    factory = resolve_serializer("TEXT", {"appendNewline": "false"}, component="a1.sinks.k1")
    out = io.BytesIO()
    serializer = factory.create(out)
    serializer.write(Event(b"x"))
    serializer.flush()
    assert out.getvalue() == b"x"


def test_unknown_type_names_the_sink_key_and_line() -> None:
    where = {"sink.serializer": Location("a.conf", 7)}
    with pytest.raises(ConfigurationError) as info:
        resolve_serializer("txt", {}, component="a1.sinks.k1", key="sink.serializer",
                           locations=where)
    message = str(info.value)
    assert message.startswith("a.conf:7: a1.sinks.k1.sink.serializer:")
    assert "did you mean 'text'" in message


def test_bad_serializer_key_is_reported_under_the_sink_prefix() -> None:
    where = {"serializer.appendNewLine": Location("a.conf", 9)}
    with pytest.raises(ConfigurationError) as info:
        resolve_serializer("text", {"appendNewLine": "false"}, component="a1.sinks.k1",
                           locations=where)
    assert str(info.value).startswith("a.conf:9: a1.sinks.k1.serializer.appendNewLine: unknown key")
