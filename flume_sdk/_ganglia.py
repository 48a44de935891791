"""Ganglia reporting as Flume does it: every component attribute sent to gmond over UDP.

``-Dflume.monitoring.type=ganglia -Dflume.monitoring.hosts=host:port[,host:port]``
(``pollFrequency`` seconds between reports, default 60; ``isGanglia3`` default
false). Each attribute of each component's Flume JSON (``SOURCE.r1`` ->
``EventReceivedCount``, ..., ``Type``, ``StartTime``) is sent as the metric
``flume.SOURCE.r1.EventReceivedCount``, typed ``float`` when its value parses as
a number and ``string`` otherwise, slope ``both``, tmax 60, dmax 0, group
``flume`` -- Flume's names, types and wire formats:

- Ganglia 3.1 (the default): a metadata message (id 128) then a string value
  message (id 133, format ``%s``), XDR-encoded, two datagrams per metric.
- Ganglia 3.0 (``isGanglia3=true``): one ``metric_user_defined`` message whose
  name is prefixed with this host's name, as Flume sends it.

XDR here is only big-endian 32-bit ints and length-prefixed strings padded to 4
bytes (RFC 4506), so it is written with :mod:`struct`. A host name that does not
resolve, or a gmond that is down, is logged once (again only after it worked in
between) and never stops the agent.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Callable, Mapping

from flume_sdk._counters import Counter
from flume_sdk._errors import ConfigurationError, Problem

__all__ = ["GangliaReporter", "metadata_message", "user_defined_message", "value_message"]

log = logging.getLogger("flume_sdk.ganglia")

_SLOPE_BOTH, _TMAX, _DMAX = 3, 60, 0
_METADATA_FULL, _VALUE_STRING, _USER_DEFINED = 128, 133, 0
_PREFIX = "flume.monitoring."
# How a problem names a -D property: "-Dflume.monitoring.hosts: ..."
_COMPONENT, _HOSTS = "-Dflume", "monitoring.hosts"


def _xdr_int(value: int) -> bytes:
    return struct.pack(">i", value)


def _xdr_string(text: str) -> bytes:
    raw = text.encode()
    return _xdr_int(len(raw)) + raw + b"\0" * (-len(raw) % 4)


def _type_of(value: str) -> str:
    try:
        float(value)
    except ValueError:
        return "string"
    return "float"


def metadata_message(hostname: str, name: str, value: str) -> bytes:
    """Ganglia 3.1 ``gmetadata_full``: type, units, slope, tmax, dmax and ``GROUP=flume``."""
    return b"".join((_xdr_int(_METADATA_FULL), _xdr_string(hostname), _xdr_string(name), _xdr_int(0),
                     _xdr_string(_type_of(value)), _xdr_string(name), _xdr_string(""),
                     _xdr_int(_SLOPE_BOTH), _xdr_int(_TMAX), _xdr_int(_DMAX), _xdr_int(1),
                     _xdr_string("GROUP"), _xdr_string("flume")))


def value_message(hostname: str, name: str, value: str) -> bytes:
    """Ganglia 3.1 ``gmetric_string``: the value, formatted ``%s``."""
    return b"".join((_xdr_int(_VALUE_STRING), _xdr_string(hostname), _xdr_string(name), _xdr_int(0),
                     _xdr_string("%s"), _xdr_string(value)))


def user_defined_message(hostname: str, name: str, value: str) -> bytes:
    """Ganglia 3.0 ``metric_user_defined``; Flume prefixes the name with the host's name."""
    return b"".join((_xdr_int(_USER_DEFINED), _xdr_string(_type_of(value)),
                     _xdr_string(f"{hostname}.{name}"), _xdr_string(value), _xdr_string(""),
                     _xdr_int(_SLOPE_BOTH), _xdr_int(_TMAX), _xdr_int(_DMAX)))


def _parse_hosts(text: str) -> list[tuple[str, int]]:
    hosts = []
    for entry in (e.strip() for e in text.split(",")):
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            msg = f"{entry!r} is not host:port"
            raise ConfigurationError([Problem(_COMPONENT, msg, _HOSTS,
                                              suggestion="e.g. gmond1:8649,gmond2:8649")])
        hosts.append((host.strip("[]"), int(port)))
    return hosts


class GangliaReporter:
    """Sends every component's attributes to each gmond, every ``poll_frequency`` seconds.

    Args:
        counters: returns the current components' counters (they change on reload).
        hosts: gmond addresses (host names are resolved at every report).
        poll_frequency: seconds between reports; the first is sent at start.
        ganglia3: send Ganglia 3.0 messages instead of 3.1.
        hostname: the name in the messages (default: this machine's).
    """

    def __init__(self, counters: Callable[[], list[Counter]], hosts: list[tuple[str, int]], *,
                 poll_frequency: float = 60.0, ganglia3: bool = False,
                 hostname: str | None = None) -> None:
        self._counters = counters
        self.hosts = hosts
        self.poll_frequency = poll_frequency
        self.ganglia3 = ganglia3
        self.hostname = hostname or socket.gethostname()
        self._failing: set[tuple[str, int]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @classmethod
    def from_properties(cls, counters: Callable[[], list[Counter]],
                        properties: Mapping[str, str]) -> GangliaReporter:
        """Read Flume's ``flume.monitoring.hosts``, ``.pollFrequency`` and ``.isGanglia3``.

        Raises:
            ConfigurationError: naming the key that is missing or wrong.
        """
        hosts = properties.get(f"{_PREFIX}hosts", "").strip()
        if not hosts:
            raise ConfigurationError([Problem(_COMPONENT, "ganglia needs the gmond addresses",
                                              _HOSTS, suggestion="-Dflume.monitoring."
                                              "hosts=gmond1:8649[,gmond2:8649]")])
        poll = properties.get(f"{_PREFIX}pollFrequency", "60").strip()
        flag = properties.get(f"{_PREFIX}isGanglia3", "false").strip().lower()
        problems = []
        if not poll.isdigit() or int(poll) < 1:
            problems.append(Problem(_COMPONENT, f"{poll!r} is not a number of seconds >= 1",
                                    "monitoring.pollFrequency"))
        if flag not in ("true", "false"):
            problems.append(Problem(_COMPONENT, f"{flag!r} is not true or false", "monitoring.isGanglia3"))
        if problems:
            raise ConfigurationError(problems)
        return cls(counters, _parse_hosts(hosts), poll_frequency=float(poll), ganglia3=flag == "true")

    def start(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ganglia-reporter", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
            self._thread = None
        if self._socket:
            self._socket.close()
            self._socket = None

    def _run(self) -> None:
        while True:
            try:
                self.report()
            except Exception:
                log.exception("ganglia report failed; the next one is in %.0fs", self.poll_frequency)
            if self._stop.wait(self.poll_frequency):
                return

    def datagrams(self) -> list[bytes]:
        """The datagrams of one report, in Flume's order (per attribute: metadata, value)."""
        out: list[bytes] = []
        for counter in self._counters():
            for attribute, value in counter.snapshot().items():
                name = f"flume.{counter.group_key}.{attribute}"
                if self.ganglia3:
                    out.append(user_defined_message(self.hostname, name, value))
                else:
                    out += [metadata_message(self.hostname, name, value),
                            value_message(self.hostname, name, value)]
        return out

    def report(self) -> None:
        """Send one report to every host (after :meth:`start`)."""
        if self._socket is None:
            msg = "GangliaReporter.report() before start()"
            raise RuntimeError(msg)
        datagrams = self.datagrams()
        for host, port in self.hosts:
            try:
                address = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4]
                for datagram in datagrams:
                    self._socket.sendto(datagram, address)
            except OSError as exc:
                if (host, port) not in self._failing:
                    log.error("cannot send metrics to ganglia at %s:%d (%s); retrying every %.0fs, "
                              "logged again only after it worked", host, port, exc, self.poll_frequency)
                self._failing.add((host, port))
                continue
            if (host, port) in self._failing:
                log.info("sending metrics to ganglia at %s:%d again", host, port)
                self._failing.discard((host, port))
