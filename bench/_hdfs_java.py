"""Our hdfs sink against Hadoop's own Java writer, on the same real HDFS, in the same run.

Every writer runs in its own process and times itself from its first write to its
last close (process start excluded), so the rows compare like with like:

- ``our sink hdfs://``: :func:`child_sink` — a memory channel fed by a producer
  thread with ready-made batches of 199-byte bodies (200 bytes with the text
  serializer's newline), drained by the hdfs sink's ``process()`` loop on the
  native path; ``rollCount`` 100,000; ``hdfs.syncMode`` hflush (= hsync, see
  the plugin README). CPU is the whole process's (producer included).
- ``raw hdfs-native client, hsync``: :func:`child_raw` — the client our sink
  uses, with nothing of ours around it: one ``write`` of a ready 1000- or
  10000-line buffer and one ``hsync`` per batch, files of 100,000 lines closed in
  the background. The ceiling for our sink on this client.
- ``Java DFSOutputStream hflush`` / ``hsync``: ``HdfsWriterBench.java`` (testkit),
  ``FileSystem.create``, one ``write`` per 200-byte line, ``hflush()`` or
  ``hsync()`` per batch, a new file every 100,000 lines.
- ``our sink webhdfs://``: the same child on the WebHDFS path (fewer events, at
  least 5 batches: it is up to ~100x slower), which is what ``hdfs://`` was before.
- ``whole agent``: ``flume-ng agent``, taildir (a file of 200-byte lines written
  before the start) -> file channel -> hdfs sink on ``hdfs://``. Timed from the
  first byte in HDFS to the last (agent start excluded); CPU and peak RSS of the
  agent process from /proc.

Rounds are interleaved (every writer once per round, batch 1000 then 10000) and
the medians printed with the ratio to the Java ``hflush`` writer of the same run.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["child_raw", "child_sink", "compare_with_java"]

LINE = 200
PER_FILE = 100_000
BATCHES = (1000, 10000)
_HERE = Path(__file__).resolve().parent


# -- our sink, in a child process --------------------------------------------------------------


def child_sink(spec_json: str) -> None:
    """Run our sink as :func:`_our_run` asked; print one JSON line."""
    from flume_sink_hdfs import HdfsEventSink

    from flume_sdk import (
        ChannelFullException,
        Event,
        PluginInfo,
        PluginKind,
        PluginRegistry,
        Status,
    )
    from flume_sdk._gc_tuning import tune_garbage_collector
    from flume_sdk.components.memory_channel import MemoryChannel

    tune_garbage_collector()  # as flume-ng agent does
    spec = json.loads(spec_json)
    batch, total = int(spec["batch"]), int(spec["events"])
    registry = PluginRegistry([PluginInfo(PluginKind.SERIALIZER, "text",
                                          "flume_sdk.components.serializers:TextSerializer",
                                          "flume-sdk", "bench")])
    channel = MemoryChannel.from_config("c1", {"capacity": str(4 * batch),
                                               "transactionCapacity": str(batch),
                                               "keep-alive": "0.01"})
    channel.start()
    sink = HdfsEventSink.from_config("k1", {
        "hdfs.path": spec["path"], "hdfs.webhdfs.url": spec["webhdfs"], "hdfs.user": "root",
        "hdfs.fileType": "DataStream", "hdfs.rollCount": str(PER_FILE), "hdfs.rollSize": "0",
        "hdfs.rollInterval": "0", "hdfs.batchSize": str(batch), "hdfs.syncMode": spec["mode"],
        "hdfs.stateDir": spec["state"], "hdfs.callTimeout": "60000"}, registry=registry)
    sink.set_channel(channel)
    sink.start()
    body = b"x" * (LINE - 1)
    events = [Event(body) for _ in range(batch)]

    def produce() -> None:
        put = 0
        while put < total:
            try:
                with channel.transaction() as tx:
                    tx.put_batch(events)
            except ChannelFullException:
                continue  # the sink is behind; the put waited keep-alive, try again
            put += batch

    producer = threading.Thread(target=produce, daemon=True)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    producer.start()
    done = 0
    while done < total:
        if not producer.is_alive() and channel.size == 0:
            msg = f"the producer stopped after {done} of {total} events"
            raise RuntimeError(msg)
        if sink.process() is Status.READY:
            done = int(sink.counter.get("EventDrainSuccessCount"))
    sink.stop()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    producer.join()
    channel.stop()
    print(json.dumps({"events": done, "seconds": wall, "cpu_seconds": cpu,
                      "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def child_raw(spec_json: str) -> None:
    """The raw ``hdfs-native`` client as :func:`_raw_run` asked: one ``write`` of a ready
    batch buffer and one ``hsync`` per batch, a new file every ``PER_FILE`` lines, each
    full file closed on a background thread (as our sink does; ``close`` waits ~500 ms
    in the client); timed to the last close. Prints one JSON line."""
    import hdfs_native

    spec = json.loads(spec_json)
    batch, total = int(spec["batch"]), int(spec["events"])
    client = hdfs_native.Client(spec["namenode"])
    options = hdfs_native.WriteOptions(overwrite=False, create_parent=True)
    buffer = (b"x" * (LINE - 1) + b"\n") * batch
    closers: list[threading.Thread] = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    written, writer = 0, None
    while written < total:
        if written % PER_FILE == 0:
            if writer is not None:
                closers.append(threading.Thread(target=writer.close))
                closers[-1].start()
            writer = client.create(f"{spec['path']}/raw.{written // PER_FILE}", options)
        writer.write(buffer)
        writer.hsync()
        written += batch
    if writer is not None:
        writer.close()
    for closer in closers:
        closer.join()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({"events": written, "seconds": wall, "cpu_seconds": cpu,
                      "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def _raw_run(cluster: Any, path: str, batch: int, events: int) -> dict[str, float]:
    spec = {"namenode": cluster.namenode_uri, "path": path, "batch": batch, "events": events}
    argv = [sys.executable, str(_HERE / "bench_hdfs.py"), "--child-raw", json.dumps(spec)]
    return _measure(argv, {"HADOOP_USER_NAME": "root"})


def _our_run(cluster: Any, root: Path, path: str, batch: int, events: int,
             scheme: str = "hdfs") -> dict[str, float]:
    prefix = cluster.namenode_uri if scheme == "hdfs" else \
        f"webhdfs://127.0.0.1:{cluster.http_port}"
    spec = {"path": f"{prefix}{path}", "webhdfs": cluster.webhdfs_url, "batch": batch,
            "events": events, "mode": "hflush", "state": str(root / "state" / path.strip("/"))}
    argv = [sys.executable, str(_HERE / "bench_hdfs.py"), "--child-sink", json.dumps(spec)]
    return _measure(argv, {})


# -- the Java writer ---------------------------------------------------------------------------


def _java_argv(cluster: Any) -> list[str]:
    from flume_testkit.servers.hdfs import hadoop_lib
    from flume_testkit.servers.java import compile_java, java_tool

    lib = hadoop_lib()
    classes = compile_java("HdfsWriterBench", sorted(lib.glob("*.jar")))
    cp = os.pathsep.join([str(classes), str(cluster.conf_dir), str(lib / "*")])
    return [str(java_tool("java")), "-Xmx512m", "-Djava.net.preferIPv4Stack=true",
            "-Dlog4j.configuration=file:/dev/null", "-cp", cp, "HdfsWriterBench"]


def _java_run(java: list[str], cluster: Any, path: str, batch: int, events: int,
              mode: str) -> dict[str, float]:
    argv = [*java, cluster.namenode_uri, path, str(batch), str(events), mode, str(PER_FILE),
            str(LINE)]
    return _measure(argv, {"HADOOP_USER_NAME": "root"})


def _measure(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False,
                          env={**os.environ, **env})
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        msg = f"{argv[-1][:60]} failed (rc={done.returncode}):\n{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    raw = json.loads(lines[-1])
    return {"eps": raw["events"] / raw["seconds"],
            "cpu_us": raw["cpu_seconds"] / raw["events"] * 1e6,
            "rss_mib": raw["peak_rss_kib"] / 1024}


# -- the whole agent ---------------------------------------------------------------------------


def _agent_run(cluster: Any, root: Path, path: str, batch: int, events: int) -> dict[str, float]:
    work = root / "agent" / path.strip("/").replace("/", "-")
    work.mkdir(parents=True)
    log = work / "input.log"
    with log.open("wb") as out:
        line = b"y" * (LINE - 1) + b"\n"
        for _ in range(events // 10000):
            out.write(line * 10000)
    conf = work / "agent.conf"
    conf.write_text("\n".join([
        "a1.sources = r1", "a1.channels = c1", "a1.sinks = k1",
        "a1.sources.r1.type = TAILDIR", "a1.sources.r1.channels = c1",
        "a1.sources.r1.filegroups = f1", f"a1.sources.r1.filegroups.f1 = {log}",
        f"a1.sources.r1.positionFile = {work / 'position.json'}",
        f"a1.sources.r1.batchSize = {batch}",
        "a1.channels.c1.type = file", f"a1.channels.c1.checkpointDir = {work / 'cp'}",
        f"a1.channels.c1.dataDirs = {work / 'data'}", "a1.channels.c1.capacity = 2000000",
        f"a1.channels.c1.transactionCapacity = {batch}",
        "a1.sinks.k1.type = hdfs", "a1.sinks.k1.channel = c1",
        f"a1.sinks.k1.hdfs.path = {cluster.namenode_uri}{path}",
        f"a1.sinks.k1.hdfs.webhdfs.url = {cluster.webhdfs_url}", "a1.sinks.k1.hdfs.user = root",
        "a1.sinks.k1.hdfs.fileType = DataStream", f"a1.sinks.k1.hdfs.rollCount = {PER_FILE}",
        "a1.sinks.k1.hdfs.rollSize = 0", "a1.sinks.k1.hdfs.rollInterval = 0",
        f"a1.sinks.k1.hdfs.batchSize = {batch}", f"a1.sinks.k1.hdfs.stateDir = {work / 'st'}",
    ]) + "\n")
    flume_ng = Path(sys.executable).with_name("flume-ng")
    with (work / "agent.log").open("wb") as out:
        agent = subprocess.Popen([str(flume_ng), "agent", "-n", "a1", "-f", str(conf),
                                  "--no-reload-conf"], stdout=out, stderr=subprocess.STDOUT)
    try:
        return _watch_agent(cluster, agent, path, events * LINE)
    finally:
        agent.terminate()
        agent.wait(60)


def _watch_agent(cluster: Any, agent: subprocess.Popen[bytes], path: str,
                 target: int) -> dict[str, float]:
    client = cluster.client()
    deadline = time.monotonic() + 600
    start: tuple[float, float] | None = None
    size = first = 0
    while size < target:
        if agent.poll() is not None or time.monotonic() > deadline:
            msg = f"the agent stopped or stalled at {size} of {target} bytes"
            raise RuntimeError(msg)
        summary = client.content(path, strict=False)
        size = int(summary["length"]) if summary else 0
        if size and start is None:
            start = (time.perf_counter(), _cpu_seconds(agent.pid))
            first = size
        time.sleep(0.05)
    assert start is not None
    wall, cpu = time.perf_counter() - start[0], _cpu_seconds(agent.pid) - start[1]
    events = (size - first) / LINE
    return {"eps": events / wall, "cpu_us": cpu / events * 1e6,
            "rss_mib": _peak_rss_kib(agent.pid) / 1024}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# -- the comparison ----------------------------------------------------------------------------


def compare_with_java(cluster: Any, root: Path, *, events: int, rounds: int,
                      agent_events: int, webhdfs_events: int) -> None:
    """Interleaved rounds of every writer at batch 1000 and 10000; print medians."""
    java = _java_argv(cluster)
    client = cluster.client()
    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    writers = {
        "Java DFSOutputStream hflush (peer)": lambda p, b: _java_run(java, cluster, p, b,
                                                                     events, "hflush"),
        "Java DFSOutputStream hsync": lambda p, b: _java_run(java, cluster, p, b, events,
                                                             "hsync"),
        "our sink hdfs:// (hdfs-native)": lambda p, b: _our_run(cluster, root, p, b, events),
        "raw hdfs-native client, hsync": lambda p, b: _raw_run(cluster, p, b, events),
        "whole agent: taildir->file ch->hdfs": lambda p, b: _agent_run(cluster, root, p, b,
                                                                        agent_events),
    }
    if webhdfs_events:
        writers["our sink webhdfs:// (APPEND/batch)"] = lambda p, b: _our_run(
            cluster, root, p, b, max(webhdfs_events, 5 * b), scheme="webhdfs")
    for round_no in range(rounds):
        for batch in BATCHES:
            for i, (label, run) in enumerate(writers.items()):
                path = f"/bench/r{round_no}-b{batch}-w{i}"
                result = run(path, batch)
                runs.setdefault((label, batch), []).append(result)
                print(f"  round {round_no + 1} batch {batch:<5} {label:<38} "
                      f"{result['eps']:>10,.0f} ev/s", flush=True)
                client.delete(path, recursive=True)
    _print(runs)


def _print(runs: dict[tuple[str, int], list[dict[str, float]]]) -> None:
    medians = {key: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
               for key, rs in runs.items()}
    print(f"{'writer (same HDFS, same run; medians)':<40} {'batch':>6} {'events/s':>11} "
          f"{'CPU us/ev':>10} {'peak RSS':>9} {'x Java hflush':>14}")
    for batch in BATCHES:
        peer = medians[("Java DFSOutputStream hflush (peer)", batch)]["eps"]
        for (label, b), m in medians.items():
            if b == batch:
                print(f"{label:<40} {b:>6} {m['eps']:>11,.0f} {m['cpu_us']:>10.2f} "
                      f"{m['rss_mib']:>7.0f}Mi {m['eps'] / peer:>14.3f}")
