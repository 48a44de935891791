"""The irc sink beside a raw socket client writing PRIVMSGs to the same ngircd, in the same run.

A private ngircd (the testkit's, flood protection relaxed with ``MaxPenaltyTime = 0``:
with ngircd's defaults an ordinary client gets about 3 commands a second, which
measures the server's policy, not the sink) and one listening client joined to the
channel, so every line is relayed once.

* raw client: one socket, register, join, ``sendall`` every ``PRIVMSG`` at once, then one
  ``PING`` and wait for its ``PONG`` (the ceiling: no events, no channel, no pacing);
* ``seq`` -> memory -> ``irc`` at batch 100 and 1000 with the default window (4 messages
  per ``PING``/``PONG`` acknowledgement) and with ``window = 64``.

Bodies are ``seq``'s counters (1-5 bytes) for both. Interleaved rounds, medians.
Run: .venv/bin/python bench/bench_irc.py
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import time
from pathlib import Path

from _harness import Measurement, median_of, print_table, run_pipeline
from flume_sink_irc import IrcSink
from flume_testkit.servers.ircd import IrcListener, Ngircd

from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.seq_source import SequenceSource


def raw_client(port: int, total: int) -> Measurement:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"NICK rawbench\r\nUSER rawbench 0 * :raw\r\nJOIN #bench\r\n")
        buffer = b""
        while b" 366 " not in buffer:
            buffer += sock.recv(65536)
        lines = b"".join(b"PRIVMSG #bench :%d\r\n" % i for i in range(total))
        sock.sendall(lines + b"PING :done\r\n")
        while b"PONG" not in buffer or b":done" not in buffer.rsplit(b"PONG", 1)[1]:
            buffer += sock.recv(65536)
        sock.sendall(b"QUIT\r\n")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"eps": total / wall, "cpu_us": cpu / total * 1e6, "wall": wall}


def irc_sink(port: int, total: int, batch: int, window: int) -> Measurement:
    source = SequenceSource.from_config("r1", {"batchSize": str(batch), "totalEvents": str(total)})
    source.backoff_sleep_increment = source.max_backoff_sleep = 0.001
    channel = MemoryChannel.from_config("c1", {"capacity": str(max(10_000, 2 * batch)),
                                               "transactionCapacity": str(batch)})
    sink = IrcSink.from_config("k1", {"hostname": "127.0.0.1", "port": str(port),
                                      "nick": "sinkbench", "chan": "bench",
                                      "batchSize": str(batch), "window": str(window)})
    return run_pipeline(source, channel, sink, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    binary = shutil.which("ngircd") or "/usr/sbin/ngircd"
    with tempfile.TemporaryDirectory(prefix="bench-irc-") as work:
        server = Ngircd(Path(work), binary)
        server.start_and_wait()
        listener = IrcListener(server.port, "#bench").connect()
        variants = [(100, 4), (1000, 4), (1000, 64)]
        raw: list[Measurement] = []
        ours: dict[tuple[int, int], list[Measurement]] = {v: [] for v in variants}
        try:
            for _ in range(args.repeat):
                raw.append(raw_client(server.port, args.events))
                for batch, window in variants:
                    ours[(batch, window)].append(irc_sink(server.port, args.events, batch,
                                                          window))
        finally:
            listener.close()
            server.stop()
    rows = [("raw socket client (PRIVMSGs, one PING)", median_of(raw))]
    rows += [(f"seq -> memory -> irc, batch {b}, window {w}", median_of(ours[(b, w)]))
             for b, w in variants]
    print(f"{args.events:,} messages per run to ngircd {server.port} with one listener; "
          f"median of {args.repeat}")
    print_table(rows)


if __name__ == "__main__":
    main()
