#!/usr/bin/env bash
# Runs the whole test suite: unit, golden, CLI and bad-input tests, promtool
# rule tests, and Kubernetes schema validation of rendered objects.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
# The schema validator's npm packages, pinned by package-lock.json.
if [[ ! -d tests/k8s-schema/node_modules ]]; then
  (cd tests/k8s-schema && npm ci --no-audit --no-fund --loglevel=error)
fi
# The Kubernetes test cluster's npm packages, pinned likewise.
if [[ ! -d tests/kube-sim/node_modules ]]; then
  (cd tests/kube-sim && npm ci --no-audit --no-fund --loglevel=error)
fi
# New test files (kube-sim's are globbed) need a fresh CTest list.
cmake "$BUILD_DIR" >/dev/null
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" "$@"
