"""Real syslog peers for tests and benchmarks: ``logger``, rsyslog, syslog-ng and ``loggen``.

Every daemon here is a private child process: its own generated config, pid
file and work directory, a listener on a free 127.0.0.1 port, no ``/dev/log``
and no system config. It is probed for readiness with a bounded loop and
stopped by its own pid.

- :func:`send_with_logger` sends one message with util-linux ``logger``.
- :class:`Rsyslog` runs Debian's ``rsyslogd`` as a forwarder (listener ->
  ``omfwd``) or as a receiver (``imtcp`` -> ``omfile``).
- :class:`SyslogNg` runs syslog-ng (``network()`` -> ``file()``). Debian's
  ``syslog-ng-core`` conflicts with rsyslog, so it is never installed: its
  ``.deb`` files are fetched with ``apt-get download`` into the testkit cache and
  unpacked with ``dpkg -x`` (see :func:`syslog_ng_root`).
- :func:`run_loggen` drives syslog-ng's ``loggen`` load generator.
- Fixtures ``rsyslog_factory`` and ``syslog_ng_factory`` (function scope, not
  autouse) start peers and stop them all at teardown; they skip with the reason
  when the binary cannot be had.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import pytest

from flume_testkit.servers._jars import cache_dir
from flume_testkit.servers._process import ServerProcess, free_port, wait_until

__all__ = [
    "SYSLOG_NG_PACKAGES",
    "LoggenResult",
    "PeerCommandError",
    "PeerUnavailableError",
    "Rsyslog",
    "RsyslogFactory",
    "SyslogNg",
    "SyslogNgFactory",
    "loggen_path",
    "rsyslog_factory",
    "rsyslogd_path",
    "run_loggen",
    "send_with_logger",
    "syslog_ng_factory",
    "syslog_ng_root",
]

Rfc = Literal["rfc5424", "rfc3164"]
Transport = Literal["tcp", "udp"]
Framing = Literal["newline", "octet"]

#: Debian packages unpacked for syslog-ng: the daemon (it also ships ``loggen``)
#: and the libraries it needs that a slim Debian 12 image lacks.
SYSLOG_NG_PACKAGES = ("syslog-ng-core", "libivykis0", "libnet1", "libpcre3", "libwrap0")

_START_TIMEOUT = 30.0


class PeerUnavailableError(RuntimeError):
    """A syslog peer's program is not installed and cannot be fetched here."""


class PeerCommandError(RuntimeError):
    """A syslog peer's command ran but failed; the message carries its output."""


# --------------------------------------------------------------------------- logger


def _logger_binary() -> str:
    found = shutil.which("logger")
    if found is None:
        msg = ("util-linux 'logger' not found on PATH (expected /usr/bin/logger); "
               "install it with: apt-get install -y bsdutils")
        raise PeerUnavailableError(msg)
    return found


def send_with_logger(
    port: int,
    message: str,
    *,
    tcp: bool = True,
    rfc: Rfc = "rfc5424",
    octet_count: bool = False,
    host: str = "127.0.0.1",
    tag: str | None = None,
    priority: str | None = None,
    timeout: float = 10.0,
) -> None:
    """Send ``message`` to ``host:port`` with util-linux ``logger``.

    Over TCP each message is one connection; without ``octet_count`` logger ends
    the frame with ``\\n``, with it the frame is ``LEN SP MSG`` (RFC 6587) and no
    newline. Over UDP the datagram has no trailing newline. RFC 5424 messages
    carry logger's ``[timeQuality ...]`` structured data. The size limit is
    raised so logger never truncates ``message``.

    Args:
        port: the receiver's port.
        message: the MSG part.
        tcp: TCP (``-T``) if true, else UDP (``-d``).
        rfc: ``"rfc5424"`` or ``"rfc3164"``.
        octet_count: RFC 6587 octet counting (TCP only).
        host: the receiver's address.
        tag: the tag / APP-NAME (logger's default is the user name).
        priority: ``facility.level`` such as ``"local3.err"`` (default ``user.notice``).
        timeout: seconds before logger is given up on.

    Raises:
        PeerUnavailableError: logger is not installed.
        PeerCommandError: logger exited non-zero (for example, nothing listens on TCP).
        ValueError: ``rfc`` is not one of the two names.
    """
    argv = [_logger_binary(), *_logger_args(port, message, tcp=tcp, rfc=rfc,
                                            octet_count=octet_count, host=host,
                                            tag=tag, priority=priority)]
    done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        msg = (f"logger could not send to {host}:{port} over {'tcp' if tcp else 'udp'} "
               f"(expected exit 0, got {done.returncode}: {err}); is the receiver listening?")
        raise PeerCommandError(msg)


def _logger_args(
    port: int, message: str, *, tcp: bool, rfc: str, octet_count: bool, host: str,
    tag: str | None, priority: str | None,
) -> list[str]:
    if rfc not in ("rfc5424", "rfc3164"):
        msg = f"rfc must be 'rfc5424' or 'rfc3164' (got {rfc!r})"
        raise ValueError(msg)
    size = max(1024, 2 * len(message.encode()) + 512)
    args = ["-n", host, "-P", str(port), "-T" if tcp else "-d", f"--{rfc}", "-S", str(size)]
    if octet_count:
        args.append("--octet-count")
    if tag is not None:
        args += ["-t", tag]
    if priority is not None:
        args += ["-p", priority]
    return [*args, "--", message]


# --------------------------------------------------------------------------- probes


def _tcp_accepts(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1.0):
        return True


def _udp_bound(host: str, port: int) -> bool:
    """True if some socket is bound to UDP ``host:port`` (Linux ``/proc/net/udp``)."""
    packed = socket.inet_aton(host)
    want_ip = "".join(f"{b:02X}" for b in reversed(packed))
    want = {f"{want_ip}:{port:04X}", f"00000000:{port:04X}"}
    lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    return any(line.split()[1] in want for line in lines)


# --------------------------------------------------------------------------- daemon base


class _Daemon:
    """A private syslog daemon: config file, log, output file, listener."""

    name = "syslog daemon"

    def __init__(
        self, work_dir: Path, *, port: int, listen: Transport, output: Path | None,
    ) -> None:
        self.work_dir = work_dir.resolve()
        self.port = port
        self.host = "127.0.0.1"
        self.listen = listen
        self.output = output
        self._server: ServerProcess | None = None
        self._counted_bytes = 0
        self._counted_lines = 0

    @property
    def pid(self) -> int | None:
        return self._server.pid if self._server else None

    def is_running(self) -> bool:
        return self._server is not None and self._server.is_running()

    def _launch(self, argv: Sequence[str], env: dict[str, str], timeout: float) -> None:
        self._server = ServerProcess(self.name, argv, self.work_dir / "daemon.log",
                                     env=env, cwd=self.work_dir)
        self._server.start()
        self._server.wait_ready(self._listening, timeout=timeout)

    def _listening(self) -> bool:
        if self.listen == "udp":
            return _udp_bound(self.host, self.port)
        return _tcp_accepts(self.host, self.port)

    def stop(self) -> None:
        """Stop the daemon by its pid (SIGTERM, then SIGKILL). Idempotent."""
        if self._server is not None:
            self._server.stop()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the daemon's own stdout/stderr."""
        return self._server.log_tail(lines) if self._server else "(not started)"

    def _output_path(self) -> Path:
        if self.output is None:
            msg = f"{self.name} has no output file; only receivers write one"
            raise PeerCommandError(msg)
        return self.output

    def lines(self) -> list[str]:
        """Lines written to the output file so far (empty if none yet)."""
        try:
            return self._output_path().read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def line_count(self) -> int:
        """Complete lines in the output file; reads only what was appended since last time."""
        path = self._output_path()
        try:
            with path.open("rb") as f:
                f.seek(self._counted_bytes)
                while chunk := f.read(1 << 20):
                    self._counted_lines += chunk.count(b"\n")
                    self._counted_bytes += len(chunk)
        except FileNotFoundError:
            return 0
        return self._counted_lines

    def wait_for_line_count(
        self, count: int, *, timeout: float = 10.0, interval: float = 0.05,
    ) -> int:
        """Wait until the output holds at least ``count`` lines (cheap for millions)."""
        try:
            wait_until(lambda: self.line_count() >= count, timeout=timeout,
                       interval=interval, what=f"{count} lines in {self.output}")
        except TimeoutError as exc:
            msg = (f"{self.name} wrote {self.line_count()} of {count} expected lines to "
                   f"{self.output} within {timeout:.0f}s\n{self.log_tail()}")
            raise PeerCommandError(msg) from exc
        return self.line_count()

    def wait_for_lines(self, count: int, *, timeout: float = 10.0) -> list[str]:
        """Wait until the output file holds at least ``count`` lines; return them all."""
        self.wait_for_line_count(count, timeout=timeout)
        return self.lines()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- rsyslog


def rsyslogd_path() -> Path:
    """The rsyslogd binary: ``$FLUME_TESTKIT_RSYSLOGD``, PATH, or ``/usr/sbin/rsyslogd``.

    Raises:
        PeerUnavailableError: rsyslogd is not installed.
    """
    override = os.environ.get("FLUME_TESTKIT_RSYSLOGD")
    candidates = [override] if override else [shutil.which("rsyslogd"), "/usr/sbin/rsyslogd"]
    for cand in candidates:
        if cand and os.access(cand, os.X_OK):
            return Path(cand)
    msg = ("rsyslogd not found (looked at $FLUME_TESTKIT_RSYSLOGD, PATH and /usr/sbin); "
           "install it with: apt-get install -y --no-install-recommends rsyslog "
           "(the testkit never starts the system service, only private instances)")
    raise PeerUnavailableError(msg)


_RFC5424_TEMPLATE = (
    "<%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% "
    "%STRUCTURED-DATA% %msg:::drop-last-lf%"
)
_RFC3164_TEMPLATE = (
    "<%PRI%>%TIMESTAMP% %HOSTNAME% %syslogtag:1:32%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%"
)
# Forwarded frames carry no trailing newline: omfwd adds one for newline-framed
# TCP, and octet-counted or UDP frames should not contain one.
_RSYSLOG_TEMPLATES = (
    f'template(name="FlumeRfc5424" type="string" string="{_RFC5424_TEMPLATE}")\n'
    f'template(name="FlumeRfc3164" type="string" string="{_RFC3164_TEMPLATE}")\n'
    'template(name="FlumeRawMsg" type="string" string="%rawmsg%\\n")\n'
)

_RSYSLOG_FORWARD_TEMPLATE: dict[str, str] = {"rfc5424": "FlumeRfc5424", "rfc3164": "FlumeRfc3164"}


def _rsyslog_head(work_dir: Path, listen: Transport, port: int) -> str:
    module = "imtcp" if listen == "tcp" else "imudp"
    return (
        f'global(workDirectory="{work_dir}" maxMessageSize="64k")\n'
        f'module(load="{module}")\n'
        f'input(type="{module}" address="127.0.0.1" port="{port}" ruleset="flume")\n'
        f"{_RSYSLOG_TEMPLATES}"
        # rsyslogd's own messages go to the default ruleset, kept apart from the data.
        f'*.* action(type="omfile" file="{work_dir}/internal.log")\n'
    )


class Rsyslog(_Daemon):
    """A private ``rsyslogd -n -f CONF -i PIDFILE``; built by :meth:`forwarder` or :meth:`receiver`.

    Args:
        work_dir: its own directory (config, pid file, spool, logs, output).
        config: the complete rsyslog config text.
        port: the port its input listens on (127.0.0.1).
        listen: ``"tcp"`` or ``"udp"``, for the readiness probe.
        output: the file an ``omfile`` action writes, if any.
    """

    name = "rsyslogd"

    def __init__(
        self, work_dir: Path, config: str, *, port: int, listen: Transport = "tcp",
        output: Path | None = None,
    ) -> None:
        super().__init__(work_dir, port=port, listen=listen, output=output)
        self.config = config
        self.config_path = self.work_dir / "rsyslog.conf"

    @classmethod
    def forwarder(
        cls, work_dir: Path, target_port: int, *, target_host: str = "127.0.0.1",
        listen: Transport = "tcp", protocol: Transport = "tcp", framing: Framing = "newline",
        rfc: Rfc = "rfc5424", port: int | None = None,
    ) -> Rsyslog:
        """A relay: ``imtcp``/``imudp`` on a free port -> ``omfwd`` to ``target_host:target_port``.

        Frames are ``rfc`` formatted without a trailing newline; over TCP,
        ``framing="newline"`` ends each with ``\\n`` and ``"octet"`` prefixes
        ``LEN SP`` (RFC 6587). The action retries forever, so messages sent
        before the target listens are delivered once it does.

        rsyslog quirks when the formats differ: RFC 3164 in -> 5424 out has two
        spaces before MSG (rsyslog keeps 3164's leading space); 5424 in -> 3164
        out has no colon after the tag (``mytag hello``).
        """
        _check_choice("listen", listen, ("tcp", "udp"))
        _check_choice("protocol", protocol, ("tcp", "udp"))
        _check_choice("framing", framing, ("newline", "octet"))
        _check_choice("rfc", rfc, ("rfc5424", "rfc3164"))
        work_dir = work_dir.resolve()
        port = port or _free_port(listen)
        tcp_framing = "octet-counted" if framing == "octet" else "traditional"
        framing_arg = f' tcp_framing="{tcp_framing}"' if protocol == "tcp" else ""
        config = _rsyslog_head(work_dir, listen, port) + (
            'ruleset(name="flume") {\n'
            f'  action(type="omfwd" target="{target_host}" port="{target_port}" '
            f'protocol="{protocol}"{framing_arg} template="{_RSYSLOG_FORWARD_TEMPLATE[rfc]}"\n'
            '         action.resumeRetryCount="-1" action.resumeInterval="1"\n'
            '         queue.type="LinkedList" queue.size="100000")\n'
            "}\n"
        )
        return cls(work_dir, config, port=port, listen=listen)

    @classmethod
    def receiver(
        cls, work_dir: Path, *, output: Path | None = None,
        template: str = "RSYSLOG_TraditionalFileFormat", disk_queue: bool = False,
        sync_queue_files: bool = False, port: int | None = None,
    ) -> Rsyslog:
        """``imtcp`` on a free port -> ruleset -> ``omfile`` (the benchmark receiver).

        As measured in perf-baselines §2.3: Debian's default file format
        (``RSYSLOG_TraditionalFileFormat``; ``"FlumeRawMsg"`` writes the line as
        received). ``disk_queue`` puts the action behind a pure disk queue and
        ``sync_queue_files`` makes that queue sync per message (the 5.5k/s row).
        Newline and octet-counted framing are both accepted.
        """
        work_dir = work_dir.resolve()
        port = port or free_port()
        output = (output or work_dir / "out.log").resolve()
        queue = ""
        if disk_queue:
            sync = "on" if sync_queue_files else "off"
            queue = f' queue.type="Disk" queue.filename="flumedq" queue.syncqueuefiles="{sync}"'
        config = _rsyslog_head(work_dir, "tcp", port) + (
            'ruleset(name="flume") {\n'
            f'  action(type="omfile" file="{output}" template="{template}"{queue})\n'
            "}\n"
        )
        return cls(work_dir, config, port=port, listen="tcp", output=output)

    def start(self, *, timeout: float = _START_TIMEOUT) -> Self:
        """Write the config, start rsyslogd, wait until its listener is up."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config)
        argv = [str(rsyslogd_path()), "-n", "-f", str(self.config_path),
                "-i", str(self.work_dir / "rsyslogd.pid")]
        self._launch(argv, {}, timeout)
        return self

    def log_tail(self, lines: int = 40) -> str:
        """rsyslogd's stdout/stderr tail plus its internal messages."""
        internal = self.work_dir / "internal.log"
        extra = []
        if internal.exists():
            extra = internal.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join([super().log_tail(lines), *extra])


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        msg = f"{name} must be one of {allowed} (got {value!r})"
        raise ValueError(msg)


def _free_port(transport: Transport) -> int:
    if transport == "tcp":
        return free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- syslog-ng


def syslog_ng_root() -> Path:
    """A directory holding an unpacked syslog-ng (``usr/sbin/syslog-ng``, ``usr/bin/loggen``).

    ``$FLUME_TESTKIT_SYSLOG_NG_ROOT`` names one to use as is (``/`` for an
    installed syslog-ng). Otherwise the Debian packages in
    :data:`SYSLOG_NG_PACKAGES` are fetched once with ``apt-get download`` and
    unpacked with ``dpkg -x`` into the testkit cache, under a file lock.

    Raises:
        PeerUnavailableError: apt-get/dpkg are missing or the download failed.
    """
    override = os.environ.get("FLUME_TESTKIT_SYSLOG_NG_ROOT")
    if override:
        return _checked_root(Path(override))
    base = cache_dir() / "syslog-ng"
    base.mkdir(parents=True, exist_ok=True)
    root = base / "root"
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / ".complete").exists():
            _unpack_debs(base, root)
            (base / ".complete").write_text(" ".join(SYSLOG_NG_PACKAGES) + "\n")
    return _checked_root(root)


def _checked_root(root: Path) -> Path:
    if not (root / "usr/sbin/syslog-ng").exists():
        msg = (f"no syslog-ng under {root} (expected usr/sbin/syslog-ng); "
               "unset $FLUME_TESTKIT_SYSLOG_NG_ROOT or point it at an unpacked syslog-ng-core")
        raise PeerUnavailableError(msg)
    return root


def _unpack_debs(base: Path, root: Path) -> None:
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            msg = (f"{tool} not found; syslog-ng is fetched as Debian packages "
                   f"({', '.join(SYSLOG_NG_PACKAGES)}) and needs apt-get and dpkg")
            raise PeerUnavailableError(msg)
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        debs = Path(tmp) / "debs"
        debs.mkdir()
        _run_checked(["apt-get", "download", *SYSLOG_NG_PACKAGES], cwd=debs,
                     hint="run 'apt-get update' once so apt knows these packages")
        staged = Path(tmp) / "root"
        for deb in sorted(debs.glob("*.deb")):
            _run_checked(["dpkg", "-x", str(deb), str(staged)], cwd=debs, hint="")
        if root.exists():
            shutil.rmtree(root)
        staged.rename(root)


def _run_checked(argv: list[str], *, cwd: Path, hint: str) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()[-2000:]
        msg = f"{' '.join(argv)} failed (exit {done.returncode}): {err}. {hint}".strip()
        raise PeerUnavailableError(msg)


def _module_dir(root: Path) -> Path:
    found = sorted(root.glob("usr/lib/syslog-ng/*/libafsocket.so"))
    if not found:
        msg = f"no syslog-ng modules under {root}/usr/lib/syslog-ng/<version>/ (libafsocket.so)"
        raise PeerUnavailableError(msg)
    return found[-1].parent


def _syslog_ng_env(root: Path) -> dict[str, str]:
    """LD_LIBRARY_PATH for the unpacked libraries and loggen's plugin prefix."""
    dirs = [root / "usr/lib/syslog-ng", *sorted(root.glob("usr/lib/*-linux-gnu")),
            *sorted(root.glob("lib/*-linux-gnu"))]
    old = os.environ.get("LD_LIBRARY_PATH")
    paths = [str(d) for d in dirs if d.is_dir()] + ([old] if old else [])
    return {"LD_LIBRARY_PATH": ":".join(paths), "SYSLOGNG_PREFIX": str(root / "usr")}


def loggen_path() -> Path:
    """syslog-ng's ``loggen`` (in ``syslog-ng-core``), fetched as :func:`syslog_ng_root`."""
    path = syslog_ng_root() / "usr/bin/loggen"
    if not path.exists():
        msg = f"loggen not found at {path}; it ships in the syslog-ng-core package"
        raise PeerUnavailableError(msg)
    return path


_TUNED_SOURCE = " log_iw_size(50000) log_fetch_limit(1000)"
_TUNED_DEST = " log_fifo_size(100000) flush_lines(1000)"


class SyslogNg(_Daemon):
    """A private syslog-ng: ``network(tcp, port)`` -> ``file()`` with flow control.

    Args:
        work_dir: its own directory (config, pid, persist file, log, output).
        output: the output file (default ``work_dir/out.log``).
        tuned: the windows of perf-baselines §2.3 (``log_iw_size(50000)
            log_fetch_limit(1000) log_fifo_size(100000) flush_lines(1000)``);
            false keeps syslog-ng's defaults (capped near 0.2M msg/s).
        rfc5424: parse input as RFC 5424 (``flags(syslog-protocol)``); otherwise
            the legacy RFC 3164 parser. Framing is newline only.
        port: the listening port (default: a free one).
    """

    name = "syslog-ng"

    def __init__(
        self, work_dir: Path, *, output: Path | None = None, tuned: bool = True,
        rfc5424: bool = False, port: int | None = None,
    ) -> None:
        work_dir = work_dir.resolve()
        out = (output or work_dir / "out.log").resolve()
        super().__init__(work_dir, port=port or free_port(), listen="tcp", output=out)
        self.tuned = tuned
        self.rfc5424 = rfc5424
        self.config_path = self.work_dir / "syslog-ng.conf"
        self._ctl_dir: str | None = None

    def render_config(self, version: str) -> str:
        """The config text for syslog-ng ``version`` (``"3.38"``)."""
        assert self.output is not None
        flags = " flags(syslog-protocol)" if self.rfc5424 else ""
        src_tuning = _TUNED_SOURCE if self.tuned else ""
        dst_tuning = _TUNED_DEST if self.tuned else ""
        return (
            f"@version: {version}\n"
            "options { stats_freq(0); };\n"
            f'source s_flume {{ network(ip("{self.host}") port({self.port}) transport("tcp")'
            f"{flags}{src_tuning}); }};\n"
            f'destination d_flume {{ file("{self.output}"{dst_tuning}); }};\n'
            "log { source(s_flume); destination(d_flume); flags(flow-control); };\n"
        )

    def start(self, *, timeout: float = _START_TIMEOUT) -> Self:
        """Fetch syslog-ng if needed, write the config, start it, wait for its port."""
        root = syslog_ng_root()
        modules = _module_dir(root)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render_config(modules.name))
        # The control socket path must fit in sockaddr_un (108 bytes): keep it short.
        self._ctl_dir = tempfile.mkdtemp(prefix="sng")
        argv = [str(root / "usr/sbin/syslog-ng"), "-F", "-e", "--no-caps",
                f"--cfgfile={self.config_path}", f"--module-path={modules}",
                f"--persist-file={self.work_dir / 'syslog-ng.persist'}",
                f"--pidfile={self.work_dir / 'syslog-ng.pid'}",
                f"--control={self._ctl_dir}/ctl"]
        self._launch(argv, _syslog_ng_env(root), timeout)
        return self

    def stop(self) -> None:
        """Stop syslog-ng by its pid and remove its control-socket directory."""
        super().stop()
        if self._ctl_dir is not None:
            shutil.rmtree(self._ctl_dir, ignore_errors=True)
            self._ctl_dir = None


# --------------------------------------------------------------------------- loggen


@dataclass(frozen=True, slots=True)
class LoggenResult:
    """What loggen reported: messages sent, seconds taken, its rate, raw output."""

    count: int
    seconds: float
    rate: float
    output: str


_LOGGEN_SUMMARY = re.compile(
    r"average rate = (?P<rate>[\d.e+-]+) msg/sec, count=(?P<count>\d+), time=(?P<time>[\d.e+-]+)"
)


def run_loggen(
    port: int, count: int, size: int, rfc5424: bool, *, host: str = "127.0.0.1",
    octet_count: bool = False, rate: int = 100_000_000, timeout: float = 300.0,
) -> LoggenResult:
    """Send ``count`` messages of ``size`` bytes over one TCP connection with loggen.

    Runs ``loggen -i -S -r RATE -s SIZE -n COUNT [-P [-F]] HOST PORT``, as in
    perf-baselines §2.3. Lines carry ``seq: NNNNNNNNNN`` for loss checks. RFC
    3164 lines carry an ISO timestamp with no zone (loggen's quirk). With
    ``rfc5424`` the frames are newline-ended unless ``octet_count``. loggen
    raises a ``size`` below its minimum (127 bytes for RFC 3164) to that minimum.

    Raises:
        PeerUnavailableError: loggen cannot be had.
        PeerCommandError: loggen failed or printed no summary.
    """
    if octet_count and not rfc5424:
        msg = "loggen frames with octet counting only in RFC 5424 mode (rfc5424=True)"
        raise ValueError(msg)
    argv = [str(loggen_path()), "-i", "-S", "-r", str(rate), "-s", str(size), "-n", str(count)]
    if rfc5424:
        argv += ["-P"] if octet_count else ["-P", "-F"]
    argv += [host, str(port)]
    env = {**os.environ, **_syslog_ng_env(syslog_ng_root())}
    done = subprocess.run(argv, capture_output=True, env=env, timeout=timeout, check=False)
    text = (done.stdout + done.stderr).decode(errors="replace")
    return _parse_loggen(text, done.returncode, argv)


def _parse_loggen(text: str, returncode: int, argv: list[str]) -> LoggenResult:
    match = _LOGGEN_SUMMARY.search(text)
    if returncode != 0 or match is None:
        got = f"exit {returncode}" + ("" if match else " and no summary")
        msg = (f"loggen failed (expected exit 0 and an 'average rate' summary, got {got}); "
               f"is the receiver listening?: {' '.join(argv)}\n{text[-2000:]}")
        raise PeerCommandError(msg)
    return LoggenResult(count=int(match["count"]), seconds=float(match["time"]),
                        rate=float(match["rate"]), output=text)


# --------------------------------------------------------------------------- fixtures


def _stop_each(peers: Sequence[_Daemon]) -> None:
    """Stop all ``peers``, even if stopping one of them fails; then re-raise the first error."""
    errors: list[BaseException] = []
    for peer in peers:
        try:
            peer.stop()
        except Exception as exc:  # keep stopping the others
            errors.append(exc)
    if errors:
        raise errors[0]


class RsyslogFactory:
    """Starts :class:`Rsyslog` peers under one directory and stops them all at the end."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.started: list[Rsyslog] = []

    def _next_dir(self, role: str) -> Path:
        return self.base_dir / f"{role}-{len(self.started)}"

    def forwarder(self, target_port: int, **kwargs: object) -> Rsyslog:
        """Start :meth:`Rsyslog.forwarder` with these arguments; return it running."""
        peer = Rsyslog.forwarder(self._next_dir("forwarder"), target_port, **kwargs)  # type: ignore[arg-type]
        return self._start(peer)

    def receiver(self, **kwargs: object) -> Rsyslog:
        """Start :meth:`Rsyslog.receiver` with these arguments; return it running."""
        peer = Rsyslog.receiver(self._next_dir("receiver"), **kwargs)  # type: ignore[arg-type]
        return self._start(peer)

    def _start(self, peer: Rsyslog) -> Rsyslog:
        self.started.append(peer)
        return peer.start()

    def stop_all(self) -> None:
        """Stop every peer this factory started, by pid."""
        _stop_each(self.started)


class SyslogNgFactory:
    """Starts :class:`SyslogNg` peers under one directory and stops them all at the end."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.started: list[SyslogNg] = []

    def __call__(self, **kwargs: object) -> SyslogNg:
        """Start ``SyslogNg(work_dir, **kwargs)``; return it running."""
        work_dir = self.base_dir / f"syslog-ng-{len(self.started)}"
        peer = SyslogNg(work_dir, **kwargs)  # type: ignore[arg-type]
        self.started.append(peer)
        return peer.start()

    def stop_all(self) -> None:
        """Stop every peer this factory started, by pid."""
        _stop_each(self.started)


@pytest.fixture
def rsyslog_factory(tmp_path: Path) -> Iterator[RsyslogFactory]:
    """Private rsyslogd instances: ``rsyslog_factory.forwarder(port)`` / ``.receiver()``.

    Skips when rsyslogd is not installed.
    """
    try:
        rsyslogd_path()
    except PeerUnavailableError as exc:
        pytest.skip(str(exc))
    factory = RsyslogFactory(tmp_path / "rsyslog")
    yield factory
    factory.stop_all()


@pytest.fixture
def syslog_ng_factory(tmp_path: Path) -> Iterator[SyslogNgFactory]:
    """Private syslog-ng instances: ``syslog_ng_factory(tuned=True, rfc5424=False)``.

    Skips when syslog-ng cannot be fetched and unpacked here.
    """
    try:
        _module_dir(syslog_ng_root())
    except PeerUnavailableError as exc:
        pytest.skip(str(exc))
    factory = SyslogNgFactory(tmp_path / "syslog-ng")
    yield factory
    factory.stop_all()
