"""The stress source and the netcatudp source, each beside its peer measured in the same run.

* ``stress`` (``org.apache.flume.source.StressSource``) -> memory -> null against ``seq`` ->
  memory -> null: both are pollable generators, so the difference is the stress source's
  limit and pacing bookkeeping. 200-byte bodies, batch 100 and 1000.
* a UDP sender thread -> ``netcatudp`` -> memory -> null against a plain Python receiver loop
  (``recvfrom`` and split on newlines, no events): the limit of reading datagrams in Python.
  One 100-byte line per datagram.

Interleaved rounds, medians. Run: .venv/bin/python bench/bench_stress_netcatudp.py
"""

from __future__ import annotations

import argparse
import socket
import threading
import time

from _harness import Measurement, median_of, print_table, run_pipeline

from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.netcat_udp_source import NetcatUdpSource
from flume_sdk.components.null_sink import NullSink
from flume_sdk.components.seq_source import SequenceSource
from flume_sdk.components.stress_source import StressSource

LINE = b"y" * 99 + b"\n"


def _channel(batch: int) -> MemoryChannel:
    return MemoryChannel.from_config("c1", {"capacity": "100000", "transactionCapacity": str(batch),
                                            "keep-alive": "0.1"})


def generator(kind: str, batch: int, total: int) -> Measurement:
    if kind == "stress":
        source = StressSource.from_config("r1", {"size": "200", "batchSize": str(batch),
                                                 "maxTotalEvents": str(total)})
    else:
        source = SequenceSource.from_config("r1", {"batchSize": str(batch),
                                                   "totalEvents": str(total)})
    source.backoff_sleep_increment = source.max_backoff_sleep = 0.001
    sink = NullSink.from_config("k1", {"batchSize": str(batch)})
    return run_pipeline(source, _channel(batch), sink, total)


def _send(port: int, total: int, paced: threading.Event) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
        for i in range(total):
            out.sendto(LINE, ("127.0.0.1", port))
            if i % 200 == 199:  # UDP has no backpressure: give the receiver a moment
                paced.wait(0.0005)


def netcatudp(total: int) -> Measurement:
    source = NetcatUdpSource.from_config("r1", {"bind": "127.0.0.1", "port": "0"})
    sink = NullSink.from_config("k1", {"batchSize": "1000"})
    channel = _channel(1000)

    def feed() -> None:
        while source.port == 0:
            time.sleep(0.001)
        _send(source.port, total, threading.Event())

    # Count what arrived, not what was sent: UDP may drop under load.
    result = run_pipeline(source, channel, sink, int(total * 0.9), feeder=feed)
    result["lost"] = total - source.counter.get("EventReceivedCount")
    return result


def plain_receiver(total: int) -> Measurement:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(1.0)
        sender = threading.Thread(target=_send, args=(sock.getsockname()[1], total,
                                                      threading.Event()))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        sender.start()
        lines = 0
        try:
            while lines < int(total * 0.9):
                data, _ = sock.recvfrom(65535)
                lines += len(data.split(b"\n")) - 1
        except TimeoutError:
            pass
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        sender.join()
    return {"eps": lines / wall, "cpu_us": cpu / lines * 1e6, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--datagrams", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    groups = []
    for batch in (100, 1000):
        seq, stress = [], []
        for _ in range(args.repeat):
            seq.append(generator("seq", batch, args.events))
            stress.append(generator("stress", batch, args.events))
        groups.append([(f"batch {batch}: seq -> memory -> null", median_of(seq)),
                       (f"batch {batch}: stress -> memory -> null", median_of(stress))])
    plain, ours = [], []
    for _ in range(args.repeat):
        plain.append(plain_receiver(args.datagrams))
        ours.append(netcatudp(args.datagrams))
    groups.append([("plain Python UDP receiver (the limit)", median_of(plain)),
                   ("netcatudp -> memory -> null", median_of(ours))])
    print(f"{args.events:,} generated events; {args.datagrams:,} datagrams; median of "
          f"{args.repeat}")
    print_table(*groups, note=f"netcatudp datagrams lost (median): {median_of(ours)['lost']:.0f}")


if __name__ == "__main__":
    main()
