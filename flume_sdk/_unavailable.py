"""Flume components that need a server flume-sdk cannot run or test, and what to use instead.

``flume-ng validate`` (through the plugin registry) answers these type names with "not
available in flume-sdk" and the closest alternative, never with a did-you-mean that would
send a migrating user to an unrelated component.
"""

from __future__ import annotations

__all__ = ["unavailable"]

_HDFS = "the hdfs sink (files on HDFS that the system loads itself)"
_SINKS: dict[str, tuple[str, str]] = {}


def _add(names: tuple[str, ...], what: str, instead: str) -> None:
    for name in names:
        _SINKS[name.lower()] = (what, instead)


_add(("hbase", "hbase2", "asynchbase", "org.apache.flume.sink.hbase.HBaseSink",
      "org.apache.flume.sink.hbase2.HBase2Sink", "org.apache.flume.sink.hbase.AsyncHBaseSink"),
     "the HBase sinks need an HBase cluster",
     f"{_HDFS}, or the kafka sink feeding HBase's own ingest")
_add(("hive", "org.apache.flume.sink.hive.HiveSink"),
     "the Hive sink needs a Hive metastore with streaming transactions",
     f"{_HDFS} writing into the table's directory (text or avro_event)")
_add(("org.apache.flume.sink.kudu.KuduSink", "kudu"),
     "the Kudu sink needs an Apache Kudu cluster",
     f"the kafka sink feeding Kudu's own ingest, or {_HDFS}")
_add(("org.apache.flume.sink.solr.morphline.MorphlineSolrSink", "morphlinesolr"),
     "the Morphline Solr sink needs Solr and the Kite Morphlines runtime",
     "the http sink POSTing to Solr's update handler")
_add(("org.apache.flume.sink.kite.DatasetSink", "kite"),
     "the Kite dataset sink needs the Kite SDK (discontinued)",
     "the hdfs sink with serializer = avro_event")
_add(("elasticsearch", "org.apache.flume.sink.elasticsearch.ElasticSearchSink"),
     "the Elasticsearch sink needs an Elasticsearch 0.90-era cluster",
     "the http sink POSTing to Elasticsearch's _bulk API, or the kafka sink")

_INTERCEPTORS = {
    "org.apache.flume.sink.solr.morphline.morphlineinterceptor$builder": (
        "the morphline interceptor needs the Kite Morphlines runtime",
        "the regex_extractor, search_replace and regex_filter interceptors"),
}


def unavailable(kind_label: str, type_name: str) -> str | None:
    """The reason and the alternative for a component flume-sdk cannot offer, else ``None``."""
    table = {"sink": _SINKS, "interceptor": _INTERCEPTORS}.get(kind_label, {})
    found = table.get(type_name.strip().lower())
    if found is None:
        return None
    what, instead = found
    return (f"{kind_label} type {type_name!r} is not available in flume-sdk ({what}, which "
            f"flume-sdk cannot run or test against); the closest alternative is {instead}")
