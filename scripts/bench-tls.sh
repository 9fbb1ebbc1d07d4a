#!/usr/bin/env bash
# bench/tls: write latency (p50/p99) and throughput of the same clients —
# zkpilot's C client (plaintext, and through its TLS tunnel) and kazoo — over
# plaintext and TLS on one 3-server ensemble in one run; prints a table.
# Options go to build/bench_tls (--rounds N, --writes N, --size BYTES,
# --sessions N, --seconds S, --quorum tls|plain, --no-kazoo).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/bench_tls ]]; then
  echo "build/bench_tls is missing: ninja -C build bench_tls" >&2
  exit 1
fi
exec build/bench_tls "$@"
