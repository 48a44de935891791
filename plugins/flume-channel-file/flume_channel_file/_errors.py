"""Errors raised by the storage engine (the channel turns them into ChannelException).

    StorageError
    ├── OutOfSpaceError      free disk under minimumRequiredSpace; puts resume when space returns
    ├── CapacityError        the channel holds ``capacity`` events
    └── UnhealthyLogError    a write or sync failed in a way that needs a restart
"""

from __future__ import annotations

from flume_sdk import FlumeError

__all__ = ["CapacityError", "OutOfSpaceError", "StorageError", "UnhealthyLogError"]


class StorageError(FlumeError):
    """Base of the engine's errors."""


class OutOfSpaceError(StorageError):
    """A put was refused because a channel directory is short of free space."""


class CapacityError(StorageError):
    """A put was refused because the channel is full."""


class UnhealthyLogError(StorageError):
    """The log cannot accept writes until it is reopened."""
