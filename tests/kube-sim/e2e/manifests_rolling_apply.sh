#!/usr/bin/env bash
# `kubectl apply` of manifests re-rendered with a changed rolling parameter
# (tickTime) restarts no server: the servers' StatefulSets use updateStrategy
# OnDelete, so their new revision waits until a pod is deleted (zkpilot's
# planner does that, one server at a time). A deleted pod comes back with the
# new configuration; the others keep running the old one.
source "$(dirname "$0")/../testlib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default

HEADLESS=zookeeper-headless.default.svc.cluster.local
zk() { "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "$PY" "$(dirname "$0")/manifests_zk.py" "$@"; }
tick_time() { zk conf "zookeeper-$1-0.${HEADLESS}:2181" | sed -n 's/^tickTime=//p'; }
# name uid restartCount deletionTimestamp, one line per server pod
pods_state() {
  kubectl get pods -l app.kubernetes.io/component=server -o \
    jsonpath='{range .items[*]}{.metadata.name} {.metadata.uid} {.status.containerStatuses[0].restartCount} {.metadata.deletionTimestamp}{"\n"}{end}'
}

"${ZKPILOT}" render "${ROOT}/packages/zookeeper" --set replicas=3 > "${STATE_DIR}/before.yaml"
"${ZKPILOT}" render "${ROOT}/packages/zookeeper" --set replicas=3 --set tickTime=3000 > "${STATE_DIR}/after.yaml"
expect_eq "the server StatefulSets wait for their pods to be deleted" 3 "$(grep -c 'type: OnDelete' "${STATE_DIR}/before.yaml")"

kubectl apply --server-side -f "${STATE_DIR}/before.yaml" >/dev/null
wait_until 30 "three server pods exist" bash -c \
  "[[ \$(command kubectl --kubeconfig ${KUBECONFIG} get pods -l app.kubernetes.io/component=server -o name | wc -l) == 3 ]]"
expect_match "the server pods become Ready" 'condition met' \
  "$(kubectl wait --for=condition=Ready pod -l app.kubernetes.io/component=server --timeout=300s)"
for i in 1 2 3; do expect_eq "server $i runs tickTime=2000" 2000 "$(tick_time "$i")"; done
expect_eq "a write" written "$(zk write "zookeeper.default.svc.cluster.local:2181" /e2e one)"
before="$(pods_state)"

expect_match "server-side apply of the changed manifests" 'statefulset.apps/zookeeper-1 serverside-applied' \
  "$(kubectl apply --server-side -f "${STATE_DIR}/after.yaml")"
# The controllers have seen the new pod template (the config hash changed) and
# hold it as a revision not yet rolled out.
new_revision_waiting() {
  local i gen observed current update
  for i in 1 2 3; do
    read -r gen observed current update < <(kubectl get statefulset "zookeeper-$i" -o \
      jsonpath='{.metadata.generation} {.status.observedGeneration} {.status.currentRevision} {.status.updateRevision}')
    [[ -n "$gen" && "$gen" == "$observed" && -n "$update" && "$current" != "$update" ]] || return 1
  done
}
wait_until 60 "every server StatefulSet observed the change and holds a new revision" new_revision_waiting
expect_eq "no server pod was deleted, replaced or restarted" "$before" "$(pods_state)"
for i in 1 2 3; do expect_eq "server $i still runs tickTime=2000" 2000 "$(tick_time "$i")"; done
expect_eq "the pods are still Ready" "True True True" \
  "$(kubectl get pods -l app.kubernetes.io/component=server -o jsonpath='{.items[*].status.conditions[?(@.type=="Ready")].status}')"

# Deleting one pod (what zkpilot's roll does per server) applies the new revision to it alone.
uid_before="$(kubectl get pod zookeeper-2-0 -o jsonpath='{.metadata.uid}')"
kubectl delete pod zookeeper-2-0 --wait=false >/dev/null
wait_until 120 "the deleted pod is replaced" bash -c \
  "u=\$(command kubectl --kubeconfig ${KUBECONFIG} get pod zookeeper-2-0 -o jsonpath='{.metadata.uid}' 2>/dev/null); [[ -n \$u && \$u != ${uid_before} ]]"
expect_match "the replacement becomes Ready" 'condition met' \
  "$(kubectl wait --for=condition=Ready pod/zookeeper-2-0 --timeout=180s)"
expect_eq "the replacement is of the new revision" \
  "$(kubectl get statefulset zookeeper-2 -o jsonpath='{.status.updateRevision}')" \
  "$(kubectl get pod zookeeper-2-0 -o jsonpath='{.metadata.labels.controller-revision-hash}')"
expect_eq "the replacement runs tickTime=3000" 3000 "$(tick_time 2)"
expect_eq "the other servers were left alone" \
  "$(grep -v '^zookeeper-2-0 ' <<<"$before")" "$(pods_state | grep -v '^zookeeper-2-0 ')"
# (Deleting server 2's pod may have cost the ensemble its leader: a server
# answers `conf` again once an election is over.)
runs_tick() { [[ "$(tick_time "$1")" == "$2" ]]; }
for i in 1 3; do wait_until 60 "server $i still runs tickTime=2000" runs_tick "$i" 2000; done
expect_eq "the replacement serves the data" one "$(zk read "zookeeper-2-0.${HEADLESS}:2181" /e2e)"
finish
