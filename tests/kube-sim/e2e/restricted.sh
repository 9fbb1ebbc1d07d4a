#!/usr/bin/env bash
# The default package with every add-on, applied into a namespace that
# enforces the Pod Security Standards' restricted level
# (pod-security.kubernetes.io/enforce=restricted): every pod is admitted (no
# FailedCreate), the servers become Ready and form a quorum with a read-only
# root filesystem (writes go to the data volume, /logs and /tmp only), and
# Prometheus and Alertmanager run with read-only roots too. Grafana's and
# ZooNavigator's images have no local counterpart in the test cluster: their
# pods are admitted but do not start.
source "$(dirname "$0")/../testlib.bash"
start_cluster
kubectl create namespace locked >/dev/null
kubectl label namespace locked pod-security.kubernetes.io/enforce=restricted >/dev/null
wait_until 10 "the namespace's service account exists" kubectl get serviceaccount default -n locked

"${ZKPILOT}" render "${ROOT}/packages/zookeeper" --namespace locked --set replicas=3 \
  --set prometheus.enabled=true --set alertmanager.enabled=true --set grafana.enabled=true \
  --set zoonavigator.enabled=true --set zoonavigator.readOnly=false > "${STATE_DIR}/zk.yaml"
expect_match "server-side apply of the rendered package" 'statefulset.apps/zookeeper-3 serverside-applied' \
  "$(kubectl apply --server-side -f "${STATE_DIR}/zk.yaml")"
count_pods() { command kubectl --kubeconfig "${KUBECONFIG}" get pods -n locked -l "$1" -o name | wc -l; }
wait_until 60 "a pod of every server and add-on is admitted" bash -c "
  $(declare -f count_pods); KUBECONFIG='${KUBECONFIG}'
  [[ \$(count_pods app.kubernetes.io/component=server) == 3 ]] &&
  for c in prometheus alertmanager grafana zoonavigator; do
    [[ \$(count_pods app.kubernetes.io/component=\$c) == 1 ]] || exit 1
  done"
expect_eq "no controller was refused a pod" "" \
  "$(kubectl get events -n locked --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}')"
expect_match "the server pods become Ready" 'condition met' \
  "$(kubectl wait -n locked --for=condition=Ready pod -l app.kubernetes.io/component=server --timeout=300s)"
expect_match "Prometheus and Alertmanager become Ready" 'condition met' \
  "$(kubectl wait -n locked --for=condition=Ready pod -l 'app.kubernetes.io/component in (prometheus,alertmanager)' --timeout=180s)"

HEADLESS=zookeeper-headless.locked.svc.cluster.local
SERVERS="zookeeper-1-0.${HEADLESS}:2181,zookeeper-2-0.${HEADLESS}:2181,zookeeper-3-0.${HEADLESS}:2181"
zk() { "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "$PY" "$(dirname "$0")/zk_check.py" "$@"; }
modes="$(zk modes "$SERVERS")"
expect_eq "one leader" 1 "$(grep -c ' leader$' <<<"$modes")"
expect_eq "a write through the client Service" written "$(zk write zookeeper.locked.svc.cluster.local:2181 /e2e one)"

# Inside a running server: the root is read-only, the volumes are not, and
# zoo.cfg was written to $ZOOCFGDIR on the data volume.
probe='touch /opt/x 2>/dev/null && echo root=rw || echo root=ro
for d in "$ZK_DATA_DIR" /logs /tmp; do touch "$d/.w" && rm "$d/.w" && echo "$d=rw"; done
test -s "$ZOOCFGDIR/zoo.cfg" && echo "cfg=$ZOOCFGDIR"'
expect_eq "the server's root is read-only, its data, logs and tmp writable" \
  "root=ro /data=rw /logs=rw /tmp=rw cfg=/data/conf" \
  "$(kubectl exec -n locked zookeeper-2-0 -c zookeeper -- bash -c "$probe" | tr '\n' ' ' | sed 's/ $//')"
for c in prometheus alertmanager; do
  pod="$(kubectl get pods -n locked -l app.kubernetes.io/component=$c -o jsonpath='{.items[0].metadata.name}')"
  expect_eq "$c's root is read-only" "ro" \
    "$(kubectl exec -n locked "$pod" -- sh -c 'touch /x 2>/dev/null && echo rw || echo ro')"
done
finish
