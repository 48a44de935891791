"""Where the HDFS sink's bytes go: a small filesystem interface and its two implementations.

:class:`LocalFileSystem` (``file://``) writes with ``flush`` + ``fsync`` per call;
:class:`WebHdfsFileSystem` (``hdfs://``, ``webhdfs://``) uses the ``hdfs``
(HdfsCLI) client, where a CREATE or APPEND that returned is closed and durable
on the DataNodes. :class:`BoundedFileSystem` runs every call of another
filesystem on a worker pool and gives up after ``call_timeout`` seconds, so a
hung call never hangs the sink thread.

Error tree (all carry ``path``, ``user`` and ``operation``)::

    FileSystemError (OSError)
    ├── FileSystemPermissionError   the user may not write there (AccessControlException)
    ├── FileSystemSafeModeError     the NameNode is in safe mode
    ├── FileSystemUnavailableError  NameNode or DataNode unreachable
    └── FileSystemTimeoutError      a call took longer than callTimeout
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

from flume_sdk import FlumeError, fsync_directory

__all__ = [
    "BoundedFileSystem",
    "ClientCalls",
    "FileSystem",
    "FileSystemError",
    "FileSystemPermissionError",
    "FileSystemSafeModeError",
    "FileSystemTimeoutError",
    "FileSystemUnavailableError",
    "LocalFileSystem",
    "WebHdfsFileSystem",
    "refusal",
]

T = TypeVar("T")


class FileSystemError(FlumeError, OSError):
    """A filesystem call failed.

    Attributes:
        operation: what was attempted (``create``, ``append``, ``rename``...).
        path: the path it was attempted on.
        user: the user it ran as.
    """

    def __init__(self, message: str, *, operation: str = "", path: str = "",
                 user: str = "") -> None:
        super().__init__(message)
        self.operation = operation
        self.path = path
        self.user = user


class FileSystemPermissionError(FileSystemError):
    """The user may not write the path."""


class FileSystemSafeModeError(FileSystemError):
    """The NameNode is in safe mode and refuses changes."""


class FileSystemUnavailableError(FileSystemError):
    """The NameNode or a DataNode cannot be reached."""


class FileSystemTimeoutError(FileSystemError):
    """A call did not finish within ``hdfs.callTimeout``."""


class FileSystem(Protocol):
    """What the sink needs of a filesystem. Every write is durable when it returns."""

    description: str
    user: str

    def create(self, path: str, data: bytes) -> None:
        """Create ``path`` (and missing parents) holding ``data``; fail if it exists."""
        ...

    def append(self, path: str, data: bytes) -> None:
        """Append ``data`` to the existing ``path``."""
        ...

    def size(self, path: str) -> int | None:
        """The length of ``path``, or None when it does not exist."""
        ...

    def truncate(self, path: str, length: int) -> bool:
        """Cut ``path`` to ``length`` bytes; False when the filesystem cannot."""
        ...

    def rename(self, src: str, dst: str) -> bool:
        """Rename; False when ``dst`` already exists (nothing changes then)."""
        ...

    def delete(self, path: str) -> None:
        """Remove ``path`` if it exists."""
        ...

    def release(self, path: str) -> None:
        """Close any handle kept open for ``path`` (before a rename)."""
        ...

    def close_soon(self, path: str) -> None:
        """Start closing the handle of ``path`` in the background (``release`` waits for it)."""
        ...

    def closing(self, path: str) -> bool:
        """True while a close :meth:`close_soon` started has not finished."""
        ...

    def close(self) -> None:
        """Release every handle."""
        ...


# -- local ------------------------------------------------------------------------------------


class LocalFileSystem:
    """``file://``: files on this machine, fsync-ed on every write."""

    description = "local filesystem"

    def __init__(self) -> None:
        import getpass

        self.user = getpass.getuser()
        self._handles: dict[str, BinaryIO] = {}
        self._lock = threading.Lock()

    def _wrap(self, operation: str, path: str, exc: OSError) -> FileSystemError:
        cls = FileSystemPermissionError if isinstance(exc, PermissionError) else FileSystemError
        msg = (f"{operation} {path} failed as user {self.user!r}: {exc.strerror or exc}; check "
               "that the directory exists or can be created, its permissions and free space")
        return cls(msg, operation=operation, path=path, user=self.user)

    def create(self, path: str, data: bytes) -> None:
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = open(target, "xb")  # noqa: SIM115 - kept open across batches
            with self._lock:
                self._handles[path] = handle
            self._write(handle, data)
            fsync_directory(target.parent)
        except OSError as exc:
            raise self._wrap("create", path, exc) from exc

    def append(self, path: str, data: bytes) -> None:
        try:
            with self._lock:
                handle = self._handles.get(path)
                if handle is None:
                    handle = open(path, "r+b")  # noqa: SIM115 - kept open across batches
                    self._handles[path] = handle
            handle.seek(0, os.SEEK_END)
            self._write(handle, data)
        except OSError as exc:
            self.release(path)
            raise self._wrap("append", path, exc) from exc

    @staticmethod
    def _write(handle: BinaryIO, data: bytes) -> None:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())

    def size(self, path: str) -> int | None:
        try:
            return os.stat(path).st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._wrap("stat", path, exc) from exc

    def truncate(self, path: str, length: int) -> bool:
        self.release(path)
        try:
            os.truncate(path, length)
        except OSError as exc:
            raise self._wrap("truncate", path, exc) from exc
        return True

    def rename(self, src: str, dst: str) -> bool:
        self.release(src)
        try:
            os.link(src, dst)  # fails when dst exists: never overwrite a finished file
            os.unlink(src)
            fsync_directory(Path(dst).parent)
        except FileExistsError:
            return False
        except OSError as exc:
            raise self._wrap("rename", src, exc) from exc
        return True

    def delete(self, path: str) -> None:
        self.release(path)
        try:
            Path(path).unlink(missing_ok=True)
        except OSError as exc:
            raise self._wrap("delete", path, exc) from exc

    def release(self, path: str) -> None:
        with self._lock:
            handle = self._handles.pop(path, None)
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()

    def close(self) -> None:
        with self._lock:
            paths = list(self._handles)
        for path in paths:
            self.release(path)

    def close_soon(self, path: str) -> None:
        """Nothing in the background: :meth:`release` closes at once."""

    def closing(self, path: str) -> bool:
        return False


# -- WebHDFS ----------------------------------------------------------------------------------


def refusal(where: str, text: str, name: str = "", *, operation: str, path: str,
            user: str) -> FileSystemError | None:
    """The NameNode's permission or safe-mode refusal in ``text``, as our error; else None."""
    if name == "AccessControlException" or "AccessControlException" in text or \
            "Permission denied" in text:
        msg = (f"{where} was refused, permission denied: {text}; grant the user write "
               f"access (hdfs dfs -chown/-chmod) or set hdfs.user")
        return FileSystemPermissionError(msg, operation=operation, path=path, user=user)
    if name == "SafeModeException" or "SafeModeException" in text or \
            "safe mode" in text.lower():
        msg = (f"{where} was refused, the NameNode is in safe mode: {text}; writes resume "
               "when it leaves safe mode (hdfs dfsadmin -safemode leave)")
        return FileSystemSafeModeError(msg, operation=operation, path=path, user=user)
    return None


class ClientCalls(abc.ABC):
    """Runs a client call and turns what it raises into a :class:`FileSystemError`."""

    @abc.abstractmethod
    def _wrap(self, operation: str, path: str, exc: Exception) -> FileSystemError:
        """The :class:`FileSystemError` for what the client raised in ``operation`` on ``path``.

        Args:
            operation: the call that failed (``create``, ``append``, ``rename``, ...).
            path: the file or directory it was made on.
            exc: what the client raised.

        Returns:
            The error to raise in its place (chained to ``exc`` by the caller).
        """

    def _around(self) -> contextlib.AbstractContextManager[object]:
        """What every call runs inside (nothing here)."""
        return contextlib.nullcontext()

    def _call(self, operation: str, path: str, fn: Callable[[], T]) -> T:
        try:
            with self._around():
                return fn()
        except FileSystemError:
            raise
        except Exception as exc:
            raise self._wrap(operation, path, exc) from exc


class WebHdfsFileSystem(ClientCalls):
    """HDFS over WebHDFS with the ``hdfs`` client, as ``user`` (no Kerberos).

    Args:
        url: the NameNode's WebHDFS address, ``http://host:50070`` (``;`` separates HA peers).
        user: the ``user.name`` the calls run as.
        timeout: seconds for each HTTP request.
        proxy_user: ``doas`` user (Flume's ``hdfs.proxyUser``).
    """

    def __init__(self, url: str, user: str, *, timeout: float, proxy_user: str = "") -> None:
        import hdfs  # type: ignore[import-untyped]

        self.url = url
        self.user = user
        self.description = f"HDFS at {url}"
        self._timeout = timeout
        self._client = hdfs.InsecureClient(url, user=user, timeout=timeout,
                                           proxy=proxy_user or None)

    def _wrap(self, operation: str, path: str, exc: Exception) -> FileSystemError:
        import requests

        text = str(exc)
        name = getattr(exc, "exception", "") or ""
        where = f"{operation} {path} on {self.description} as user {self.user!r}"
        if isinstance(exc, requests.Timeout):
            return FileSystemTimeoutError(f"{where} timed out: {text}", operation=operation,
                                          path=path, user=self.user)
        if isinstance(exc, requests.ConnectionError):
            msg = f"{where} failed, NameNode or DataNode unreachable: {text}"
            return FileSystemUnavailableError(msg, operation=operation, path=path,
                                              user=self.user)
        refused = refusal(where, text, name, operation=operation, path=path, user=self.user)
        if refused is not None:
            return refused
        return FileSystemError(f"{where} failed: {name or type(exc).__name__}: {text}",
                               operation=operation, path=path, user=self.user)

    def create(self, path: str, data: bytes) -> None:
        self._call("create", path, lambda: self._client.write(path, data=data, overwrite=False))

    def append(self, path: str, data: bytes) -> None:
        self._call("append", path, lambda: self._client.write(path, data=data, append=True))

    def size(self, path: str) -> int | None:
        status = self._call("status", path, lambda: self._client.status(path, strict=False))
        return None if status is None else int(status["length"])

    def truncate(self, path: str, length: int) -> bool:
        """WebHDFS TRUNCATE; when HDFS must recover the last block, wait until it did.

        A truncate inside a block answers ``false`` and the file stays under
        recovery for a moment (appends fail with "recovery is in progress");
        an empty APPEND is tried until it goes through, within the call timeout.
        """
        def run() -> bool:
            session = self._client._session  # the client's own session and timeouts
            base = self._client.url.split(";")[0].rstrip("/")
            res = session.post(f"{base}/webhdfs/v1{path}", timeout=self._timeout, params={
                "op": "TRUNCATE", "newlength": str(length), "user.name": self.user})
            if res.status_code >= 400:
                msg = f"TRUNCATE answered {res.status_code}: {res.text[:300]}"
                raise RuntimeError(msg)
            if not res.json().get("boolean"):
                self._await_recovery(path)
            return True
        return self._call("truncate", path, run)

    def _await_recovery(self, path: str) -> None:
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                self._client.write(path, data=b"", append=True)
                return
            except Exception as exc:
                if "recovery is in progress" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)  # the NameNode finishes block recovery within seconds

    def rename(self, src: str, dst: str) -> bool:
        if self.size(dst) is not None:
            return False
        self._call("rename", src, lambda: self._client.rename(src, dst))
        return True

    def delete(self, path: str) -> None:
        self._call("delete", path, lambda: self._client.delete(path))

    def release(self, path: str) -> None:
        """Nothing to release: every WebHDFS write closes the file."""

    def close_soon(self, path: str) -> None:
        """Nothing to close: every WebHDFS write closes the file."""

    def closing(self, path: str) -> bool:
        return False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client._session.close()


# -- bounded calls ----------------------------------------------------------------------------


class BoundedFileSystem:
    """Runs each call of ``inner`` on a pool of ``threads`` workers, waiting ``timeout`` s.

    A call still running after ``timeout`` raises :class:`FileSystemTimeoutError`
    here; the worker keeps running until the call returns (Python cannot
    interrupt a thread), so the inner client should have its own timeout too.
    """

    def __init__(self, inner: Any, *, threads: int, timeout: float, name: str) -> None:
        self.inner = inner
        self.description = inner.description
        self.user = inner.user
        self.timeout = timeout
        self._pool = cf.ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)

    def _run(self, operation: str, path: str, fn: Callable[..., T], *args: Any) -> T:
        return self._start(operation, path, fn, *args)()

    def _start(self, operation: str, path: str, fn: Callable[..., T],
               *args: Any) -> Callable[[], T]:
        """Submit ``fn(*args)``; the returned wait gives its result within ``timeout``
        seconds of the submission (else :class:`FileSystemTimeoutError`)."""
        future = self._pool.submit(fn, *args)
        deadline = time.monotonic() + self.timeout

        def wait() -> T:
            try:
                return future.result(timeout=max(deadline - time.monotonic(), 0.0))
            except cf.TimeoutError:
                future.cancel()
                msg = (f"{operation} {path} on {self.description} did not finish within "
                       f"hdfs.callTimeout ({self.timeout:g} s); the events stay in the channel")
                raise FileSystemTimeoutError(msg, operation=operation, path=path,
                                             user=self.user) from None
        return wait

    def start_write(self, path: str, data: bytes, *, create: bool) -> Callable[[], None]:
        """Start a create (``create``) or an append of ``data``; the returned call waits
        for it (within ``hdfs.callTimeout`` of now) and raises what it raised.

        Returns once the worker is waiting for the destination — in the native
        client's ``hsync`` when the filesystem ``reports_syncing``, else as soon as it
        began the call — or the call ended, or the timeout passed: the caller's next
        Python work then runs while the worker needs no GIL, instead of holding the
        GIL the worker needs to go on.
        """
        fn = self.inner.create if create else self.inner.append
        waiting = threading.Event()
        reports = bool(getattr(self.inner, "reports_syncing", False))

        def run() -> None:
            try:
                if reports:
                    fn(path, data, syncing=waiting.set)
                else:
                    waiting.set()
                    fn(path, data)
            finally:
                waiting.set()
        wait = self._start("create" if create else "append", path, run)
        waiting.wait(self.timeout)
        return wait

    def create(self, path: str, data: bytes) -> None:
        self._run("create", path, self.inner.create, path, data)

    def append(self, path: str, data: bytes) -> None:
        self._run("append", path, self.inner.append, path, data)

    def size(self, path: str) -> int | None:
        result: int | None = self._run("status", path, self.inner.size, path)
        return result

    def truncate(self, path: str, length: int) -> bool:
        return bool(self._run("truncate", path, self.inner.truncate, path, length))

    def rename(self, src: str, dst: str) -> bool:
        return bool(self._run("rename", src, self.inner.rename, src, dst))

    def delete(self, path: str) -> None:
        self._run("delete", path, self.inner.delete, path)

    def release(self, path: str) -> None:
        self._run("close", path, self.inner.release, path)

    def close_soon(self, path: str) -> None:
        self.inner.close_soon(path)

    def closing(self, path: str) -> bool:
        return bool(self.inner.closing(path))

    def close(self) -> None:
        """Stop the pool without waiting for hung calls, then release the inner handles."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.inner.close()
