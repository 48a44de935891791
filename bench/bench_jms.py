"""The jms source beside a plain stomp.py consumer on the same ActiveMQ 5.17, in the same run.

A private broker (the testkit's); each round preloads a fresh queue with persistent
100-byte text messages, then drains it:

* plain stomp.py consumer: ``ack:client-individual``, prefetch 2000, one ``ACK`` per message
  (the same library and acknowledgement mode, without events or a channel: the limit);
* ``jms`` -> memory -> ``null`` at batch 100 and 1000 (ack after each channel commit).

Interleaved rounds, medians. Run: .venv/bin/python bench/bench_jms.py
"""

from __future__ import annotations

import argparse
import itertools
import queue
import tempfile
import time
from pathlib import Path

import stomp
from _harness import Measurement, median_of, print_table, run_pipeline
from flume_source_jms import JmsSource
from flume_testkit.servers.activemq import ActiveMQ

from flume_sdk.components.memory_channel import MemoryChannel
from flume_sdk.components.null_sink import NullSink

BODY = "y" * 100
_queues = itertools.count()


def preload(broker: ActiveMQ, total: int) -> str:
    name = f"bench.{next(_queues)}"
    conn = stomp.Connection([("127.0.0.1", broker.stomp_port)], auto_content_length=False)
    conn.connect(wait=True)
    for _ in range(total):
        conn.send(f"/queue/{name}", BODY, headers={"persistent": "true"})
    conn.disconnect()
    time.sleep(0.5)  # let the last sends land before the clock starts
    return name


def plain_consumer(broker: ActiveMQ, name: str, total: int) -> Measurement:
    frames: queue.SimpleQueue[stomp.utils.Frame] = queue.SimpleQueue()

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame: stomp.utils.Frame) -> None:
            frames.put(frame)

    conn = stomp.Connection([("127.0.0.1", broker.stomp_port)], auto_decode=False)
    conn.set_listener("bench", Listener())
    cpu0, wall0 = time.process_time(), time.perf_counter()
    conn.connect(wait=True)
    conn.subscribe(f"/queue/{name}", "1", ack="client-individual",
                   headers={"activemq.prefetchSize": "2000"})
    for _ in range(total):
        frame = frames.get(timeout=60)
        conn.ack(frame.headers["message-id"], "1")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    conn.disconnect()
    return {"eps": total / wall, "cpu_us": cpu / total * 1e6, "wall": wall}


def jms_source(broker: ActiveMQ, name: str, total: int, batch: int) -> Measurement:
    source = JmsSource.from_config("r1", {"providerURL": broker.stomp_url,
                                          "destinationName": name, "batchSize": str(batch),
                                          "pollTimeout": "100"})
    source.backoff_sleep_increment = source.max_backoff_sleep = 0.001
    channel = MemoryChannel.from_config("c1", {"capacity": "100000",
                                               "transactionCapacity": str(batch)})
    sink = NullSink.from_config("k1", {"batchSize": str(batch)})
    return run_pipeline(source, channel, sink, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[Measurement]] = {"plain": [], "100": [], "1000": []}
    with tempfile.TemporaryDirectory(prefix="bench-jms-") as work:
        broker = ActiveMQ(Path(work))
        broker.start_and_wait()
        try:
            for _ in range(args.repeat):
                runs["plain"].append(plain_consumer(broker, preload(broker, args.events),
                                                    args.events))
                for batch in (100, 1000):
                    runs[str(batch)].append(jms_source(broker, preload(broker, args.events),
                                                       args.events, batch))
        finally:
            broker.stop()
    print(f"{args.events:,} persistent 100-byte messages per run, ActiveMQ 5.17 over STOMP; "
          f"median of {args.repeat}")
    print_table([("plain stomp.py consumer, ack per message", median_of(runs["plain"])),
                 ("jms -> memory -> null, batch 100", median_of(runs["100"])),
                 ("jms -> memory -> null, batch 1000", median_of(runs["1000"]))])


if __name__ == "__main__":
    main()
