"""Plugin discovery errors: typed, naming kind, type, distribution and version, with a did-you-mean."""

from __future__ import annotations

import json

import pytest

from flume_sdk import (
    PluginConflictError,
    PluginInfo,
    PluginInvalidError,
    PluginKind,
    PluginLoadError,
    PluginNotFoundError,
    PluginRegistry,
)
from flume_sdk.components.null_sink import NullSink


def registry(*rows: tuple[PluginKind, str, str]) -> PluginRegistry:
    return PluginRegistry([PluginInfo(k, n, v, "flume-example", "1.2.3") for k, n, v in rows])


def test_registered_type_loads_case_insensitively() -> None:
    reg = registry((PluginKind.SINK, "null", "flume_sdk.components.null_sink:NullSink"))
    assert reg.load(PluginKind.SINK, "NULL") is NullSink


def test_unknown_type_suggests_the_close_match() -> None:
    reg = registry((PluginKind.SINK, "hdfs", "x:y"))
    with pytest.raises(PluginNotFoundError, match="did you mean 'hdfs'") as info:
        reg.load(PluginKind.SINK, "hfds")
    assert info.value.kind == "sink"
    assert info.value.type_name == "hfds"


def test_broken_plugin_names_its_distribution_version_and_cause() -> None:
    reg = registry((PluginKind.SINK, "broken", "no_such_module_xyz:Sink"))
    with pytest.raises(PluginLoadError) as info:
        reg.load(PluginKind.SINK, "broken")
    text = str(info.value)
    assert "flume-example 1.2.3" in text and "ModuleNotFoundError" in text
    assert info.value.distribution == "flume-example 1.2.3"


def test_broken_plugin_does_not_affect_other_types() -> None:
    reg = registry((PluginKind.SINK, "broken", "no_such_module_xyz:Sink"),
                   (PluginKind.SINK, "null", "flume_sdk.components.null_sink:NullSink"))
    assert reg.load(PluginKind.SINK, "null") is NullSink


def test_class_of_the_wrong_kind_is_invalid() -> None:
    reg = registry((PluginKind.CHANNEL, "oops", "flume_sdk.components.null_sink:NullSink"))
    with pytest.raises(PluginInvalidError, match=r"not a subclass of flume_sdk\.Channel"):
        reg.load(PluginKind.CHANNEL, "oops")


def test_two_distributions_registering_one_type_conflict() -> None:
    reg = PluginRegistry([PluginInfo(PluginKind.SINK, "x", "a:A", "dist-a", "1"),
                          PluginInfo(PluginKind.SINK, "x", "b:B", "dist-b", "2")])
    with pytest.raises(PluginConflictError, match=r"dist-a 1.*dist-b 2"):
        reg.load(PluginKind.SINK, "x")


def test_dotted_class_path_loads_without_registration() -> None:
    assert registry().load(PluginKind.SINK, "flume_sdk.components.null_sink:NullSink") is NullSink


def test_kernel_components_are_registered_through_entry_points() -> None:
    reg = PluginRegistry()
    names = {(i.kind, i.type_name) for i in reg.available() if i.distribution == "flume-sdk"}
    for kind, name in [(PluginKind.CHANNEL, "memory"), (PluginKind.SOURCE, "seq"),
                       (PluginKind.SOURCE, "netcat"), (PluginKind.SINK, "logger"),
                       (PluginKind.SINK, "null"), (PluginKind.CHANNEL_SELECTOR, "multiplexing"),
                       (PluginKind.SINK_PROCESSOR, "failover")]:
        assert (kind, name) in names


def test_plugins_check_json_documents_every_key_with_its_aliases(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flume_sdk.cli import main

    assert main(["plugins", "--check", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(row["status"] == "ok" for row in rows), [r for r in rows if r["status"] != "ok"]
    http = next(r for r in rows if r["kind"] == "source" and r["type"] == "http")
    keys = {doc["key"]: doc for doc in http["settings"]}
    assert keys["ssl"]["aliases"] == ["enableSSL"]
    assert keys["port"]["required"] is True
    assert "keystore" in keys
