"""Syslog sources for flume-sdk: ``syslogtcp``, ``syslogudp`` and ``multiport_syslogtcp``.

The parser and framer are usable on their own (``SyslogParser``, ``SyslogStream``); see the
README for where and why this package deliberately differs from Apache Flume.
"""

from flume_source_syslog._framing import Fragment, LineFramer, OctetFramer, StreamFramer
from flume_source_syslog._parser import (
    FACILITY,
    HOST,
    INCOMPLETE,
    INVALID,
    PRIORITY,
    SEVERITY,
    STATUS,
    TIMESTAMP,
    VERSION,
    SyslogParser,
    parse_keep_fields,
)
from flume_source_syslog._settings import (
    MultiportSyslogTcpSettings,
    SyslogTcpSettings,
    SyslogUdpSettings,
)
from flume_source_syslog._stream import SyslogStream, decode_datagram
from flume_source_syslog._tcp import MultiportSyslogTcpSource, SyslogTcpSource
from flume_source_syslog._timestamps import TimestampReader
from flume_source_syslog._udp import SyslogUdpSource

__all__ = [
    "FACILITY",
    "HOST",
    "INCOMPLETE",
    "INVALID",
    "PRIORITY",
    "SEVERITY",
    "STATUS",
    "TIMESTAMP",
    "VERSION",
    "Fragment",
    "LineFramer",
    "MultiportSyslogTcpSettings",
    "MultiportSyslogTcpSource",
    "OctetFramer",
    "StreamFramer",
    "SyslogParser",
    "SyslogStream",
    "SyslogTcpSettings",
    "SyslogTcpSource",
    "SyslogUdpSettings",
    "SyslogUdpSource",
    "TimestampReader",
    "decode_datagram",
    "parse_keep_fields",
]
