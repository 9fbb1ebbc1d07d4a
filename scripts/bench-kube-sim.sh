#!/usr/bin/env bash
# bench/kube-sim: time from `kube-sim start` to a ready API, and from
# `zkpilot render | kubectl apply --server-side` to a Ready 3-server ensemble,
# against the local platform's `zkpilot deploy` of the same ensemble in the
# same run. Options go to bench/kube_sim.py (--runs N, --servers N,
# --timeout S). Needs root; a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/zkpilot ]]; then
  echo "build/zkpilot is missing: run scripts/setup.sh first" >&2
  exit 1
fi
if [[ ! -d tests/kube-sim/node_modules ]]; then
  (cd tests/kube-sim && npm ci --no-audit --no-fund --loglevel=error)
fi
exec /usr/bin/python3 bench/kube_sim.py --zkpilot build/zkpilot "$@"
