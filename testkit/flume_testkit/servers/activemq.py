"""A real ActiveMQ 5.17 broker (Debian's ``activemq``) with a private configuration.

:class:`ActiveMQ` runs ``java -jar /usr/share/activemq/bin/activemq.jar start
xbean:file:CONF`` with its own base and data directory (persistent KahaDB, so a
restart keeps every message that was not acknowledged), an OpenWire and a STOMP
transport connector on free 127.0.0.1 ports, the statistics plugin (destination
statistics on request) and, when ``users`` are given, simple authentication.
It is stopped by its own pid (SIGTERM: the JVM's shutdown hook stops the broker
cleanly) or killed, and can be restarted on the same ports and data.

Fixture ``activemq_broker`` (session scope, shared: use a fresh destination name
per test) skips with the reason when the package or Java is missing
(``scripts/install-system-deps.sh`` installs them).
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from flume_testkit.servers._process import ServerProcess, free_port

__all__ = ["ACTIVEMQ_JAR", "ActiveMQ", "activemq_broker", "activemq_missing"]

ACTIVEMQ_JAR = Path("/usr/share/activemq/bin/activemq.jar")
ACTIVEMQ_HOME = ACTIVEMQ_JAR.parent.parent
_EXTRA_JARS = (Path("/usr/share/java/xstream.jar"),)

_CONFIG = """\
<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="flume-testkit"
          dataDirectory="{data}" persistent="true" schedulerSupport="false" advisorySupport="false">
    <persistenceAdapter><kahaDB directory="{data}/kahadb"/></persistenceAdapter>
    <plugins>
      <statisticsBrokerPlugin/>
{auth}
    </plugins>
    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://127.0.0.1:{openwire}"/>
      <transportConnector name="stomp" uri="stomp://127.0.0.1:{stomp}"/>
    </transportConnectors>
  </broker>
</beans>
"""

_AUTH = """\
      <simpleAuthenticationPlugin anonymousAccessAllowed="false">
        <users>
{users}
        </users>
      </simpleAuthenticationPlugin>"""

_LOG4J = """\
log4j.rootLogger=WARN, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=%d %-5p %c{1} | %m%n
log4j.logger.org.apache.activemq.broker.BrokerService=INFO
"""


def _link_extra_jars(lib: Path) -> None:
    """XStream (Debian's libxstream-java) lets the broker answer statistics as XML maps
    (``transformation: jms-map-xml``); ActiveMQ loads ``$ACTIVEMQ_BASE/lib``."""
    lib.mkdir(exist_ok=True)
    for jar in _EXTRA_JARS:
        if jar.is_file() and not (lib / jar.name).exists():
            (lib / jar.name).symlink_to(jar)


def activemq_missing() -> str | None:
    """Why a broker cannot run here, or ``None``."""
    if not ACTIVEMQ_JAR.is_file():
        return "ActiveMQ is not installed (Debian: activemq; scripts/install-system-deps.sh)"
    if shutil.which("java") is None:
        return "java is not installed (Debian: openjdk-17-jre-headless)"
    return None


class ActiveMQ(ServerProcess):
    """One private broker: STOMP on :attr:`stomp_port`, OpenWire on :attr:`openwire_port`.

    Args:
        work: its base directory (configuration, data, log).
        users: ``name -> password``; when given, every connection must log in
            (all users may do everything).
    """

    def __init__(self, work: Path, *, users: Mapping[str, str] | None = None) -> None:
        (work / "conf").mkdir(parents=True, exist_ok=True)
        self.stomp_port = free_port()
        self.openwire_port = free_port()
        self.users = dict(users or {})
        entries = "\n".join(
            f"          <authenticationUser username={quoteattr(n)} password={quoteattr(p)} "
            'groups="users,admins"/>' for n, p in self.users.items())
        conf = work / "conf" / "activemq.xml"
        conf.write_text(_CONFIG.format(
            data=work / "data", openwire=self.openwire_port, stomp=self.stomp_port,
            auth=_AUTH.format(users=entries) if self.users else ""))
        (work / "conf" / "log4j.properties").write_text(_LOG4J)
        _link_extra_jars(work / "lib")
        argv = ["java", "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                f"-Dactivemq.home={ACTIVEMQ_HOME}", f"-Dactivemq.base={work}",
                f"-Dactivemq.conf={work / 'conf'}", f"-Dactivemq.data={work / 'data'}",
                f"-Dlog4j.configuration=file:{work / 'conf' / 'log4j.properties'}",
                "-jar", str(ACTIVEMQ_JAR), "start", f"xbean:file:{conf}"]
        super().__init__("activemq", argv, work / "activemq.log")

    @property
    def stomp_url(self) -> str:
        """The ``providerURL`` of the jms source for this broker."""
        return f"stomp://127.0.0.1:{self.stomp_port}"

    def start_and_wait(self, timeout: float = 60.0) -> None:
        super().start_and_wait(timeout)  # a JVM: 1-4 s here, more on a busy machine

    def restart(self) -> None:
        """Stop cleanly and start again on the same ports and data."""
        self.stop()
        self.start_and_wait()

    def answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.stomp_port), timeout=2) as sock:
            sock.sendall(b"CONNECT\naccept-version:1.2\nhost:localhost\n"
                         + "".join(f"{k}:{v}\n" for k, v in self._login().items()).encode()
                         + b"\n\0")
            return sock.recv(65536).startswith((b"CONNECTED", b"ERROR"))

    def _login(self) -> dict[str, str]:
        if not self.users:
            return {}
        name, password = next(iter(self.users.items()))
        return {"login": name, "passcode": password}


@pytest.fixture(scope="session")
def activemq_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActiveMQ]:
    """A started private broker for the whole session; skips when it cannot run here."""
    missing = activemq_missing()
    if missing:
        pytest.skip(missing)
    broker = ActiveMQ(tmp_path_factory.mktemp("activemq"))
    broker.start_and_wait()
    yield broker
    broker.stop()
