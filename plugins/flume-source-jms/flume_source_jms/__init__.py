"""flume-source-jms: Flume's ``jms`` source for flume-sdk, over STOMP to ActiveMQ."""

from flume_source_jms._converter import convert
from flume_source_jms._settings import JmsSourceSettings, parse_provider_url
from flume_source_jms.source import JmsSource

__all__ = ["JmsSource", "JmsSourceSettings", "convert", "parse_provider_url"]
