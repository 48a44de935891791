"""Flume components needing servers flume-sdk cannot run are refused with the alternative."""

from __future__ import annotations

from pathlib import Path

import pytest

from flume_sdk import PluginKind, PluginNotFoundError
from flume_sdk._plugins import default_registry
from flume_sdk.cli import main

SINKS = ["hbase", "HBASE2", "asynchbase", "org.apache.flume.sink.hbase.HBaseSink",
         "org.apache.flume.sink.hbase2.HBase2Sink", "org.apache.flume.sink.hbase.AsyncHBaseSink",
         "hive", "org.apache.flume.sink.hive.HiveSink", "org.apache.flume.sink.kudu.KuduSink",
         "org.apache.flume.sink.solr.morphline.MorphlineSolrSink",
         "org.apache.flume.sink.kite.DatasetSink", "elasticsearch",
         "org.apache.flume.sink.elasticsearch.ElasticSearchSink"]


@pytest.mark.parametrize("type_name", SINKS)
def test_unavailable_sinks_say_so_and_point_to_an_alternative(type_name: str) -> None:
    with pytest.raises(PluginNotFoundError) as info:
        default_registry().find(PluginKind.SINK, type_name)
    message = str(info.value)
    assert "is not available in flume-sdk" in message and "closest alternative is" in message
    assert "did you mean" not in message


def test_the_morphline_interceptor_points_to_the_regex_interceptors() -> None:
    with pytest.raises(PluginNotFoundError, match="regex_extractor") as info:
        default_registry().find(PluginKind.INTERCEPTOR,
                                "org.apache.flume.sink.solr.morphline.MorphlineInterceptor$Builder")
    assert "did you mean" not in str(info.value)


def test_an_ordinary_typo_still_gets_a_did_you_mean() -> None:
    with pytest.raises(PluginNotFoundError, match="did you mean 'hdfs'"):
        default_registry().find(PluginKind.SINK, "hfds")


def test_validate_reports_each_with_file_and_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "a.conf"
    conf.write_text("a1.sources = r1\na1.channels = c1\na1.sinks = k1\n"
                    "a1.sources.r1.type = seq\na1.sources.r1.channels = c1\n"
                    "a1.channels.c1.type = memory\n"
                    "a1.sinks.k1.type = elasticsearch\na1.sinks.k1.channel = c1\n")
    assert main(["validate", "-f", str(conf)]) != 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "a.conf:7" in text and "not available in flume-sdk" in text and "_bulk" in text
