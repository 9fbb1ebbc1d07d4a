#!/usr/bin/env bash
# bench/kube: on the Kubernetes test cluster, time from `zkpilot deploy
# --platform kubernetes` to a healthy 3-server ensemble against `zkpilot render
# | kubectl apply --server-side` and `kubectl wait --for=condition=Ready`, and
# the operator's memory and CPU while idle and during a roll (an upgrade).
# Builds zkpilot first. Options go to bench/kube.py (--runs N, --servers N,
# --idle S, --timeout S, --json FILE). Needs root; several minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  scripts/setup.sh >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target zkpilot >/dev/null
if [[ ! -d tests/kube-sim/node_modules ]]; then
  (cd tests/kube-sim && npm ci --no-audit --no-fund --loglevel=error)
fi
exec /usr/bin/python3 bench/kube.py --zkpilot "$BUILD_DIR/zkpilot" "$@"
