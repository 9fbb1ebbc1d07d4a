#!/usr/bin/env bash
# bench/roll: a rolling upgrade 3.8.0 -> 3.9.3 of a 5-server local ensemble and
# a scale-up 3 -> 5, each by zkpilot and by a naive roll of the same JVMs,
# under continuous writes; prints one table per part. Options go to
# build/bench_roll (--part all|upgrade|scale, --write-interval-ms N).
# Takes a few minutes; uses 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [[ ! -x "$BUILD_DIR/bench_roll" || ! -x "$BUILD_DIR/zkpilot" ]]; then
  echo "$BUILD_DIR/bench_roll is missing: run scripts/setup.sh first" >&2
  exit 1
fi
exec "$BUILD_DIR/bench_roll" --zkpilot "$BUILD_DIR/zkpilot" "$@"
