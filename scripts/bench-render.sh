#!/usr/bin/env bash
# bench/render: rendering the default package at 3, 5 and 51 servers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
"${BUILD_DIR:-build}"/bench_render --benchmark_counters_tabular=true "$@"
