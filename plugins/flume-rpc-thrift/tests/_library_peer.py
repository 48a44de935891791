"""Flume's ThriftSourceProtocol built at runtime on the Apache Thrift Python library.

No compiler output: the structs are ``TBase`` classes with hand-written ``thrift_spec``
tuples (the shape the compiler's ``py:dynamic`` mode produces), and the client and
server drive the library's own ``TSocket``, ``TFramedTransport`` and
``TCompactProtocol``/``TBinaryProtocol``. This is the independent peer our wire
format is checked against.
"""

from __future__ import annotations

import contextlib
import select
import threading
from collections.abc import Callable
from typing import Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.protocol.TBase import TBase
from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.transport import TSocket, TTransport

__all__ = [
    "LibraryClient",
    "LibraryServer",
    "ThriftFlumeEvent",
    "protocol_factory",
]

OK, FAILED = 0, 1


def protocol_factory(name: str, *, accelerated: bool = False) -> Any:
    """The library's protocol factory for ``compact`` or ``binary`` (C-accelerated if asked)."""
    if name == "binary":
        return (TBinaryProtocol.TBinaryProtocolAcceleratedFactory() if accelerated
                else TBinaryProtocol.TBinaryProtocolFactory())
    return (TCompactProtocol.TCompactProtocolAcceleratedFactory() if accelerated
            else TCompactProtocol.TCompactProtocolFactory())


class _Struct(TBase):
    __slots__: tuple[str, ...] = ()
    thrift_spec: tuple[Any, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))


class ThriftFlumeEvent(_Struct):
    __slots__ = ("body", "headers")
    thrift_spec = (None,
                   (1, TType.MAP, "headers", (TType.STRING, "UTF8", TType.STRING, "UTF8", False),
                    None),
                   (2, TType.STRING, "body", "BINARY", None))


class AppendArgs(_Struct):
    __slots__ = ("event",)
    thrift_spec = (None, (1, TType.STRUCT, "event", [ThriftFlumeEvent, ThriftFlumeEvent.thrift_spec], None))


class AppendBatchArgs(_Struct):
    __slots__ = ("events",)
    thrift_spec = (None, (1, TType.LIST, "events",
                          (TType.STRUCT, [ThriftFlumeEvent, ThriftFlumeEvent.thrift_spec], False), None))


class StatusResult(_Struct):
    __slots__ = ("success",)
    thrift_spec = ((0, TType.I32, "success", None, None),)


_ARGS = {"append": AppendArgs, "appendBatch": AppendBatchArgs}


class LibraryClient:
    """The library's framed client: ``append_batch`` returns the status the source answered."""

    def __init__(self, port: int, protocol: str = "compact", timeout: float = 5.0, *,
                 accelerated: bool = False) -> None:
        socket = TSocket.TSocket("127.0.0.1", port)
        socket.setTimeout(timeout * 1000)
        self._transport = TTransport.TFramedTransport(socket)
        factory = protocol_factory(protocol, accelerated=accelerated)
        self._protocol = factory.getProtocol(self._transport)
        self._seqid = 0
        self._transport.open()

    def __enter__(self) -> LibraryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._transport.close()

    def append(self, headers: dict[str, str], body: bytes) -> int:
        return self._call("append", AppendArgs(event=ThriftFlumeEvent(headers=headers,
                                                                       body=body)))

    def append_batch(self, events: list[tuple[dict[str, str], bytes]]) -> int:
        batch = [ThriftFlumeEvent(headers=h, body=b) for h, b in events]
        return self._call("appendBatch", AppendBatchArgs(events=batch))

    def _call(self, method: str, args: _Struct) -> int:
        self._seqid += 1
        prot = self._protocol
        prot.writeMessageBegin(method, TMessageType.CALL, self._seqid)
        args.write(prot)
        prot.writeMessageEnd()
        prot.trans.flush()
        name, mtype, seqid = prot.readMessageBegin()
        if mtype == TMessageType.EXCEPTION:
            error = TApplicationException()
            error.read(prot)
            prot.readMessageEnd()
            raise error
        result = StatusResult()
        result.read(prot)
        prot.readMessageEnd()
        assert (name, seqid) == (method, self._seqid), (name, seqid)
        return int(result.success)


Handler = Callable[[str, list[ThriftFlumeEvent]], int]


class LibraryServer:
    """A framed Thrift server on the library's transports, one thread per connection.

    ``handler(method, events) -> status`` answers each call. (The library's own servers
    cannot be stopped, so the accept loop is ours; everything on the wire is the library's.)
    """

    def __init__(self, handler: Handler, protocol: str = "compact") -> None:
        self._handler = handler
        self._factory = protocol_factory(protocol)
        self._server = TSocket.TServerSocket(host="127.0.0.1", port=0)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: list[TTransport.TTransportBase] = []
        self.port = 0

    def start(self) -> LibraryServer:
        self._server.listen()
        self.port = self._server.handle.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for client in list(self._clients):
            with contextlib.suppress(Exception):
                client.handle.shutdown(2)
        for thread in self._threads:
            thread.join(5)
        self._server.close()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._server.handle], [], [], 0.05)
            if ready:
                client = self._server.accept()
                self._clients.append(client)
                self._spawn(self._serve, client)

    def _serve(self, client: Any) -> None:
        transport = TTransport.TFramedTransport(client)
        prot = self._factory.getProtocol(transport)
        try:
            while not self._stopping.is_set():
                self._process(prot)
        except (TTransport.TTransportException, OSError):
            pass
        finally:
            transport.close()

    def _process(self, prot: Any) -> None:
        method, _, seqid = prot.readMessageBegin()
        args = _ARGS[method]()
        args.read(prot)
        prot.readMessageEnd()
        events = [args.event] if method == "append" else list(args.events)
        status = self._handler(method, events)
        prot.writeMessageBegin(method, TMessageType.REPLY, seqid)
        StatusResult(success=status).write(prot)
        prot.writeMessageEnd()
        prot.trans.flush()
