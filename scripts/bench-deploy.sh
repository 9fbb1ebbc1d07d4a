#!/usr/bin/env bash
# bench/deploy: time from `zkpilot deploy` to a healthy 3- and 5-server local
# ensemble, against the same JVMs started by hand with default JVM settings
# (zkpilot's class-data archive left out). ZKPILOT_CDS=0 times zkpilot
# without archives. Options go to
# bench/deploy.py (--runs N, --servers 3,5, --json FILE, --timeout S).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/zkpilot ]]; then
  echo "build/zkpilot is missing: run scripts/setup.sh first" >&2
  exit 1
fi
exec python3 bench/deploy.py --zkpilot build/zkpilot "$@"
