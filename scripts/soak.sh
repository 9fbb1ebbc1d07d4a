#!/usr/bin/env bash
# The local platform's soak (tests/soak/soak_main.cc): random operations and
# faults on two clusters under writes for SOAK_SECONDS (default 240), then
# checks that no acknowledged write was lost and nothing leaked.
#   scripts/soak.sh [--seed N] [--seconds S]
# Run after scripts/test.sh (which installs and builds everything).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" --target zkpilot_soak zkpilot
exec "$BUILD_DIR/zkpilot_soak" --seconds "${SOAK_SECONDS:-240}" "$@"
