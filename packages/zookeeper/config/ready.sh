#!/usr/bin/env bash
# Readiness probe of a ZooKeeper server: ready means serving as a member of a
# quorum (Mode: leader, follower or observer), not merely running. A server
# that answers `ruok` but is still electing a leader (LOOKING) is not ready.
#
# Talks to 127.0.0.1:$ZK_CLIENT_PORT with bash's /dev/tcp because the official
# image has no nc. `srvr` must be in 4lw.commands.whitelist. Replies are
# awaited ZK_PROBE_TIMEOUT seconds (default 3, below the probe's timeout).
set -uo pipefail

port="${ZK_CLIENT_PORT:-2181}"
timeout_seconds="${ZK_PROBE_TIMEOUT:-3}"

if ! exec 3<>"/dev/tcp/127.0.0.1/${port}"; then
  echo "not ready: cannot connect to 127.0.0.1:${port}" >&2
  exit 1
fi
printf 'srvr' >&3

reply=""
while IFS= read -r -t "${timeout_seconds}" line <&3 || [[ -n "${line:-}" ]]; do
  reply+="${line}"$'\n'
  line=""
done
exec 3<&-

mode="$(grep -E '^Mode: ' <<<"${reply}" | head -n 1)"
case "${mode}" in
  "Mode: leader" | "Mode: follower" | "Mode: observer")
    exit 0
    ;;
esac
echo "not ready: ${mode:-no Mode in srvr reply: ${reply:-empty}}" >&2
exit 1
