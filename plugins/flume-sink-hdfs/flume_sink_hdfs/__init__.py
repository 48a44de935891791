"""flume-sink-hdfs: Flume's HDFS sink (type ``hdfs``) for flume-sdk.

Bucketed, rolling, crash-safe writes to HDFS over WebHDFS (``hdfs://``,
``webhdfs://``) and to the local filesystem (``file://``). Flume's escape
sequences are in :mod:`flume_sink_hdfs.escapes` for any sink to use, Hadoop's
SequenceFile format in :mod:`flume_sink_hdfs.sequencefile`.
"""

from flume_sink_hdfs.escapes import EscapeError, EscapeTemplate, MissingTimestampError, escape_string
from flume_sink_hdfs.sequencefile import SequenceFileWriter
from flume_sink_hdfs.sink import HdfsEventSink, HdfsSinkSettings

__all__ = [
    "EscapeError",
    "EscapeTemplate",
    "HdfsEventSink",
    "HdfsSinkSettings",
    "MissingTimestampError",
    "SequenceFileWriter",
    "escape_string",
]
