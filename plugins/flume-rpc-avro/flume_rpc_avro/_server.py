"""An Avro IPC server speaking Netty framing, independent of the agent kernel.

One asyncio loop in its own thread owns the sockets; decoding and the call handler run
in a pool of worker threads, so a slow channel never stalls other connections' I/O.
Requests on one connection are answered in order. Any malformed input closes only
that connection and is reported to ``on_bad_input``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any

import attrs

from flume_rpc_avro._compression import CHUNK_SIZE, Deflater, Inflater
from flume_rpc_avro._errors import AvroRpcError
from flume_rpc_avro._framing import FrameDecoder, encode_frame
from flume_rpc_avro._ipfilter import IpFilter
from flume_rpc_avro._protocol import PROTOCOL_MD5, AvroStatus
from flume_rpc_avro._session import Call, ServerSession
from flume_sdk import RateLimitedLog, limit_asyncio_errors

__all__ = ["AvroRpcServer", "CallHandler", "ServerOptions"]

_log = logging.getLogger(__name__)
_ACCEPT_SETTLE_TURNS = 8

CallHandler = Callable[[str, list[dict[str, Any]]], AvroStatus]
"""Executes one call (``"append"``/``"appendBatch"``, events) and returns its status."""


@attrs.frozen(kw_only=True)
class ServerOptions:
    """How the server listens and guards itself."""

    host: str
    port: int
    threads: int = 16
    deflate: bool = False
    ssl_context: ssl.SSLContext | None = None
    ip_filter: IpFilter | None = None
    max_frame_size: int = 64 * 1024 * 1024
    frame_timeout: float = 30.0
    idle_timeout: float = 300.0
    max_connections: int = 0


class AvroRpcServer:
    """Serve Flume's AvroSourceProtocol on a TCP port.

    Args:
        options: where and how to listen.
        handler: runs each call in a worker thread.
        on_bad_input: told (peer, error) when a connection is closed for bad input.
        on_connections: told the number of open connections whenever it changes.
        on_refused: told when a connection is closed for being over ``max_connections``.
        component: whose ``health`` and name the loop's (rate-limited) error reports use,
            such as a failed ``accept()``; this server by default.
    """

    def __init__(
        self,
        options: ServerOptions,
        handler: CallHandler,
        *,
        on_bad_input: Callable[[str, Exception], None] = lambda peer, exc: None,
        on_connections: Callable[[int], None] = lambda n: None,
        component: Any = None,
        on_refused: Callable[[], None] = lambda: None,
    ) -> None:
        self.options = options
        self.name = f"{options.host}:{options.port}"
        self._component = component if component is not None else self
        self._limited = RateLimitedLog(_log, f"Avro RPC server {self.name}")
        self._handler = handler
        self._on_bad_input = on_bad_input
        self._on_connections = on_connections
        self._on_refused = on_refused
        self._known_hashes = {PROTOCOL_MD5}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = options.port

    def start(self, timeout: float = 10.0) -> None:
        """Bind and start serving; return once the port accepts connections."""
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, self.options.threads), thread_name_prefix="avro-call"
        )
        self._loop = asyncio.new_event_loop()
        limit_asyncio_errors(self._loop, self._component, _log)
        self._thread = threading.Thread(target=self._loop.run_forever, name="avro-io", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        try:
            future.result(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listener and every connection; idempotent."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            with contextlib.suppress(concurrent.futures.TimeoutError):
                future.result(timeout)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
        if loop is not None and not loop.is_running():
            loop.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._loop = self._thread = self._server = self._pool = None

    async def _listen(self) -> None:
        opts = self.options
        self._server = await asyncio.start_server(
            self._accept,
            opts.host,
            opts.port,
            ssl=opts.ssl_context,
            ssl_handshake_timeout=opts.frame_timeout if opts.ssl_context else None,
            limit=CHUNK_SIZE,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        # A connection waiting in the backlog needs a few loop turns (accept -> transport ->
        # connection_made -> task start) to appear in _tasks. Closing the server in between
        # makes Python 3.11 fail that accept and leak its socket, so let pending accepts
        # finish first, and let any that raced the close reach _tasks before cancelling.
        await _settle()
        if self._server is not None:
            self._server.close()
        await _settle()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5.0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        health = getattr(self._component, "health", None)
        if health is not None:
            health.ok("accept")  # accepting works (again)
        limit = self.options.max_connections
        if limit and len(self._tasks) >= limit:
            await self._refuse(writer)
            return
        self._tasks.add(task)
        self._on_connections(len(self._tasks))
        peer = _peer_name(writer)
        try:
            if await self._allowed(writer):
                await self._serve(reader, writer, peer)
        except (AvroRpcError, TimeoutError) as exc:
            self._limited.failed("bad input", f"closed the connection from {peer}: {exc}")
            self._on_bad_input(peer, exc)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            _log.debug("Avro RPC connection from %s dropped", peer, exc_info=True)
        except asyncio.CancelledError:
            _log.debug("Avro RPC connection from %s closed by shutdown", peer)
        finally:
            try:
                await _close(writer)
            finally:
                # only now: shutdown waits for this task, so the socket is closed before the
                # loop stops (otherwise it leaks as an unclosed transport)
                self._tasks.discard(task)
                self._on_connections(len(self._tasks))

    async def _refuse(self, writer: asyncio.StreamWriter) -> None:
        self._on_refused()
        self._limited.failed("refused", f"max-connections = {self.options.max_connections} "
                             "are open")
        await _close(writer)

    async def _allowed(self, writer: asyncio.StreamWriter) -> bool:
        ip_filter = self.options.ip_filter
        if ip_filter is None:
            return True
        ip = str(writer.get_extra_info("peername")[0])
        loop = asyncio.get_running_loop()
        allowed = await loop.run_in_executor(self._pool, ip_filter.allows, ip)
        if not allowed:
            _log.info("ipFilterRules denied an Avro RPC connection from %s", ip)
        return allowed

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        session = ServerSession(self._known_hashes)
        decoder = FrameDecoder(self.options.max_frame_size)
        inflater = Inflater() if self.options.deflate else None
        deflater = Deflater(6) if self.options.deflate else None
        loop = asyncio.get_running_loop()
        deadline: float | None = None  # when the frame being received must be complete
        while True:
            data = await self._read(reader, deadline)
            if not data:
                if decoder.has_partial_frame:
                    msg = f"truncated Avro RPC frame: {peer} closed the connection mid-frame"
                    raise AvroRpcError(msg)
                return
            for chunk in inflater.decompress(data) if inflater else (data,):
                for serial, payload in decoder.feed(chunk):
                    deadline = None
                    frame = encode_frame(serial, await self._answer(session, payload))
                    writer.write(deflater.compress(frame) if deflater else frame)
                    await writer.drain()
            if not decoder.has_partial_frame:
                deadline = None
            elif deadline is None:
                deadline = loop.time() + self.options.frame_timeout

    async def _read(self, reader: asyncio.StreamReader, deadline: float | None) -> bytes:
        """The next bytes; b"" at the end, or after ``idle-timeout`` with no frame started.

        Raises:
            TimeoutError: a started frame was not complete by ``deadline`` (frame-timeout).
        """
        if deadline is None:
            try:
                return await asyncio.wait_for(reader.read(CHUNK_SIZE), self.options.idle_timeout)
            except TimeoutError:
                _log.debug("closing an Avro RPC connection idle for %gs (idle-timeout)",
                           self.options.idle_timeout)
                return b""
        remaining = max(deadline - asyncio.get_running_loop().time(), 0.001)
        try:
            return await asyncio.wait_for(reader.read(CHUNK_SIZE), remaining)
        except TimeoutError:
            msg = (f"stalled Avro RPC client: a frame not complete within frame-timeout = "
                   f"{self.options.frame_timeout:g}s of its first byte")
            raise TimeoutError(msg) from None

    async def _answer(self, session: ServerSession, payload: bytes) -> list[bytes]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._execute, session, payload)

    def _execute(self, session: ServerSession, payload: bytes) -> list[bytes]:
        call = session.decode(payload)
        if call.message is None or call.error is not None:
            return call.reply(AvroStatus.FAILED)
        return call.reply(self._run_handler(call))

    def _run_handler(self, call: Call) -> AvroStatus:
        assert call.message is not None
        try:
            return self._handler(call.message, call.events)
        except Exception:
            _log.exception("Avro RPC %s handler failed; answering FAILED", call.message)
            return AvroStatus.FAILED


async def _settle() -> None:
    for _ in range(_ACCEPT_SETTLE_TURNS):
        await asyncio.sleep(0)


def _peer_name(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if peer else "unknown peer"


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), 2.0)
