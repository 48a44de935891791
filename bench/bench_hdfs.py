"""hdfs sink throughput, to file:// and to a real HDFS beside Hadoop's own Java writer.

Run: ``python bench/bench_hdfs.py [--events 200000] [--hdfs-events 1000000] [--no-hdfs]``.

On the real HDFS (see ``bench/_hdfs_java.py``) our sink on ``hdfs://``, the raw
``hdfs-native`` client it uses (write + ``hsync`` per batch, nothing of ours) and a
Java writer using Hadoop's ``DFSOutputStream`` (``hflush`` and ``hsync`` per batch)
write the same 200-byte lines in interleaved rounds, each in its own process;
then a whole agent (taildir -> file channel -> hdfs sink) is measured against the
same Java writer.

For batch sizes 1000 and 10000 a seq source (``batchSize`` = the batch) fills a
memory channel from a producer thread while the main thread runs the sink's
``process()`` loop, as a SinkRunner would. DataStream/text, rollCount and rollSize
off, rollInterval off. Printed per row: events/s (wall, first put to last commit)
CPU µs/event (this process, source thread included), peak RSS and files
written; medians of ``--repeats`` runs. On ``file://`` each batch size is run side
by side as: the hdfs sink; the same sink with its exactly-once batch journal
switched off (to show what the journal costs); and the kernel's file_roll sink
with ``sink.fsync = true`` (the peer: one local file, fsync per batch). Then
rolling by count and by size is checked to give the expected file count. The
real HDFS is the testkit's ``HdfsCluster`` (Hadoop 2.7.3 on Java; skipped with a
note when Java or the jars are missing).
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flume_sink_hdfs import HdfsEventSink
from flume_sink_hdfs._journal import Journal

from flume_sdk import ChannelProcessor, PluginInfo, PluginKind, PluginRegistry, Sink, Status
from flume_sdk.components.file_roll_sink import FileRollSink
from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.selectors import ReplicatingSelector
from flume_sdk.components.seq_source import SequenceSource

__all__ = ["main", "run_once"]

REGISTRY = PluginRegistry([PluginInfo(PluginKind.SERIALIZER, "text",
                                      "flume_sdk.components.serializers:TextSerializer",
                                      "flume-sdk", "bench")])


def _produce(source: SequenceSource, stop: threading.Event) -> None:
    while not stop.is_set():
        if source.process() is Status.BACKOFF:
            if source.settings.total_events <= int(source.counter.get("EventAcceptedCount")):
                return
            time.sleep(0.001)


def _pipeline(total: int, batch: int) -> tuple[SequenceSource, MemoryChannel]:
    channel = MemoryChannel.from_config("c1", {"capacity": str(max(4 * batch, 40000)),
                                               "transactionCapacity": str(batch),
                                               "keep-alive": "0.01"})
    channel.start()
    source = SequenceSource.from_config("r1", {"batchSize": str(batch),
                                               "totalEvents": str(total)})
    source.set_channel_processor(ChannelProcessor(ReplicatingSelector([channel])))
    source.start()
    return source, channel


def _hdfs_sink(batch: int, props: dict[str, str], state: Path) -> Sink:
    settings = {"hdfs.fileType": "DataStream", "hdfs.rollCount": "0", "hdfs.rollSize": "0",
                "hdfs.rollInterval": "0", "hdfs.batchSize": str(batch),
                "hdfs.stateDir": str(state), **props}
    return HdfsEventSink.from_config("k1", settings, registry=REGISTRY)


def _file_roll_sink(batch: int, directory: Path) -> Sink:
    directory.mkdir(parents=True, exist_ok=True)
    return FileRollSink.from_config("k1", {"sink.directory": str(directory),
                                           "sink.rollInterval": "0", "sink.fsync": "true",
                                           "sink.batchSize": str(batch)}, registry=REGISTRY)


@contextlib.contextmanager
def _without_batch_journal() -> Iterator[None]:
    """The hdfs sink as before its exactly-once journal: no batch/commit records."""
    saved = Journal.batch, Journal.committed
    Journal.batch = lambda self, record: None  # type: ignore[method-assign]
    Journal.committed = lambda self: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        Journal.batch, Journal.committed = saved  # type: ignore[method-assign]


def run_once(total: int, batch: int, props: dict[str, str], state: Path,
             make: Callable[[], Sink] | None = None) -> dict[str, Any]:
    """One run; returns events/s, CPU µs/event, files written and events delivered."""
    source, channel = _pipeline(total, batch)
    sink = make() if make else _hdfs_sink(batch, props, state)
    sink.set_channel(channel)
    sink.start()
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(source, stop), daemon=True)
    started, cpu = time.perf_counter(), time.process_time()
    producer.start()
    done = 0
    while done < total:
        if sink.process() is Status.READY:
            done = int(sink.counter.get("EventDrainSuccessCount"))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    closed_before = int(sink.counter.get("ConnectionClosedCount"))
    sink.stop()
    stop.set()
    producer.join(5)
    source.stop()
    files = int(sink.counter.get("ConnectionClosedCount"))
    return {"events_per_s": total / elapsed, "cpu_us": cpu / total * 1e6, "files": files,
            "rolled_while_running": closed_before, "events": done}


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _row(label: str, batch: int, result: dict[str, Any]) -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<34} batch={batch:<6} {result['events_per_s']:>10,.0f} events/s "
          f"{result['cpu_us']:>6.1f} CPU µs/event {rss:>6.0f} MiB peak RSS "
          f"{result['files']:>4.0f} file(s)")


def _rolls(base: str, state: Path, extra: dict[str, str]) -> None:
    count = run_once(1000, 100, {"hdfs.path": f"{base}/count", "hdfs.rollCount": "100",
                                 **extra}, state)
    size = run_once(1000, 100, {"hdfs.path": f"{base}/size", "hdfs.rollSize": "500",
                                **extra}, state)
    print(f"  rollCount=100, 1000 events -> {count['files']} files (expected 10)")
    print(f"  rollSize=500, 1000 events -> {size['files']} files "
          f"(expected {_size_rolls(1000, 500)})")


def _size_rolls(count: int, roll_size: int) -> int:
    """Files Flume's rule gives: roll once a file's body bytes reach ``roll_size``."""
    files, held = 0, 0
    for i in range(count):
        held += len(str(i))  # seq bodies are the decimal counter
        if held >= roll_size:
            files, held = files + 1, 0
    return files + (1 if held else 0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--hdfs-events", type=int, default=1_000_000,
                        help="events per run of our sink and of the Java writer on HDFS")
    parser.add_argument("--agent-events", type=int, default=500_000,
                        help="events through the whole agent (taildir -> file -> hdfs)")
    parser.add_argument("--webhdfs-events", type=int, default=20_000,
                        help="events per run over webhdfs:// (0: skip)")
    parser.add_argument("--child-sink", help=argparse.SUPPRESS)
    parser.add_argument("--child-raw", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-hdfs", action="store_true")
    parser.add_argument("--no-file", action="store_true", help="skip the file:// rows")
    args = parser.parse_args(argv)
    if args.child_sink:
        from _hdfs_java import child_sink

        child_sink(args.child_sink)
        return
    if args.child_raw:
        from _hdfs_java import child_raw

        child_raw(args.child_raw)
        return
    with tempfile.TemporaryDirectory(prefix="bench-hdfs-") as tmp:
        root = Path(tmp)
        if not args.no_file:
            for batch in (1000, 10000):
                _file_rows(root, args.events, batch, args.repeats)
            print("file:// rolling:")
            _rolls((root / "rolls").as_uri(), root / "state", {})
        if not args.no_hdfs:
            _bench_hdfs(root, args)


def _file_rows(root: Path, total: int, batch: int, repeats: int) -> None:
    """The three file:// variants, interleaved run by run so they share the machine's state."""
    runs: dict[str, list[dict[str, Any]]] = {"hdfs sink file://": [],
                                             "hdfs sink, no batch journal": [],
                                             "file_roll sink, fsync (peer)": []}
    for i in range(repeats):
        def uri(name: str, i: int = i) -> dict[str, str]:
            return {"hdfs.path": (root / f"{name}-{batch}-{i}").as_uri()}
        runs["hdfs sink file://"].append(run_once(total, batch, uri("out"), root / "state"))
        with _without_batch_journal():
            runs["hdfs sink, no batch journal"].append(
                run_once(total, batch, uri("plain"), root / "state"))
        runs["file_roll sink, fsync (peer)"].append(run_once(
            total, batch, {}, root / "state",
            make=lambda i=i: _file_roll_sink(batch, root / f"roll-{batch}-{i}")))
    medians = {label: _median(r) for label, r in runs.items()}
    for label, result in medians.items():
        _row(label, batch, result)
    base = medians["hdfs sink file://"]["events_per_s"]
    print(f"{'':<34} ratios: no journal / hdfs sink = "
          f"{medians['hdfs sink, no batch journal']['events_per_s'] / base:.2f}, "
          f"file_roll / hdfs sink = "
          f"{medians['file_roll sink, fsync (peer)']['events_per_s'] / base:.2f}")


def _bench_hdfs(root: Path, args: argparse.Namespace) -> None:
    from _hdfs_java import compare_with_java
    from flume_testkit.servers.hdfs import HdfsCluster, HdfsUnavailable

    try:
        cluster = HdfsCluster(root / "hdfs")
    except HdfsUnavailable as exc:
        print(f"real HDFS skipped: {exc}")
        return
    with cluster:
        compare_with_java(cluster, root, events=args.hdfs_events, rounds=args.repeats,
                          agent_events=args.agent_events, webhdfs_events=args.webhdfs_events)
        extra = {"hdfs.webhdfs.url": cluster.webhdfs_url, "hdfs.user": "root"}
        print("hdfs:// rolling:")
        _rolls(f"{cluster.namenode_uri}/bench/rolls", root / "state", extra)


if __name__ == "__main__":
    main()
