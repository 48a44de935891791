"""Soak: mixed abuse on every network source of a real agent, beside well-behaved clients.

A ``flume-ng agent`` runs netcat, syslogtcp, avro, thrift and http sources into a memory
channel and a file_roll sink. For ``--minutes`` (30 by default), one good client per
source sends numbered events and counts what was acknowledged, while abusers attack
every source at once: idle connection floods past the connection caps, slow-drip
clients, garbage bytes, oversized and malformed frames, HTTP ``Content-Length: -1`` and
nested JSON, and connect/close churn. At the end the script waits for the sink and
prints: good events sent / acked / delivered / lost per source (lost = acknowledged
but never written; syslog has no acknowledgement), the agent's RSS at start, peak and
end, the bytes its log grew by, and its open file descriptors.

Usage: ``python bench/soak_hardening.py [--minutes 30] [--abusers 4]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from flume_rpc_avro import AvroRpcClient
from flume_rpc_thrift import ThriftRpcClient

from flume_sdk import Event

SOURCES = ("netcat", "syslog", "avro", "thrift", "http")

CONF = """\
a1.sources = netcat syslog avro thrift http
a1.channels = c1
a1.sinks = k1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 200000
a1.channels.c1.transactionCapacity = 1000
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = {out}
a1.sinks.k1.sink.rollInterval = 60
a1.sinks.k1.sink.batchSize = 1000
a1.sources.netcat.type = netcat
a1.sources.netcat.bind = 127.0.0.1
a1.sources.netcat.port = {netcat}
a1.sources.netcat.idle-timeout = 5
a1.sources.netcat.channels = c1
a1.sources.syslog.type = syslogtcp
a1.sources.syslog.host = 127.0.0.1
a1.sources.syslog.port = {syslog}
a1.sources.syslog.idleTimeout = 5
a1.sources.syslog.channels = c1
a1.sources.avro.type = avro
a1.sources.avro.bind = 127.0.0.1
a1.sources.avro.port = {avro}
a1.sources.avro.idle-timeout = 5
a1.sources.avro.frame-timeout = 5
a1.sources.avro.channels = c1
a1.sources.thrift.type = thrift
a1.sources.thrift.bind = 127.0.0.1
a1.sources.thrift.port = {thrift}
a1.sources.thrift.idle-timeout = 5
a1.sources.thrift.frame-timeout = 5
a1.sources.thrift.channels = c1
a1.sources.http.type = http
a1.sources.http.bind = 127.0.0.1
a1.sources.http.port = {http}
a1.sources.http.requestTimeout = 5000
a1.sources.http.requestDeadline = 5000
a1.sources.http.maxRequestBytes = 1000000
a1.sources.http.channels = c1
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Tally:
    """What one good client sent and got acknowledged."""

    def __init__(self) -> None:
        self.sent = 0
        self.acked: set[str] = set()


# -- good clients ---------------------------------------------------------------------------


def _good_netcat(port: int, body: str) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(body.encode() + b"\n")
        return client.recv(100) == b"OK\n"


def _good_syslog(port: int, body: str) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(b"<13>Dec  7 01:02:03 host app: " + body.encode() + b"\n")
    return False  # syslog has no acknowledgement


def _good_avro(port: int, body: str) -> bool:
    with AvroRpcClient("127.0.0.1", port, connect_timeout=10, request_timeout=10) as client:
        client.append({"headers": {}, "body": body.encode()})
    return True


def _good_thrift(port: int, body: str) -> bool:
    with ThriftRpcClient("127.0.0.1", port, connect_timeout=10, request_timeout=10) as client:
        client.append(Event(body.encode()))
    return True


def _good_http(port: int, body: str) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", method="POST",
                                     data=json.dumps([{"body": body}]).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status == 200


GOOD: dict[str, Callable[[int, str], bool]] = {
    "netcat": _good_netcat, "syslog": _good_syslog, "avro": _good_avro,
    "thrift": _good_thrift, "http": _good_http,
}


def good_client(name: str, port: int, tally: Tally, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        body = f"good-{name}-{n}"
        n += 1
        tally.sent += 1
        try:
            if GOOD[name](port, body):
                tally.acked.add(body)
        except (OSError, Exception):  # refused or failed: not acknowledged, the client retries
            pass
        stop.wait(0.02)


# -- abusers ----------------------------------------------------------------------------------

GARBAGE = [b"\x00" * 5000, os.urandom(4096), b"\xff\xff\xff\xff" * 100,
           bytes.fromhex("00000001" "000f4240") + b"\0" * 4000,  # avro: 1M empty buffers
           b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n" + b"x" * 10000,
           b"POST / HTTP/1.1\r\nContent-Length: 200000\r\n\r\n" + b"[" * 200000]


def abuser(ports: dict[str, int], stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    held: list[socket.socket] = []
    while not stop.is_set():
        port = ports[rng.choice(SOURCES)]
        kind = rng.random()
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            stop.wait(0.05)
            continue
        try:
            if kind < 0.35:  # idle: hold it (the idle timeouts and caps deal with it)
                held.append(sock)
                sock = None  # type: ignore[assignment]
            elif kind < 0.55:  # slow drip
                sock.settimeout(0.2)
                for _ in range(rng.randint(5, 30)):
                    if stop.is_set():
                        break
                    sock.send(b"<")
                    time.sleep(0.2)
            elif kind < 0.85:  # garbage
                sock.sendall(rng.choice(GARBAGE))
            # else: connect and close at once (churn)
        except OSError:
            pass
        finally:
            if sock is not None:
                sock.close()
        if len(held) > 300:
            for old in held[:150]:
                old.close()
            del held[:150]
    for sock in held:
        sock.close()


# -- the agent --------------------------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _delivered(out: Path) -> set[str]:
    found: set[str] = set()
    for path in out.iterdir():
        for line in path.read_bytes().splitlines():
            at = line.find(b"good-")  # syslog bodies keep the program name: "app: good-..."
            if at >= 0:
                found.add(line[at:].decode(errors="replace"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--abusers", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flume-soak-"))
    out = work / "out"
    out.mkdir()
    ports = {name: _free_port() for name in SOURCES}
    conf = work / "soak.conf"
    conf.write_text(CONF.format(out=out, **ports))
    log_path = work / "agent.log"
    with log_path.open("wb") as log:
        agent = subprocess.Popen([sys.executable, "-m", "flume_sdk.cli", "agent", "-n", "a1",
                                  "-f", str(conf), "--no-reload-conf"],
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_listening(ports)
        time.sleep(1.0)
        rss_start, fds_start, log_start = _rss_kib(agent.pid), _fds(agent.pid), \
            log_path.stat().st_size
        stop = threading.Event()
        tallies = {name: Tally() for name in SOURCES}
        threads = [threading.Thread(target=good_client, args=(n, ports[n], tallies[n], stop),
                                    daemon=True) for n in SOURCES]
        threads += [threading.Thread(target=abuser, args=(ports, stop, i), daemon=True)
                    for i in range(args.abusers)]
        for thread in threads:
            thread.start()
        rss_peak, fds_peak = rss_start, fds_start
        deadline = time.monotonic() + args.minutes * 60
        while time.monotonic() < deadline and agent.poll() is None:
            time.sleep(1.0)
            rss_peak = max(rss_peak, _rss_kib(agent.pid))
            fds_peak = max(fds_peak, _fds(agent.pid))
        stop.set()
        for thread in threads:
            thread.join(30)
        alive = agent.poll() is None
        time.sleep(8.0)  # idle timeouts close what the abusers left; the sink catches up
        rss_end = _rss_kib(agent.pid) if alive else 0
        fds_end = _fds(agent.pid) if alive else 0
        agent.send_signal(signal.SIGTERM)
        agent.wait(60)
        delivered = _delivered(out)
        _report(args.minutes, tallies, delivered, alive,
                (rss_start, rss_peak, rss_end), (fds_start, fds_peak, fds_end),
                log_path.stat().st_size - log_start, log_path)
    finally:
        if agent.poll() is None:
            agent.kill()


def _wait_listening(ports: dict[str, int]) -> None:
    deadline = time.monotonic() + 60
    for port in ports.values():
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def _report(minutes: float, tallies: dict[str, Tally], delivered: set[str], alive: bool,
            rss: tuple[int, int, int], fds: tuple[int, int, int], log_bytes: int,
            log_path: Path) -> None:
    print(f"soak: {minutes:g} min of mixed abuse; agent alive at the end: {alive}")
    print(f"{'source':8} {'sent':>8} {'acked':>8} {'delivered':>10} {'lost':>6}")
    total_lost = 0
    for name, tally in tallies.items():
        mine = {d for d in delivered if d.startswith(f"good-{name}-")}
        lost = len(tally.acked - mine)
        total_lost += lost
        acked = "n/a" if name == "syslog" else str(len(tally.acked))
        print(f"{name:8} {tally.sent:>8} {acked:>8} {len(mine):>10} {lost:>6}")
    print(f"lost (acked, not delivered): {total_lost}")
    print(f"RSS MiB start/peak/end: {rss[0] / 1024:.1f} / {rss[1] / 1024:.1f} / "
          f"{rss[2] / 1024:.1f}")
    print(f"open fds start/peak/end: {fds[0]} / {fds[1]} / {fds[2]}")
    print(f"log bytes written: {log_bytes} ({log_path})")


if __name__ == "__main__":
    main()
