"""flume-sink-irc: Flume's ``irc`` sink for flume-sdk, acknowledged by the IRC server."""

from flume_sink_irc._connection import IrcError
from flume_sink_irc._lines import message_texts, text_budget
from flume_sink_irc._settings import IrcSinkSettings
from flume_sink_irc.sink import IrcSink

__all__ = ["IrcError", "IrcSink", "IrcSinkSettings", "message_texts", "text_budget"]
