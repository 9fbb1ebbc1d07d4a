#!/usr/bin/env bash
# ZooKeeper server control script of a kube-sim image layer: the commands and
# output of the Apache release's zkServer.sh that containers use
# (start-foreground, start, stop, restart, status, print-cmd, version).

ZOOBINDIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$ZOOBINDIR/zkEnv.sh"

if [[ -z "$JMXDISABLE" || "$JMXDISABLE" == "false" ]]; then
  echo "ZooKeeper JMX enabled by default" >&2
  ZOOMAIN="-Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.local.only=${JMXLOCALONLY:-false} org.apache.zookeeper.server.quorum.QuorumPeerMain"
else
  echo "JMX disabled by user request" >&2
  ZOOMAIN="org.apache.zookeeper.server.quorum.QuorumPeerMain"
fi

if [[ $# -gt 1 && "$1" == "--config" ]]; then
  shift; ZOOCFGDIR="$1"; ZOOCFG="$ZOOCFGDIR/zoo.cfg"; CLASSPATH="$ZOOCFGDIR:$CLASSPATH"; shift
fi
if [[ $# -gt 1 ]]; then ZOOCFG="$ZOOCFGDIR/$2"; fi

echo "Using config: $ZOOCFG" >&2

ZOO_LOG_FILE="zookeeper-$(id -un 2>/dev/null || id -u)-server-$(hostname).log"
JVMFLAGS="$SERVER_JVMFLAGS $JVMFLAGS"

cfg_value() { grep -E "^[[:space:]]*$1=" "$ZOOCFG" 2>/dev/null | tail -n 1 | sed -e "s/^[^=]*=//" -e 's/[[:space:]]*$//'; }

ZOO_DATADIR="$(cfg_value dataDir)"
ZOOPIDFILE="${ZOOPIDFILE:-${ZOO_DATADIR:-/tmp}/zookeeper_server.pid}"

server_cmd() {
  # shellcheck disable=SC2086
  set -- "$JAVA" "-Dzookeeper.log.dir=${ZOO_LOG_DIR}" "-Dzookeeper.log.file=${ZOO_LOG_FILE}" \
    -XX:+HeapDumpOnOutOfMemoryError "-XX:OnOutOfMemoryError=kill -9 %p" \
    -cp "$CLASSPATH" $JVMFLAGS $ZOOMAIN "$ZOOCFG"
  CMD=("$@")
}

client_port() {
  local port myid line
  port="$(cfg_value clientPort)"
  if [[ -z "$port" ]]; then
    local dyn
    dyn="$(cfg_value dynamicConfigFile)"
    myid="$(cat "$ZOO_DATADIR/myid" 2>/dev/null)"
    line="$(cat "$ZOOCFG" ${dyn:+"$dyn"} 2>/dev/null | grep -E "^server\.${myid}=" | tail -n 1)"
    port="${line##*;}"; port="${port##*:}"
  fi
  echo "${port:-2181}"
}

case "$1" in
  start-foreground)
    server_cmd
    exec "${CMD[@]}"
    ;;
  start)
    echo -n "Starting zookeeper ... " >&2
    mkdir -p "$ZOO_LOG_DIR"
    server_cmd
    nohup "${CMD[@]}" >"$ZOO_LOG_DIR/zookeeper-$(hostname).out" 2>&1 </dev/null &
    if echo $! >"$ZOOPIDFILE"; then echo STARTED >&2; else echo FAILED TO WRITE PID >&2; exit 1; fi
    ;;
  stop)
    echo -n "Stopping zookeeper ... " >&2
    if [[ ! -f "$ZOOPIDFILE" ]]; then echo "no zookeeper to stop (could not find file $ZOOPIDFILE)" >&2; exit 0; fi
    kill "$(cat "$ZOOPIDFILE")" 2>/dev/null
    rm -f "$ZOOPIDFILE"
    echo STOPPED >&2
    ;;
  restart)
    shift; "$0" stop "$@"; sleep 1; "$0" start "$@"
    ;;
  status)
    port="$(client_port)"
    echo "Client port found: $port. Client address: localhost. Client SSL: false." >&2
    reply=""
    if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      printf 'srvr' >&3
      reply="$(timeout 5 cat <&3)"
      exec 3<&-
    fi
    mode="$(grep -E '^Mode: ' <<<"$reply")"
    if [[ -z "$mode" ]]; then
      echo "Error contacting service. It is probably not running." >&2
      exit 1
    fi
    echo "$mode" >&2
    ;;
  print-cmd)
    server_cmd
    printf '%q ' "${CMD[@]}"; echo
    ;;
  version)
    exec "$JAVA" -cp "$CLASSPATH" org.apache.zookeeper.version.VersionInfoMain 2>/dev/null
    ;;
  *)
    echo "Usage: $0 [--config <conf-dir>] {start|start-foreground|stop|version|restart|status|print-cmd}" >&2
    ;;
esac
