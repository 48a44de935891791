"""A real HDFS for tests: one NameNode and one DataNode (Hadoop 2.7.3) with WebHDFS.

The Hadoop jars come from the pyspark 2.4.8 sdist (cached, see ``_jars``), Jersey 1
from Debian's ``libjersey1-servlet-java``. :class:`HdfsCluster` writes a conf dir
under a base dir, formats the NameNode and starts both daemons on free 127.0.0.1
ports; readiness is read from the NameNode's ``/jmx``. Fault hooks stop, start or
kill one daemon (same ports, data kept) and switch safe mode with ``DFSAdmin``.

:func:`read_sequence_file` and :func:`read_sequence_file_header` read a
SequenceFile (local path or ``hdfs://`` URI) with Hadoop's own
``SequenceFile.Reader`` through the testkit's ``SeqFileDump.java``;
:func:`write_sequence_file` writes one with Hadoop's ``SequenceFile.Writer``.

The ``hdfs_cluster`` fixture (session scope) starts one cluster per session;
tests should use unique paths. Load it with ``-p flume_testkit.servers.hdfs``.
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import subprocess
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.request import urlopen

import pytest

from flume_testkit.servers._jars import cache_dir, pyspark_jars
from flume_testkit.servers._process import ServerProcess, ServerStartError, free_port
from flume_testkit.servers.java import compile_java, java_tool

if TYPE_CHECKING:
    import hdfs  # type: ignore[import-untyped]

__all__ = [
    "DEBIAN_JERSEY_JARS",
    "HADOOP_JARS",
    "HdfsCluster",
    "HdfsUnavailable",
    "SequenceFileError",
    "hadoop_lib",
    "hadoop_libdir",
    "hdfs_cluster",
    "read_sequence_file",
    "read_sequence_file_header",
    "write_sequence_file",
]

HADOOP_JARS = (
    "activation-1.1.1.jar", "apacheds-i18n-2.0.0-M15.jar", "apacheds-kerberos-codec-2.0.0-M15.jar",
    "api-asn1-api-1.0.0-M20.jar", "api-util-1.0.0-M20.jar", "avro-1.8.2.jar",
    "commons-beanutils-1.9.4.jar", "commons-cli-1.2.jar", "commons-codec-1.10.jar",
    "commons-collections-3.2.2.jar", "commons-compress-1.20.jar", "commons-configuration-1.6.jar",
    "commons-digester-1.8.jar", "commons-httpclient-3.1.jar", "commons-io-2.4.jar",
    "commons-lang-2.6.jar", "commons-logging-1.1.3.jar", "commons-math3-3.4.1.jar",
    "commons-net-3.1.jar", "curator-client-2.7.1.jar", "curator-framework-2.7.1.jar",
    "curator-recipes-2.7.1.jar", "gson-2.2.4.jar", "guava-14.0.1.jar",
    "hadoop-annotations-2.7.3.jar", "hadoop-auth-2.7.3.jar", "hadoop-common-2.7.3.jar",
    "hadoop-hdfs-2.7.3.jar", "htrace-core-3.1.0-incubating.jar", "httpclient-4.5.6.jar",
    "httpcore-4.4.10.jar", "jackson-core-asl-1.9.13.jar", "jackson-jaxrs-1.9.13.jar",
    "jackson-mapper-asl-1.9.13.jar", "jackson-xc-1.9.13.jar", "javax.servlet-api-3.1.0.jar",
    "jaxb-api-2.2.2.jar", "jetty-6.1.26.jar", "jetty-util-6.1.26.jar", "jsr305-1.3.9.jar",
    "leveldbjni-all-1.8.jar", "log4j-1.2.17.jar", "netty-3.9.9.Final.jar",
    "netty-all-4.1.47.Final.jar", "paranamer-2.8.jar", "protobuf-java-2.5.0.jar",
    "slf4j-api-1.7.16.jar", "slf4j-log4j12-1.7.16.jar", "snappy-java-1.1.8.2.jar",
    "stax-api-1.0-2.jar", "xercesImpl-2.9.1.jar", "xmlenc-0.52.jar", "xz-1.5.jar",
    "zookeeper-3.4.6.jar",
)
"""The 54 jars of the pyspark 2.4.8 sdist that a NameNode and DataNode need."""

DEBIAN_JERSEY_JARS = tuple(
    Path("/usr/share/java") / f"{name}.jar"
    for name in ("jersey1-core", "jersey1-server", "jersey1-servlet", "jsr311-api")
)
"""Jersey 1 for WebHDFS, from ``apt-get install -y libjersey1-servlet-java``."""

_NAMENODE = "org.apache.hadoop.hdfs.server.namenode.NameNode"
_DATANODE = "org.apache.hadoop.hdfs.server.datanode.DataNode"
_DFSADMIN = "org.apache.hadoop.hdfs.tools.DFSAdmin"
_SEQ_DUMP = "SeqFileDump"
_WEBAPPS = ("hdfs", "datanode", "secondary", "static", "journal")
_JMX_STATE = "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState"
_JMX_INFO = "/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo"
_JMX_DATANODE = "/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo"


class HdfsUnavailable(RuntimeError):
    """Java or the Debian Jersey jars are missing, so no real HDFS can start here."""


class SequenceFileError(RuntimeError):
    """Hadoop's SequenceFile reader or writer failed; the message carries its stderr."""


# ---------------------------------------------------------------- jars and conf


def _check_prerequisites() -> str:
    java = java_tool("java")
    if java is None:
        msg = "HDFS needs java on PATH: apt-get install -y openjdk-17-jdk-headless"
        raise HdfsUnavailable(msg)
    missing = [str(p) for p in DEBIAN_JERSEY_JARS if not p.is_file()]
    if missing:
        msg = (f"HDFS needs Jersey 1 jars, missing: {', '.join(missing)}; "
               "install them with: apt-get install -y libjersey1-servlet-java")
        raise HdfsUnavailable(msg)
    return java


def hadoop_lib() -> Path:
    """Return a cached ``lib/`` dir holding (symlinks to) every jar HDFS runs on.

    Raises:
        HdfsUnavailable: Java or the Debian Jersey jars are missing.
    """
    _check_prerequisites()
    lib = cache_dir() / "hadoop-2.7.3-lib"
    lib.mkdir(parents=True, exist_ok=True)
    jars = [*pyspark_jars(HADOOP_JARS).values(), *DEBIAN_JERSEY_JARS]
    for jar in jars:
        link = lib / jar.name
        if not link.exists():
            tmp = lib / f".{jar.name}.{os.getpid()}"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(jar)
            os.replace(tmp, link)
    return lib


def _jars_of(lib: Path) -> list[Path]:
    return sorted(lib.glob("*.jar"))


def _site_xml(props: dict[str, str]) -> str:
    body = "".join(
        f"  <property><name>{k}</name><value>{v}</value></property>\n" for k, v in props.items()
    )
    return f'<?xml version="1.0"?>\n<configuration>\n{body}</configuration>\n'


_LOG4J = """\
log4j.rootLogger=INFO, console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{HH:mm:ss,SSS} %-5p %c{1}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
log4j.logger.BlockStateChange=WARN
log4j.logger.org.apache.hadoop.hdfs.StateChange=WARN
log4j.logger.org.apache.hadoop.hdfs.server.datanode.DataNode.clienttrace=WARN
log4j.logger.org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit=WARN
"""


# ---------------------------------------------------------------- the cluster


class HdfsCluster:
    """A NameNode and a DataNode on 127.0.0.1, all state under ``base_dir``.

    Args:
        base_dir: where conf, metadata, blocks and logs go (created if missing).
        permissions: ``dfs.permissions.enabled``; the superuser is the OS user
            that started the cluster (root in CI).
        startup_timeout: seconds to wait for each start to be ready.
        extra_conf: more ``hdfs-site.xml`` properties.
    """

    def __init__(
        self, base_dir: Path, *, permissions: bool = True, startup_timeout: float = 90.0,
        extra_conf: dict[str, str] | None = None,
    ) -> None:
        self._java = _check_prerequisites()
        self.base_dir = Path(base_dir)
        self.startup_timeout = startup_timeout
        self._permissions = permissions
        self._extra_conf = dict(extra_conf or {})
        self.rpc_port, self.http_port = free_port(), free_port()
        self._dn_ports = {"address": free_port(), "http.address": free_port(),
                          "ipc.address": free_port()}
        self._lib = hadoop_lib()
        self._namenode: ServerProcess | None = None
        self._datanode: ServerProcess | None = None
        self._restarts = 0
        self.startup_seconds: float | None = None

    # -- addresses

    @property
    def webhdfs_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def rpc_address(self) -> str:
        return f"127.0.0.1:{self.rpc_port}"

    @property
    def namenode_uri(self) -> str:
        return f"hdfs://127.0.0.1:{self.rpc_port}"

    @property
    def datanode_http_port(self) -> int:
        return int(self._dn_ports["http.address"])

    def datanode_activity(self) -> dict[str, Any]:
        """The DataNode's ``DataNodeActivity`` metrics (``FsyncCount``, ``BytesWritten``...)."""
        return self._jmx(self.datanode_http_port,
                         "/jmx?qry=Hadoop:service=DataNode,name=DataNodeActivity*")

    @property
    def conf_dir(self) -> Path:
        return self.base_dir / "conf"

    @property
    def classpath(self) -> list[Path]:
        """Conf dir first, then every jar: what a Hadoop client JVM needs."""
        return [self.conf_dir, *_jars_of(self._lib)]

    def client(self, user: str = "root") -> hdfs.InsecureClient:
        """An ``hdfs.InsecureClient`` (HdfsCLI) talking WebHDFS as ``user``."""
        import hdfs

        return hdfs.InsecureClient(self.webhdfs_url, user=user)

    # -- lifecycle

    def start(self) -> HdfsCluster:
        """Write conf, format, start NameNode then DataNode; wait until ready.

        ``startup_seconds`` records how long this took.
        """
        started = time.monotonic()
        self._write_conf()
        self._format()
        self.start_namenode(wait=False)
        self.start_datanode(wait=False)
        self.wait_ready()
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Stop the DataNode, then the NameNode, each by pid. Idempotent."""
        self.stop_datanode()
        self.stop_namenode()

    def __enter__(self) -> HdfsCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until a DataNode is live and safe mode is off.

        Raises:
            ServerStartError: not ready in time; the message has the log tails.
        """
        limit = timeout or self.startup_timeout
        namenode = self._require(self._namenode, "NameNode")
        try:
            namenode.wait_ready(self._is_ready, timeout=limit)
        except ServerStartError as exc:
            tail = self._datanode.log_tail() if self._datanode else "(no DataNode)"
            msg = f"{exc}\n--- DataNode log ---\n{tail}"
            raise ServerStartError(msg) from exc

    def _is_ready(self) -> bool:
        state = self._jmx(self.http_port, _JMX_STATE)
        info = self._jmx(self.http_port, _JMX_INFO)
        return int(state["NumLiveDataNodes"]) >= 1 and info["Safemode"] == ""

    @staticmethod
    def _jmx(port: int, query: str) -> dict[str, Any]:
        with urlopen(f"http://127.0.0.1:{port}{query}", timeout=5) as resp:
            beans = json.load(resp)["beans"]
        if not beans:
            msg = f"no JMX bean yet for {query}"
            raise LookupError(msg)
        return dict(beans[0])

    @staticmethod
    def _require(process: ServerProcess | None, name: str) -> ServerProcess:
        if process is None:
            msg = f"{name} was never started: call HdfsCluster.start() first"
            raise RuntimeError(msg)
        return process

    # -- fault hooks

    def start_namenode(self, *, wait: bool = True) -> None:
        """(Re)start the NameNode on the same ports with its metadata kept."""
        self._namenode = self._daemon("NameNode", _NAMENODE, "-Xmx384m")
        if wait:
            self.wait_ready()

    def stop_namenode(self) -> None:
        """SIGTERM the NameNode by pid and wait; idempotent."""
        if self._namenode is not None:
            self._namenode.stop()

    def kill_namenode(self) -> None:
        """SIGKILL the NameNode (a crash); restart it with :meth:`start_namenode`."""
        if self._namenode is not None:
            self._namenode.kill()

    def start_datanode(self, *, wait: bool = True) -> None:
        """(Re)start the DataNode on the same ports with its blocks kept.

        With ``wait`` it returns once the DataNode answers on its HTTP port and
        the NameNode counts a live DataNode outside safe mode.
        """
        self._datanode = self._daemon("DataNode", _DATANODE, "-Xmx256m")
        if wait:
            self._datanode.wait_ready(self._datanode_up, timeout=self.startup_timeout)
            self.wait_ready()

    def _datanode_up(self) -> bool:
        info = self._jmx(int(self._dn_ports["http.address"]), _JMX_DATANODE)
        return "127.0.0.1" in str(info.get("NamenodeAddresses", ""))

    def stop_datanode(self) -> None:
        """SIGTERM the DataNode by pid and wait; idempotent.

        The NameNode still counts it live for minutes, so a write is redirected
        to it and fails with a connection error while metadata calls work.
        """
        if self._datanode is not None:
            self._datanode.stop()

    def enter_safemode(self) -> None:
        """``DFSAdmin -safemode enter``: writes then fail with SafeModeException."""
        self.dfsadmin("-safemode", "enter")

    def leave_safemode(self) -> None:
        """``DFSAdmin -safemode leave``."""
        self.dfsadmin("-safemode", "leave")

    def dfsadmin(self, *args: str) -> str:
        """Run ``hdfs dfsadmin ARGS`` against this cluster; return its stdout."""
        return self._run_java(_DFSADMIN, "-fs", self.namenode_uri, *args)

    # -- helpers

    def _java_argv(self, main: str, *opts: str) -> list[str]:
        cp = os.pathsep.join([str(self.conf_dir), str(self._lib / "*")])
        return [self._java, *opts, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Djava.net.preferIPv4Stack=true",
                f"-Dhadoop.log.dir={self.base_dir / 'logs'}", "-cp", cp, main]

    def _daemon(self, name: str, main: str, heap: str) -> ServerProcess:
        self._restarts += 1
        log = self.base_dir / "logs" / f"{name.lower()}-{self._restarts}.log"
        process = ServerProcess(f"HDFS {name}", self._java_argv(main, heap), log)
        process.start()
        return process

    def _run_java(self, main: str, *args: str, timeout: float = 120.0) -> str:
        argv = [*self._java_argv(main, "-Xmx128m"), *args]
        done = subprocess.run(argv, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            msg = f"{main} {' '.join(args)} failed (rc={done.returncode}):\n{done.stderr[-3000:]}"
            raise RuntimeError(msg)
        return done.stdout

    def _format(self) -> None:
        if (self.base_dir / "name" / "current" / "VERSION").exists():
            return
        self._run_java(_NAMENODE, "-format", "-nonInteractive", "-force")

    def _write_conf(self) -> None:
        conf = self.conf_dir
        for app in _WEBAPPS:
            (conf / "webapps" / app).mkdir(parents=True, exist_ok=True)
            (conf / "webapps" / app / "index.html").touch()
        (conf / "core-site.xml").write_text(_site_xml({
            "fs.defaultFS": self.namenode_uri,
            # The DataNode reconnects sooner after a NameNode restart.
            "ipc.client.connect.retry.interval": "250",
        }))
        (conf / "hdfs-site.xml").write_text(_site_xml(self._hdfs_site()))
        (conf / "log4j.properties").write_text(_LOG4J)

    def _hdfs_site(self) -> dict[str, str]:
        dn = {f"dfs.datanode.{k}": f"127.0.0.1:{v}" for k, v in self._dn_ports.items()}
        return {
            "dfs.namenode.rpc-address": self.rpc_address,
            "dfs.namenode.http-address": f"127.0.0.1:{self.http_port}",
            **dn,
            "dfs.datanode.hostname": "127.0.0.1",
            "dfs.namenode.datanode.registration.ip-hostname-check": "false",
            "dfs.replication": "1",
            "dfs.namenode.name.dir": (self.base_dir / "name").as_uri(),
            "dfs.datanode.data.dir": (self.base_dir / "data").as_uri(),
            "dfs.namenode.safemode.extension": "0",
            "dfs.webhdfs.enabled": "true",
            "dfs.permissions.enabled": str(self._permissions).lower(),
            "dfs.heartbeat.interval": "1",
            # The user that started the cluster (root in CI) may act as any user (doas).
            f"hadoop.proxyuser.{getpass.getuser()}.hosts": "*",
            f"hadoop.proxyuser.{getpass.getuser()}.groups": "*",
            **self._extra_conf,
        }


# ---------------------------------------------------------------- SequenceFile


def _seq_dump_argv(cluster: HdfsCluster | None) -> list[str]:
    java = _check_prerequisites()
    lib = hadoop_lib()
    jars = _jars_of(lib)
    classes = compile_java(_SEQ_DUMP, jars)
    cp_parts = [str(classes)]
    if cluster is not None:
        cp_parts.append(str(cluster.conf_dir))
    cp_parts.append(str(lib / "*"))
    return [java, "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Djava.net.preferIPv4Stack=true", "-cp", os.pathsep.join(cp_parts), _SEQ_DUMP]


def _seq_dump(args: list[str], cluster: HdfsCluster | None, stdin: str | None = None) -> str:
    argv = [*_seq_dump_argv(cluster), *args]
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        msg = (f"SeqFileDump {' '.join(args)} failed (rc={done.returncode}); "
               f"is it a SequenceFile?\n{done.stderr[-3000:]}")
        raise SequenceFileError(msg)
    return done.stdout


def _resolve(path_or_uri: str | os.PathLike[str], cluster: HdfsCluster | None) -> str:
    text = os.fspath(path_or_uri)
    if "://" in text:
        return text
    if cluster is not None and text.startswith("/"):
        return f"{cluster.namenode_uri}{text}"
    return Path(text).resolve().as_uri()


def read_sequence_file_header(
    path_or_uri: str | os.PathLike[str], *, cluster: HdfsCluster | None = None,
) -> dict[str, Any]:
    """Read a SequenceFile's header with Hadoop's ``SequenceFile.Reader``.

    A plain absolute path is read from ``cluster`` if one is given, else from the
    local file system; ``hdfs://`` and ``file://`` URIs are used as they are.

    Returns:
        ``version``, ``key_class``, ``value_class``, ``compression_type``
        (``NONE``/``RECORD``/``BLOCK``), ``codec`` (class name or None) and
        ``metadata`` (dict).
    """
    out = _seq_dump(["header", _resolve(path_or_uri, cluster)], cluster)
    header: dict[str, Any] = json.loads(out.splitlines()[0])
    return header


def read_sequence_file(
    path_or_uri: str | os.PathLike[str], *, cluster: HdfsCluster | None = None,
) -> list[dict[str, Any]]:
    """Read every record of a SequenceFile with Hadoop's ``SequenceFile.Reader``.

    Each record is a dict with ``key_class``, ``value_class``, ``key`` (int for
    Long/IntWritable, str for Text, None for NullWritable, else the key's
    ``toString()``), ``key_bytes`` (the key's bytes for BytesWritable/Text, else
    its serialised form) and ``value`` (bytes: BytesWritable/Text contents, else
    the Writable's serialised form). Path resolution is as in
    :func:`read_sequence_file_header`.

    Raises:
        SequenceFileError: Hadoop could not read the file.
    """
    out = _seq_dump(["read", _resolve(path_or_uri, cluster)], cluster)
    return [_record(json.loads(line)) for line in out.splitlines()[1:] if line]


def _record(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "key_class": raw["key_class"],
        "value_class": raw["value_class"],
        "key": raw["key"],
        "key_bytes": base64.b64decode(raw["key_b64"]),
        "value": base64.b64decode(raw["value_b64"]),
    }


def write_sequence_file(
    path_or_uri: str | os.PathLike[str], records: Iterable[tuple[int, bytes]], *,
    compression: str = "NONE", codec: str | None = None, value_type: str = "bytes",
    cluster: HdfsCluster | None = None,
) -> None:
    """Write ``(long key, value)`` records with Hadoop's ``SequenceFile.Writer``.

    Keys are ``LongWritable`` (as Flume's HDFS sink writes); values are
    ``BytesWritable`` (``value_type="bytes"``) or ``Text`` (``"text"``).

    Args:
        compression: ``NONE``, ``RECORD`` or ``BLOCK``.
        codec: a codec class name (``org.apache.hadoop.io.compress.DefaultCodec``,
            ``...BZip2Codec``); None means DefaultCodec when compressing.
            Gzip and Snappy need native Hadoop, which is not available here.
    """
    lines = "".join(f"{key}\t{base64.b64encode(value).decode()}\n" for key, value in records)
    args = ["write", _resolve(path_or_uri, cluster), compression.upper(),
            codec or "org.apache.hadoop.io.compress.DefaultCodec", value_type]
    _seq_dump(args, cluster, stdin=lines)


# ---------------------------------------------------------------- fixture


@pytest.fixture(scope="session")
def hadoop_libdir() -> Path:
    """The Hadoop ``lib/`` dir (for SequenceFile helpers without a cluster); skips without Java."""
    try:
        return hadoop_lib()
    except HdfsUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def hdfs_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HdfsCluster]:
    """One real HDFS per session; skips when Java or the Jersey jars are missing."""
    try:
        cluster = HdfsCluster(tmp_path_factory.mktemp("hdfs"))
    except HdfsUnavailable as exc:
        pytest.skip(str(exc))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
