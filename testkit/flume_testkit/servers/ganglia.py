"""A real Ganglia ``gmond`` (Debian's ``ganglia-monitor``) with a private configuration.

The daemon listens for metric datagrams on a free 127.0.0.1 UDP port and
answers its XML dump on a free TCP port; it collects nothing itself (no
modules), sends nothing (``mute``), runs in the foreground and is stopped by
its own pid. :meth:`Gmond.metrics` reads the metrics back from the XML port.

Fixture ``gmond`` (function scope, not autouse) skips with the reason when
``gmond`` is not installed (``scripts/install-system-deps.sh`` installs it).
"""

from __future__ import annotations

import shutil
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from flume_testkit.servers._process import ServerProcess, free_port

__all__ = ["Gmond", "GmondMetric", "gmond", "gmond_path"]

GmondMetric = dict[str, str]

_CONFIG = """\
globals {{
  daemonize = no
  setuid = no
  user = nobody
  debug_level = 0
  max_udp_msg_len = 1472
  mute = yes
  deaf = no
  allow_extra_data = yes
  host_dmax = 0
  cleanup_threshold = 300
  gexec = no
  send_metadata_interval = 0
}}
cluster {{
  name = "flume-testkit"
}}
udp_recv_channel {{
  bind = 127.0.0.1
  port = {udp_port}
}}
tcp_accept_channel {{
  bind = 127.0.0.1
  port = {xml_port}
}}
"""


def gmond_path() -> str | None:
    """Where ``gmond`` is, or ``None``."""
    found = shutil.which("gmond")
    if found:
        return found
    return "/usr/sbin/gmond" if Path("/usr/sbin/gmond").exists() else None


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gmond(ServerProcess):
    """One private gmond: datagrams to :attr:`udp_port`, XML from :attr:`xml_port`.

    Args:
        work: directory for its configuration and log.
        binary: the gmond executable.
    """

    def __init__(self, work: Path, binary: str) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.udp_port = _free_udp_port()
        self.xml_port = free_port()
        conf = work / "gmond.conf"
        conf.write_text(_CONFIG.format(udp_port=self.udp_port, xml_port=self.xml_port))
        super().__init__("gmond", [binary, "-c", str(conf), "-f", "-p", str(work / "gmond.pid")],
                         work / "gmond.log")

    def start_and_wait(self, timeout: float = 30.0) -> None:
        self.start()
        self.wait_ready(lambda: b"<GANGLIA_XML" in self.xml_dump(), timeout=timeout)

    def xml_dump(self) -> bytes:
        """gmond's whole XML document (it writes it and closes the connection)."""
        chunks = []
        with socket.create_connection(("127.0.0.1", self.xml_port), timeout=5) as sock:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def metrics(self) -> dict[str, GmondMetric]:
        """Every metric gmond holds: name -> its XML attributes (``VAL``, ``TYPE``, ...) plus
        ``HOST`` and the ``GROUP`` from its extra data."""
        root = ET.fromstring(self.xml_dump())
        out: dict[str, GmondMetric] = {}
        for host in root.iter("HOST"):
            for metric in host.iter("METRIC"):
                attrs = dict(metric.attrib, HOST=host.get("NAME", ""))
                for element in metric.iter("EXTRA_ELEMENT"):
                    attrs[element.get("NAME", "")] = element.get("VAL", "")
                out[metric.get("NAME", "")] = attrs
        return out


@pytest.fixture
def gmond(tmp_path: Path) -> Iterator[Gmond]:
    """A started private gmond; skips when gmond is not installed."""
    binary = gmond_path()
    if binary is None:
        pytest.skip("gmond is not installed (Debian: ganglia-monitor; scripts/install-system-deps.sh)")
    server = Gmond(tmp_path / "gmond", binary)
    server.start_and_wait()
    yield server
    server.stop()
