#!/usr/bin/env bash
# The commands themselves: start prints the kubeconfig and is idempotent;
# status answers; run passes the command's exit code and reaches the cluster
# DNS; stop leaves nothing behind (processes, namespaces, mounts), also after
# the daemon was killed with SIGKILL; bad usage is a clear error.
source "$(dirname "$0")/../testlib.bash"

expect_fail "a missing --state-dir is a usage error" 'state-dir is required' "${KUBE_SIM}" start
expect_fail "an unknown command is a usage error" 'unknown command "launch"' "${KUBE_SIM}" launch --state-dir "${STATE_DIR}"
expect_eq "start prints the kubeconfig" "${STATE_DIR}/kubeconfig" "$("${KUBE_SIM}" start --state-dir "${STATE_DIR}")"
expect_eq "a second start prints it again" "${STATE_DIR}/kubeconfig" "$("${KUBE_SIM}" start --state-dir "${STATE_DIR}" 2>/dev/null)"
expect_match "status: running" '^running' "$("${KUBE_SIM}" status --state-dir "${STATE_DIR}")"
set +e
"${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- /usr/bin/bash -c 'exit 7'
rc=$?
set -e
expect_eq "run passes the command's exit code" 7 "$rc"
expect_match "run resolves cluster names" '10\.96\.0\.' \
  "$("${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- /usr/bin/getent hosts kubernetes.default.svc.cluster.local || true)"

prefix="$(node -e "process.stdout.write(require('${KUBE_SIM_DIR}/lib/state').prefixFor('${STATE_DIR}'))")"
leftovers() {
  { ip netns list | grep "^${prefix}-" || true; } | wc -l
}
# A pod, so that there is a process and namespaces to clean up.
kubectl run sleeper --image=kube-sim/host:latest --restart=Never -- /usr/bin/sleep infinity >/dev/null
kubectl wait --for=condition=Ready pod/sleeper --timeout=60s >/dev/null
[[ "$(leftovers)" -ge 2 ]] || fail "expected the cluster's and the pod's namespaces"
pod_pids="$(for ns in $(ip netns list | awk '{print $1}' | grep "^${prefix}-pod-"); do ip netns pids "$ns"; done | tr '\n' ' ')"
[[ -n "${pod_pids// /}" ]] || fail "no process found in the pod's namespace"
daemon="$(node -e "process.stdout.write(String(require('${STATE_DIR}/state.json').pid))")"
kill -9 "$daemon"
expect_match "status after a crash" '^not running' "$("${KUBE_SIM}" status --state-dir "${STATE_DIR}" || true)"
"${KUBE_SIM}" stop --state-dir "${STATE_DIR}" 2>/dev/null
expect_eq "stop after a crash removes every namespace" 0 "$(leftovers)"
alive=0
# (A zombie is dead: this machine's init may be slow to reap it.)
for p in $pod_pids; do
  state="$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z ]] && alive=$((alive + 1))
done
expect_eq "and every process of the pod" 0 "$alive"
expect_eq "and every mount under the state directory" 0 "$(grep -c " ${STATE_DIR}" /proc/self/mountinfo || true)"
expect_eq "start again after a crash" "${STATE_DIR}/kubeconfig" "$("${KUBE_SIM}" start --state-dir "${STATE_DIR}")"
"${KUBE_SIM}" stop --state-dir "${STATE_DIR}"
expect_eq "a clean stop removes every namespace" 0 "$(leftovers)"
expect_eq "stop is idempotent" 0 "$("${KUBE_SIM}" stop --state-dir "${STATE_DIR}" >/dev/null; echo $?)"
finish
