"""flume-channel-file: a durable file channel for flume-sdk.

A checksummed write-ahead log in preallocated segments, group-committed with
``fdatasync``, checkpointed in two alternating slots, replayed from the newest good
checkpoint; torn tails are cut and counted, damaged files are quarantined (never
deleted) and reported with the affected event range.

Public names: :class:`FileChannel` (config type ``file``), :class:`SpillableMemoryChannel`
(``SPILLABLEMEMORY``: memory overflowing into the file channel's log), :func:`check_channel` (the
offline verifier behind ``python -m flume_channel_file check --dir ...``) and :func:`main`.
"""

from flume_channel_file._check import CheckReport, check_channel, main
from flume_channel_file.channel import FileChannel, FileChannelSettings
from flume_channel_file.spillable import SpillableMemoryChannel, SpillableMemorySettings

__all__ = [
    "CheckReport",
    "FileChannel",
    "FileChannelSettings",
    "SpillableMemoryChannel",
    "SpillableMemorySettings",
    "check_channel",
    "main",
]
