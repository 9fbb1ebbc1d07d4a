#!/usr/bin/env bash
# Fault injection: the Nth matching request fails with the injected status
# (kubectl reports it), 429 carries Retry-After, a delay or a request never
# answered times a client out, rules are used up. (Partitions: e2e/zookeeper.sh.)
source "$(dirname "$0")/../testlib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default
faults() { command kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/kubectl-cache" "$@"; }

kubectl create configmap f1 >/dev/null
echo '{"method":"GET","path":"/api/v1/namespaces/default/configmaps/f1","nth":1,"status":500,"message":"injected"}' > "${STATE_DIR}/rule.json"
kubectl create --raw /kube-sim/faults -f "${STATE_DIR}/rule.json" >/dev/null
expect_fail "the first matching request fails with 500" 'InternalError|injected|500' kubectl get configmap f1
expect_match "the next one succeeds" 'f1' "$(kubectl get configmap f1 -o name)"

F1=/api/v1/namespaces/default/configmaps/f1
inject() { echo "$1" > "${STATE_DIR}/rule.json"; kubectl create --raw /kube-sim/faults -f "${STATE_DIR}/rule.json" >/dev/null; }

inject "{\"method\":\"GET\",\"path\":\"$F1\",\"status\":409,\"times\":1}"
expect_fail "an injected 409 is a Conflict to the client" 'Conflict|the object has been modified' kubectl get configmap f1

inject "{\"method\":\"GET\",\"path\":\"$F1\",\"status\":429,\"retryAfter\":1,\"times\":1}"
out="$(kubectl get configmap f1 -o name -v=6 2>&1)"
expect_match "429 reaches the client" "GET https://[^ ]*${F1}[^ ]* 429 Too Many Requests" "$out"
expect_match "which retries after Retry-After and succeeds" "${F1}[^ ]* 200 OK(.|\n)*configmap/f1" "$out"

inject "{\"method\":\"GET\",\"path\":\"$F1\",\"delayMs\":3000,\"times\":1}"
expect_fail "a delayed request times out a client that waits less" 'Timeout|timeout|deadline' \
  kubectl get configmap f1 --request-timeout=1s
expect_match "the delay was used up: the next request is served" 'configmap/f1' "$(kubectl get configmap f1 -o name)"
inject "{\"method\":\"GET\",\"path\":\"$F1\",\"timeout\":true,\"times\":1}"
expect_fail "a request that is never answered times out" 'Timeout|timeout|deadline' \
  kubectl get configmap f1 --request-timeout=1s
expect_fail "a rule with an unknown field is refused" 'BadRequest|unknown|invalid' \
  bash -c "echo '{\"bogus\":1}' | command kubectl --kubeconfig ${KUBECONFIG} create --raw /kube-sim/faults -f -"
expect_match "the faults are listed" '"status": ?429|"status":429' "$(kubectl get --raw /kube-sim/faults)"
kubectl delete --raw /kube-sim/faults >/dev/null
expect_match "cleared" '\[\]' "$(kubectl get --raw /kube-sim/faults)"
finish
