#!/usr/bin/env bash
# ZooKeeper command-line client of a kube-sim image layer (as the Apache
# release's zkCli.sh: `zkCli.sh -server host:port cmd args`).
ZOOBINDIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$ZOOBINDIR/zkEnv.sh"
ZOO_LOG_FILE="zookeeper-$(id -un 2>/dev/null || id -u)-cli-$(hostname).log"
# shellcheck disable=SC2086
exec "$JAVA" "-Dzookeeper.log.dir=${ZOO_LOG_DIR}" "-Dzookeeper.log.file=${ZOO_LOG_FILE}" \
  -cp "$CLASSPATH" $CLIENT_JVMFLAGS $JVMFLAGS org.apache.zookeeper.ZooKeeperMain "$@"
