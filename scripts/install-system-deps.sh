#!/usr/bin/env bash
# System packages the real-server tests use: Java (HDFS, Java Avro peer), Jersey 1 for the NameNode's
# WebHDFS, rsyslog for syslog interop, util-linux's logger, Graphviz's dot for flume-ng graph's SVG,
# Ganglia's gmond for the ganglia reporter, PostgreSQL 15's server binaries (the jdbc channel: the
# testkit runs private clusters on free ports), ngircd (the irc sink's IRC server) and ActiveMQ 5.17
# (the jms source's broker; both run with private configs on free ports). Installs only what is missing; without root it says
# what it would need and the tests that need it skip with that reason.
set -euo pipefail
need=()
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
[ -f /usr/share/java/jersey1-servlet.jar ] || need+=(libjersey1-servlet-java)
command -v rsyslogd >/dev/null 2>&1 || [ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
command -v logger >/dev/null 2>&1 || need+=(bsdutils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v gmond >/dev/null 2>&1 || [ -x /usr/sbin/gmond ] || need+=(ganglia-monitor)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
command -v ngircd >/dev/null 2>&1 || [ -x /usr/sbin/ngircd ] || need+=(ngircd)
[ -f /usr/share/activemq/bin/activemq.jar ] || need+=(activemq)
[ -f /usr/share/java/xstream.jar ] || need+=(libxstream-java)  # ActiveMQ's statistics as XML maps
# syslog-ng is unpacked from Debian's .deb files at test time (it conflicts with rsyslog as a
# package), which needs current package lists.
if [ "$(id -u)" = 0 ] && [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
  apt-get update -qq || echo "apt-get update failed; syslog-ng tests will skip" >&2
fi
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "system packages missing (need root to install): ${need[*]}; tests that need them will skip" >&2
  exit 0
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
