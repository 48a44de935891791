"""flume-sink-hdfs: Flume's HDFS sink (type ``hdfs``) for flume-sdk.

Bucketed, rolling, crash-safe writes to HDFS over WebHDFS (``hdfs://``,
``webhdfs://``) and to the local filesystem (``file://``). Flume's escape
sequences come from the kernel (``flume_sdk.escape_string``); Hadoop's
SequenceFile format is in :mod:`flume_sink_hdfs.sequencefile`.
"""

from flume_sink_hdfs.sequencefile import SequenceFileWriter
from flume_sink_hdfs.sink import HdfsEventSink, HdfsSinkSettings

__all__ = [
    "HdfsEventSink",
    "HdfsSinkSettings",
    "SequenceFileWriter",
]
