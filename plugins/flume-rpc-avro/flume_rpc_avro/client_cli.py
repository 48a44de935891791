"""``flume-ng avro-client``: send lines of a file, a directory or stdin to an Avro source.

Like Flume's ``AvroCLIClient``: each line (without its line ending) becomes one event,
every event carries the headers of the ``-R`` properties file, and events go out in
``appendBatch`` calls of 5. Exit status 0 when every batch was answered ``OK``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import javaproperties

from flume_rpc_avro._client import AvroRpcClient
from flume_rpc_avro._errors import AvroRpcError, DeliveryFailedError

__all__ = ["main"]

BATCH_SIZE = 5


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flume-ng avro-client", description="send lines as events to an Avro source",
        epilog="example:\n  flume-ng avro-client -H 127.0.0.1 -p 41414 -F /var/log/app.log",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-H", "--host", required=True, help="host of the Avro source")
    parser.add_argument("-p", "--port", required=True, type=int, help="port of the Avro source")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("-F", "--filename", type=Path, help="file to send (default: stdin)")
    source.add_argument("--dirname", type=Path, help="send every file in this directory")
    parser.add_argument("-R", "--headerFile", dest="header_file", type=Path,
                        help="properties file of headers added to every event")
    parser.add_argument("-b", "--batch-size", type=int, default=BATCH_SIZE,
                        help=f"events per appendBatch call (default {BATCH_SIZE})")
    parser.add_argument("--compression-type", choices=("none", "deflate"), default="none",
                        help="must match the source's compression-type")
    return parser


def _read_headers(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    with path.open("r", encoding="utf-8") as fh:
        return dict(javaproperties.load(fh))


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    for line in stream:
        yield line.rstrip(b"\r\n")


def _inputs(args: argparse.Namespace) -> Iterator[bytes]:
    if args.dirname is not None:
        for path in sorted(p for p in args.dirname.iterdir() if p.is_file()):
            with path.open("rb") as fh:
                yield from _lines(fh)
    elif args.filename is not None:
        with args.filename.open("rb") as fh:
            yield from _lines(fh)
    else:
        yield from _lines(sys.stdin.buffer)


def _batches(lines: Iterable[bytes], headers: dict[str, str], size: int) -> Iterator[list[Any]]:
    batch: list[dict[str, Any]] = []
    for line in lines:
        batch.append({"headers": dict(headers), "body": line})
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def main(argv: Sequence[str] | None = None) -> int:
    """Run the client; return the process exit status."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.batch_size < 1:
        print(f"avro-client: --batch-size must be >= 1 (got {args.batch_size})", file=sys.stderr)
        return 2
    level = 6 if args.compression_type == "deflate" else None
    sent = 0
    try:
        with AvroRpcClient(args.host, args.port, compression_level=level) as client:
            for batch in _batches(_inputs(args), _read_headers(args.header_file), args.batch_size):
                client.append_batch(batch)
                sent += len(batch)
    except (AvroRpcError, DeliveryFailedError, OSError) as exc:
        print(f"avro-client: failed after {sent} event(s) to {args.host}:{args.port}: {exc}",
              file=sys.stderr)
        return 1
    print(f"avro-client: sent {sent} event(s) to {args.host}:{args.port}", file=sys.stderr)
    return 0
