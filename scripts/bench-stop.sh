#!/usr/bin/env bash
# bench/stop_signal: how long a ZooKeeper server (follower, leader; 3.8.0 and
# 3.9.3) takes to exit on SIGTERM and on SIGKILL, whether it answers on its
# client port meanwhile, and what it writes. Options go to
# bench/stop_signal.py (--runs N, --versions 3.8.0,3.9.3, --json FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/zkpilot ]]; then
  echo "build/zkpilot is missing: run scripts/setup.sh first" >&2
  exit 1
fi
exec python3 bench/stop_signal.py --zkpilot build/zkpilot "$@"
