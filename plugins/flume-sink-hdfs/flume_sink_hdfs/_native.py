"""``hdfs://`` over HDFS's own RPC and data-transfer protocol, with ``hdfs-native``.

:class:`NativeHdfsFileSystem` keeps one open ``FileWriter`` per in-use file,
from its create to its rename, and makes every write durable before it returns
with ``FileWriter.hsync()``: the client sends the data and a packet flagged
``syncBlock``, and waits for the pipeline's acknowledgement, which every
DataNode of the pipeline sends only after it wrote the bytes to its disk and
fsync-ed them; the NameNode's visible length is updated too. ``hdfs-native``
0.14.7 has no ``hflush`` (and its ``FileWriter.flush()`` is ``io.RawIOBase``'s,
which does nothing), so ``hdfs.syncMode = hflush`` gets the same ``hsync``:
stronger than Hadoop's hflush (acknowledged by every DataNode, in memory),
never weaker.

What ``hdfs-native`` lacks is borrowed from the NameNode's WebHDFS port: a cut
back (after a failed batch, or of a batch torn by a crash) first ends whatever
writer holds the file — our own writer is closed, a dead process's lease is
recovered with ``recoverLease`` — then truncates over WebHDFS.

The user: without Kerberos, ``hdfs-native`` sends ``HADOOP_USER_NAME`` (else the
OS user) as the caller, read each time it connects to the NameNode, which it may
do inside any call; it has no real-user/effective-user pair there
(``HADOOP_PROXY_USER`` is read only with Kerberos). So the calls run as
``hdfs.proxyUser`` when set, else ``hdfs.user``: the same files and owners as a
doas, but the NameNode's ``hadoop.proxyuser.*`` rules are not consulted (with
simple authentication it trusts the name it is given either way). When that
name differs from the process environment, each call sets ``HADOOP_USER_NAME``
under one process-wide lock and restores it after.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import getpass
import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from flume_sink_hdfs._filesystem import (
    ClientCalls,
    FileSystemError,
    FileSystemTimeoutError,
    FileSystemUnavailableError,
    WebHdfsFileSystem,
    refusal,
)

__all__ = ["SYNC_MODES", "NativeHdfsFileSystem"]

SYNC_MODES = ("hflush", "hsync")
"""``hdfs.syncMode`` values; both run ``hdfs-native``'s ``hsync`` (see the module docstring)."""

_ENV_LOCK = threading.Lock()
_USER = "HADOOP_USER_NAME"
_UNAVAILABLE = ("ConnectionRefused", "Connection refused", "All nodes failed",
                "DataTransferError", "Broken pipe", "ConnectionReset", "RPC listener",
                "timed out", "Datanode connection closed", "IOError")


@functools.cache
def _os_user() -> str:
    """The OS user, looked up once: ``getpass.getuser()`` may read the password database,
    which releases the GIL in the middle of a write's start and lets other threads in."""
    return getpass.getuser()


@contextlib.contextmanager
def _acting_as(user: str) -> Iterator[None]:
    """Run a client call with the environment ``hdfs-native`` reads its user from."""
    env = os.environ
    if (env.get(_USER) or _os_user()) == user:
        yield
        return
    with _ENV_LOCK:
        saved = env.get(_USER)
        env[_USER] = user
        try:
            yield
        finally:
            if saved is None:
                env.pop(_USER, None)
            else:
                env[_USER] = saved


class NativeHdfsFileSystem(ClientCalls):
    """HDFS through ``hdfs-native``: files kept open, ``hsync`` per write.

    Args:
        url: the NameNode, ``hdfs://host:8020``.
        user: the user the calls run as (no Kerberos).
        timeout: seconds a lease recovery may take.
        webhdfs: the same cluster over WebHDFS, for truncate.
        proxy_user: ``hdfs.proxyUser``: when set, the calls run as this user instead.
    """

    def __init__(self, url: str, user: str, *, timeout: float, webhdfs: WebHdfsFileSystem,
                 proxy_user: str = "") -> None:
        import hdfs_native

        self.url = url
        self.user = proxy_user or user  # see the module docstring
        self.description = f"HDFS at {url}"
        self._timeout = timeout
        self._webhdfs = webhdfs
        self._options = hdfs_native.WriteOptions(overwrite=False, create_parent=True)
        self._writers: dict[str, Any] = {}
        self._closes: dict[str, cf.Future[None]] = {}
        self._closer: cf.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        with _acting_as(self.user):
            self._client = hdfs_native.Client(url, _client_config(timeout))

    # -- errors

    def _wrap(self, operation: str, path: str, exc: Exception) -> FileSystemError:
        text = _first_line(str(exc))
        where = f"{operation} {path} on {self.description} as user {self.user!r}"
        refused = refusal(where, text, operation=operation, path=path, user=self.user)
        if refused is not None:
            return refused
        if isinstance(exc, ConnectionError | TimeoutError) or \
                any(mark in text for mark in _UNAVAILABLE):
            msg = f"{where} failed, NameNode or DataNode unreachable: {text}"
            return FileSystemUnavailableError(msg, operation=operation, path=path,
                                              user=self.user)
        return FileSystemError(f"{where} failed: {type(exc).__name__}: {text}",
                               operation=operation, path=path, user=self.user)

    def _around(self) -> contextlib.AbstractContextManager[object]:
        return _acting_as(self.user)

    # -- writes

    reports_syncing: ClassVar[bool] = True
    """:meth:`create` and :meth:`append` call ``syncing()`` once only the ``hsync`` is left."""

    def create(self, path: str, data: bytes, *,
               syncing: Callable[[], None] | None = None) -> None:
        def run() -> None:
            writer = self._client.create(path, self._options)
            with self._lock:
                self._writers[path] = writer
            self._write(path, writer, data, syncing)
        self._call("create", path, run)

    def append(self, path: str, data: bytes, *,
               syncing: Callable[[], None] | None = None) -> None:
        def run() -> None:
            with self._lock:
                writer = self._writers.get(path)
            if writer is None:
                self._recover(path)
                writer = self._client.append(path)
                with self._lock:
                    self._writers[path] = writer
            self._write(path, writer, data, syncing)
        self._call("append", path, run)

    def _write(self, path: str, writer: Any, data: bytes,
               syncing: Callable[[], None] | None = None) -> None:
        """One write and one hsync; on failure the writer is dropped (its lease recovered later).

        ``syncing`` is called between the two: a thread waiting for it then runs its
        Python while this one waits in the client's ``hsync`` without the GIL, instead
        of holding the GIL this thread needs to call ``hsync``.
        """
        try:
            if data:
                writer.write(data)
            if syncing is not None:
                syncing()
            writer.hsync()
        except BaseException:
            self._abandon(path)
            raise

    def _abandon(self, path: str) -> None:
        with self._lock:
            writer = self._writers.pop(path, None)
        if writer is not None:
            # Mark the io object closed without the client's close(): a broken
            # pipeline cannot complete the file, and io's finalizer would try.
            io.RawIOBase.close(writer)

    # -- metadata

    def size(self, path: str) -> int | None:
        """The length; a file no writer of ours holds has its lease recovered first."""
        def run() -> int | None:
            with self._lock:
                held = path in self._writers
                closing = path in self._closes
            if closing:
                self.release(path)
            try:
                if not held:
                    self._recover(path)
                return int(self._client.get_file_info(path).length)
            except FileNotFoundError:
                return None
        return self._call("status", path, run)

    def _recover(self, path: str) -> None:
        """End the lease another (or a broken) writer holds on ``path``; wait until closed.

        Raises:
            FileNotFoundError: there is no such file.
            FileSystemTimeoutError: the NameNode did not close it within the timeout.
        """
        deadline = time.monotonic() + self._timeout
        pause = 0.05
        while not self._client.recover_lease(path):
            if time.monotonic() > deadline:
                msg = (f"lease recovery of {path} on {self.description} did not finish within "
                       f"{self._timeout:g} s (is a DataNode of its last block down?)")
                raise FileSystemTimeoutError(msg, operation="recoverLease", path=path,
                                             user=self.user)
            time.sleep(pause)  # block recovery by the DataNodes takes a second or two
            pause = min(pause * 2, 0.5)

    def truncate(self, path: str, length: int) -> bool:
        """Close or recover ``path``, then WebHDFS TRUNCATE (``hdfs-native`` has none)."""
        self.release(path)
        self._call("truncate", path, lambda: self._recover(path))
        return self._webhdfs.truncate(path, length)

    def rename(self, src: str, dst: str) -> bool:
        self.release(src)

        def run() -> bool:
            try:
                self._client.rename(src, dst, False)
            except FileExistsError:
                return False
            return True
        return self._call("rename", src, run)

    def delete(self, path: str) -> None:
        self._abandon(path)
        self._call("delete", path, lambda: self._client.delete(path, False))

    def release(self, path: str) -> None:
        """Close the writer of ``path`` (completing its last block), if one is open.

        A close :meth:`close_soon` started is waited for here.

        Raises:
            FileSystemError: the close failed; the writer is dropped and the
                file's lease is recovered by the next :meth:`size` or append.
        """
        with self._lock:
            writer = self._writers.pop(path, None)
            started = self._closes.pop(path, None)
        if started is not None:
            started.result()
        if writer is not None:
            self._close_writer(path, writer)

    def close_soon(self, path: str) -> None:
        """Close the writer of ``path`` on a background thread.

        Closing waits for the NameNode to complete the file, which it refuses
        until the DataNodes reported the last block: ``hdfs-native`` then retries
        after 500 ms. The sink goes on writing other files meanwhile.
        """
        with self._lock:
            writer = self._writers.pop(path, None)
            if writer is None or path in self._closes:
                return
            if self._closer is None:
                self._closer = cf.ThreadPoolExecutor(max_workers=2,
                                                     thread_name_prefix="hdfs-close")
            self._closes[path] = self._closer.submit(self._close_writer, path, writer)

    def closing(self, path: str) -> bool:
        with self._lock:
            started = self._closes.get(path)
        return started is not None and not started.done()

    def _close_writer(self, path: str, writer: Any) -> None:
        """Close; when that fails, have the NameNode close the file (lease recovery)."""
        try:
            self._call("close", path, writer.close)
        except FileSystemError:
            with contextlib.suppress(Exception):
                self._call("recoverLease", path, lambda: self._recover(path))
            raise
        finally:
            io.RawIOBase.close(writer)

    def close(self) -> None:
        """Close every open writer (best effort), then the WebHDFS session."""
        with self._lock:
            paths = [*self._writers, *self._closes]
        for path in paths:
            with contextlib.suppress(FileSystemError):
                self.release(path)
        if self._closer is not None:
            self._closer.shutdown(wait=False)
        self._webhdfs.close()


def _client_config(timeout: float) -> dict[str, str]:
    """Fail fast when the NameNode is down (the default retries for minutes, and a
    thread stuck in the client cannot be interrupted); DataNode reads time out
    with ``hdfs.callTimeout``."""
    return {
        "dfs.client.failover.max.attempts": "2",
        "dfs.client.failover.sleep.base.millis": "100",
        "dfs.client.failover.sleep.max.millis": "1000",
        "dfs.client.socket-timeout": str(max(int(timeout * 1000), 1000)),
    }


def _first_line(text: str) -> str:
    """The Java exception's message without its stack trace."""
    return text.split("\n\tat ", 1)[0].replace("\\n\\tat ", "\n").split("\n", 1)[0]
