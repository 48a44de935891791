"""Polling with a deadline: how a test waits for something another thread or process does."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["wait_until"]


def wait_until(
    condition: Callable[[], bool], *, timeout: float = 10.0, interval: float = 0.05,
    what: str = "condition"
) -> None:
    """Poll ``condition`` until it is true; raise ``TimeoutError`` after ``timeout`` seconds.

    An exception from ``condition`` counts as "not yet" (a server still starting); the
    last one is named in the ``TimeoutError`` so a real error is not hidden.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if condition():
                return
        except Exception as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            cause = f"; last error: {type(last_error).__name__}: {last_error}" if last_error else ""
            msg = f"{what} not met within {timeout:.1f}s{cause}"
            raise TimeoutError(msg) from last_error
        time.sleep(interval)
