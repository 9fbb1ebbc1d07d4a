# Shared by the conformance and end-to-end scripts: a cluster of their own in
# a temporary state directory, stopped (with everything it started) on exit;
# kubectl pointed at it with a private discovery cache; small assertions that
# print what they compared; polling with a deadline instead of sleeps.
set -euo pipefail

KUBE_SIM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBE_SIM="${KUBE_SIM_DIR}/kube-sim"
ROOT="${ZKPILOT_SOURCE_DIR:-$(cd "${KUBE_SIM_DIR}/../.." && pwd)}"
ZKPILOT="${ZKPILOT_BINARY:-${ROOT}/build/zkpilot}"
PY=/usr/bin/python3   # Debian's python3, which has python3-kubernetes and kazoo
TEST_NAME="$(basename "$0" .sh)"
STATE_DIR="$(mktemp -d "/tmp/kube-sim-${TEST_NAME}.XXXXXX")"
export KUBECONFIG="${STATE_DIR}/kubeconfig"
PASSED=0

stop_cluster() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "--- ${TEST_NAME}: failed; the cluster's log (last 60 lines):"
    tail -n 60 "${STATE_DIR}/kube-sim.log" 2>/dev/null || true
    echo "--- pods:"
    kubectl get pods -A -o wide 2>/dev/null || true
  fi
  "${KUBE_SIM}" stop --state-dir "${STATE_DIR}" >/dev/null 2>&1 || true
  rm -rf "${STATE_DIR}"
  exit $rc
}
trap stop_cluster EXIT

start_cluster() {
  "${KUBE_SIM}" start --state-dir "${STATE_DIR}" >/dev/null
}

kubectl() {
  command kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/kubectl-cache" "$@"
}

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { PASSED=$((PASSED + 1)); echo "ok ${PASSED} - $*"; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  [[ "$2" == "$3" ]] || fail "$1: expected [$2], got [$3]"
  pass "$1"
}

# expect_match WHAT REGEX TEXT
expect_match() {
  [[ "$3" =~ $2 ]] || fail "$1: [$3] does not match /$2/"
  pass "$1"
}

# expect_fail WHAT REGEX CMD... : CMD must fail and print something matching REGEX.
expect_fail() {
  local what="$1" regex="$2" out
  shift 2
  if out="$("$@" 2>&1)"; then fail "${what}: succeeded but should have failed: ${out}"; fi
  [[ "$out" =~ $regex ]] || fail "${what}: error [${out}] does not match /${regex}/"
  pass "${what}"
}

# wait_until SECONDS WHAT CMD... : polls CMD until it succeeds or the deadline passes.
wait_until() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      fail "${what}: not within ${seconds} s (last try: $("$@" 2>&1 | tail -n 4))"
    fi
    sleep 0.2
  done
  pass "${what}"
}

finish() {
  echo "${TEST_NAME}: ${PASSED} passed, 0 failed"
}

# absent KIND NAME [-n NS]: true once the object no longer exists.
absent() { ! kubectl get "$@" >/dev/null 2>&1; }
