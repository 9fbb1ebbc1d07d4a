#!/usr/bin/env bash
# Liveness probe of a ZooKeeper server: the JVM answers `ruok` with `imok`.
# Deliberately weaker than readiness: a server that is electing a leader is
# alive and must not be restarted for it.
#
# Talks to 127.0.0.1:$ZK_CLIENT_PORT with bash's /dev/tcp because the official
# image has no nc. `ruok` must be in 4lw.commands.whitelist. Replies are
# awaited ZK_PROBE_TIMEOUT seconds (default 3, below the probe's timeout).
set -uo pipefail

port="${ZK_CLIENT_PORT:-2181}"
timeout_seconds="${ZK_PROBE_TIMEOUT:-3}"

if ! exec 3<>"/dev/tcp/127.0.0.1/${port}"; then
  echo "not alive: cannot connect to 127.0.0.1:${port}" >&2
  exit 1
fi
printf 'ruok' >&3

reply=""
IFS= read -r -t "${timeout_seconds}" -n 4 reply <&3
exec 3<&-

if [[ "${reply}" == "imok" ]]; then
  exit 0
fi
echo "not alive: ruok answered '${reply}'" >&2
exit 1
