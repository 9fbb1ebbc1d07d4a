#!/usr/bin/env bash
# bench/roll: a rolling upgrade 3.8.0 -> 3.9.3 and a rolling restart of 3- and
# 5-server local ensembles, and a scale-up 3 -> 5, each by zkpilot and by a
# naive roll of the same JVMs, under continuous writes (the C-client write
# checker and a Java-client writer); prints one table per part and size, with
# LOOKING transitions from the servers' logs and, for rolls, PASS/FAIL per
# target. Options go to build/bench_roll:
#   --part all|upgrade|restart|scale   default all
#   --servers 3,5                      ensemble sizes of the upgrade and restart parts
#   --znodes N                         load N znodes of 1 KiB before each operation (default 0)
#   --write-interval-ms N              one write per N ms (default 8)
# Takes several minutes (a --znodes 100000 upgrade of 3 servers: about five);
# uses 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [[ ! -x "$BUILD_DIR/bench_roll" || ! -x "$BUILD_DIR/zkpilot" ]]; then
  echo "$BUILD_DIR/bench_roll is missing: run scripts/setup.sh first" >&2
  exit 1
fi
exec "$BUILD_DIR/bench_roll" --zkpilot "$BUILD_DIR/zkpilot" "$@"
