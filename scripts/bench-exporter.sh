#!/usr/bin/env bash
# bench/exporter: one scrape of zkpilot's exporter vs. reading mntr directly,
# for 3 and 5 real ZooKeeper servers.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x "${BUILD_DIR:-build}/bench_exporter" ]] || { echo "run scripts/setup.sh first" >&2; exit 1; }
"${BUILD_DIR:-build}"/bench_exporter --benchmark_counters_tabular=true "$@"
