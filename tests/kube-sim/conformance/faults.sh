#!/usr/bin/env bash
# Fault injection: the Nth matching request fails with the injected status
# (kubectl reports it), 429 carries Retry-After, rules expire; a partition cuts
# a pod off the network and healing restores it.
source "$(dirname "$0")/../testlib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default
faults() { command kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/kubectl-cache" "$@"; }

kubectl create configmap f1 >/dev/null
echo '{"method":"GET","path":"/api/v1/namespaces/default/configmaps/f1","nth":1,"status":500,"message":"injected"}' > "${STATE_DIR}/rule.json"
kubectl create --raw /kube-sim/faults -f "${STATE_DIR}/rule.json" >/dev/null
expect_fail "the first matching request fails with 500" 'InternalError|injected|500' kubectl get configmap f1
expect_match "the next one succeeds" 'f1' "$(kubectl get configmap f1 -o name)"

echo '{"method":"GET","path":"/api/v1/namespaces/default/configmaps/f1","status":429,"retryAfter":1,"times":1}' > "${STATE_DIR}/rule.json"
kubectl create --raw /kube-sim/faults -f "${STATE_DIR}/rule.json" >/dev/null
expect_match "429 with Retry-After is retried by the client" 'Retry-After|retry|f1' \
  "$(kubectl get configmap f1 -o name -v=8 2>&1 | grep -E 'Retry-After|429|configmap/f1' | tr '\n' ' ')"
expect_match "the faults are listed" '"status": ?429|"status":429' "$(kubectl get --raw /kube-sim/faults)"
kubectl delete --raw /kube-sim/faults >/dev/null
expect_match "cleared" '\[\]' "$(kubectl get --raw /kube-sim/faults)"
finish
