"""flume-channel-jdbc: Flume's durable JDBC channel, on SQLite (embedded) or PostgreSQL.

Public names: :class:`JdbcChannel` (config type ``jdbc``) and its settings.
"""

from flume_channel_jdbc._settings import JdbcChannelSettings
from flume_channel_jdbc.channel import JdbcChannel

__all__ = ["JdbcChannel", "JdbcChannelSettings"]
