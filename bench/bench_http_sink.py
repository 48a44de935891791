"""The http sink: one POST per event (Flume) and the opt-in batched JSON, in the same run.

The server is the testkit's HttpPeer (Python's ThreadingHTTPServer on 127.0.0.1), so every
figure includes its cost; the peer measured in the same run is a plain ``http.client`` loop
POSTing the same 200-byte bodies on one kept-alive connection. The sink drains a memory
channel preloaded with the events, as its runner thread would. Interleaved rounds, medians.

    python bench/bench_http_sink.py [--events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import http.client
import time

from _harness import Measurement, median_of, print_table
from flume_testkit.servers.http_peer import running_http_peer

from flume_sdk import Event, Status
from flume_sdk.components.http_sink import HttpSink
from flume_sdk.components.memory_channel import MemoryChannel

BODY = b"x" * 200
COMMIT_2XX = {"rollback.2XX": "false", "backoff.2XX": "false", "incrementMetrics.2XX": "true"}


def sink_run(url: str, total: int, **props: str) -> Measurement:
    batch = int(props.get("batchSize", "1"))
    channel = MemoryChannel.from_config("c1", {"capacity": str(total),
                                               "transactionCapacity": str(max(batch, 100)),
                                               "keep-alive": "0"})
    channel.start()
    for start in range(0, total, 100):
        with channel.transaction() as tx:
            tx.put_batch([Event(BODY) for _ in range(min(100, total - start))])
    sink = HttpSink.from_config("k1", {"endpoint": url, **COMMIT_2XX, **props})
    sink.set_channel(channel)
    sink.start()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while sink.process() is Status.READY:
        pass
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    sink.stop()
    channel.stop()
    return {"eps": total / wall, "cpu_us": cpu / total * 1e6, "wall": wall}


def plain_posts(port: int, total: int) -> Measurement:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Content-Type": "text/plain", "Accept": "text/plain"}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(total):
        conn.request("POST", "/plain", body=BODY, headers=headers)
        conn.getresponse().read()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    conn.close()
    return {"eps": total / wall, "cpu_us": cpu / total * 1e6, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batched-events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    plain, single, json100, json1000, nd1000 = [], [], [], [], []
    with running_http_peer() as peer:
        for _ in range(args.rounds):
            plain.append(plain_posts(peer.port, args.events))
            single.append(sink_run(peer.url("/one"), args.events))
            json100.append(sink_run(peer.url("/b"), args.batched_events, batchSize="100",
                                    batchFormat="json"))
            json1000.append(sink_run(peer.url("/b"), args.batched_events, batchSize="1000",
                                     batchFormat="json"))
            nd1000.append(sink_run(peer.url("/b"), args.batched_events, batchSize="1000",
                                   batchFormat="ndjson"))
            peer.requests.clear()
            peer.answers.clear()
    print(f"200-byte events; {args.events:,} single POSTs, {args.batched_events:,} batched; "
          f"median of {args.rounds}")
    print_table([("plain http.client, one POST per event (peer)", median_of(plain)),
                 ("http sink, one POST per event (Flume)", median_of(single)),
                 ("http sink, batchFormat=json, batch 100", median_of(json100)),
                 ("http sink, batchFormat=json, batch 1000", median_of(json1000)),
                 ("http sink, batchFormat=ndjson, batch 1000", median_of(nd1000))],
                note="(peak RSS includes the in-process HTTP server)")


if __name__ == "__main__":
    main()
