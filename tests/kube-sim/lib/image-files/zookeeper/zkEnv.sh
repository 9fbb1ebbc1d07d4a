#!/usr/bin/env bash
# Environment of the ZooKeeper scripts of a kube-sim image layer, sourced by
# zkServer.sh and zkCli.sh. Same variables as the Apache release's zkEnv.sh:
# ZOOCFGDIR, ZOOCFG, ZOO_LOG_DIR, ZOO_LOG_FILE, ZK_SERVER_HEAP,
# ZK_CLIENT_HEAP, SERVER_JVMFLAGS, CLIENT_JVMFLAGS, JVMFLAGS, JAVA_HOME and
# $ZOOCFGDIR/java.env.

ZOOBINDIR="${ZOOBINDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
ZOOKEEPER_PREFIX="$(cd "$ZOOBINDIR/.." && pwd)"

if [[ -z "$ZOOCFGDIR" ]]; then
  if [[ -d /etc/zookeeper ]]; then ZOOCFGDIR=/etc/zookeeper; else ZOOCFGDIR="$ZOOKEEPER_PREFIX/conf"; fi
fi
ZOOCFG="$ZOOCFGDIR/${ZOOCFG:-zoo.cfg}"

if [[ -f "$ZOOCFGDIR/java.env" ]]; then
  . "$ZOOCFGDIR/java.env"
fi

ZOO_LOG_DIR="${ZOO_LOG_DIR:-$ZOOKEEPER_PREFIX/logs}"

if [[ -n "$JAVA_HOME" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
elif command -v java >/dev/null 2>&1; then
  JAVA=java
else
  echo "Error: JAVA_HOME is not set and java could not be found in PATH." 1>&2
  exit 1
fi

# The conf dir first (logback.xml is read from there), then this version's
# jute ahead of every other jar: a jar's manifest Class-Path is searched right
# after that jar, and the system's zookeeper jar names an older jute.
CLASSPATH="$ZOOCFGDIR"
for f in "$ZOOKEEPER_PREFIX"/lib/zookeeper-jute-*.jar; do
  [[ -e "$f" ]] && CLASSPATH="$CLASSPATH:$f"
done
for f in "$ZOOKEEPER_PREFIX"/lib/*.jar; do
  case "$f" in */zookeeper-jute-*.jar) ;; *) CLASSPATH="$CLASSPATH:$f" ;; esac
done
export CLASSPATH

ZK_SERVER_HEAP="${ZK_SERVER_HEAP:-1000}"
export SERVER_JVMFLAGS="-Xmx${ZK_SERVER_HEAP}m $SERVER_JVMFLAGS"
ZK_CLIENT_HEAP="${ZK_CLIENT_HEAP:-256}"
export CLIENT_JVMFLAGS="-Xmx${ZK_CLIENT_HEAP}m $CLIENT_JVMFLAGS"
