#!/usr/bin/env bash
# The default package as a user applies it: `zkpilot render | kubectl apply
# --server-side` brings up a 3-server ensemble whose pods become Ready and
# whose servers form a quorum (checked with a real client from inside the
# cluster network); it survives a pod deletion (data kept on the claim) and a
# network partition of one server.
source "$(dirname "$0")/../testlib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default

"${ZKPILOT}" render "${ROOT}/packages/zookeeper" --set replicas=3 > "${STATE_DIR}/zk.yaml"
expect_match "server-side apply of the rendered package" 'statefulset.apps/zookeeper-3 serverside-applied' \
  "$(kubectl apply --server-side -f "${STATE_DIR}/zk.yaml")"
wait_until 30 "three server pods exist" bash -c \
  "[[ \$(command kubectl --kubeconfig ${KUBECONFIG} get pods -l app.kubernetes.io/component=server -o name | wc -l) == 3 ]]"
expect_match "the server pods become Ready" 'condition met' \
  "$(kubectl wait --for=condition=Ready pod -l app.kubernetes.io/component=server --timeout=300s)"

HEADLESS=zookeeper-headless.default.svc.cluster.local
SERVERS="zookeeper-1-0.${HEADLESS}:2181,zookeeper-2-0.${HEADLESS}:2181,zookeeper-3-0.${HEADLESS}:2181"
zk() { "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "$PY" "$(dirname "$0")/zk_check.py" "$@"; }
modes="$(zk modes "$SERVERS")"
expect_eq "one leader" 1 "$(grep -c ' leader$' <<<"$modes")"
expect_eq "two followers" 2 "$(grep -c ' follower$' <<<"$modes")"
expect_eq "a write through the client Service" written "$(zk write zookeeper.default.svc.cluster.local:2181 /e2e one)"
for i in 1 2 3; do
  expect_eq "server $i reads the write" one "$(zk read "zookeeper-$i-0.${HEADLESS}:2181" /e2e)"
done

# A deleted pod comes back (same name, same claim) and still has the data.
uid_before="$(kubectl get pod zookeeper-2-0 -o jsonpath='{.metadata.uid}')"
kubectl delete pod zookeeper-2-0 --wait=false >/dev/null
wait_until 120 "the deleted pod is replaced" bash -c \
  "u=\$(command kubectl --kubeconfig ${KUBECONFIG} get pod zookeeper-2-0 -o jsonpath='{.metadata.uid}' 2>/dev/null); [[ -n \$u && \$u != ${uid_before} ]]"
expect_match "the replacement becomes Ready" 'condition met' \
  "$(kubectl wait --for=condition=Ready pod/zookeeper-2-0 --timeout=180s)"
expect_eq "the replacement serves the data" one "$(zk read "zookeeper-2-0.${HEADLESS}:2181" /e2e)"

# A partitioned server drops out; the other two keep serving writes; healed, it catches up.
echo '{"namespace":"default","pod":"zookeeper-1-0"}' > "${STATE_DIR}/part.json"
kubectl create --raw /kube-sim/partition -f "${STATE_DIR}/part.json" >/dev/null
partitioned_not_ready() {
  [[ "$(kubectl get pod zookeeper-1-0 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == False ]]
}
wait_until 120 "the partitioned server becomes not Ready" partitioned_not_ready
expect_eq "the majority still takes writes" written "$(zk write "zookeeper-2-0.${HEADLESS}:2181,zookeeper-3-0.${HEADLESS}:2181" /e2e two)"
echo '{"namespace":"default","pod":"zookeeper-1-0","heal":true}' > "${STATE_DIR}/part.json"
kubectl create --raw /kube-sim/partition -f "${STATE_DIR}/part.json" >/dev/null
expect_match "healed, it is Ready again" 'condition met' \
  "$(kubectl wait --for=condition=Ready pod/zookeeper-1-0 --timeout=180s)"
expect_eq "and has caught up" two "$(zk read "zookeeper-1-0.${HEADLESS}:2181" /e2e)"
finish
