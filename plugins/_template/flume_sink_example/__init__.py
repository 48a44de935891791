"""flume-sink-example: a copy-me sink plugin that appends events to a file as JSON lines."""

from flume_sink_example.sink import JsonLinesSink, JsonLinesSinkSettings, read_events

__all__ = ["JsonLinesSink", "JsonLinesSinkSettings", "read_events"]
