#!/usr/bin/env bash
# The committed membership survives pod restarts. ZooKeeper writes each
# committed membership next to the zoo.cfg it started from
# (zoo.cfg.dynamic.<version>); the servers keep that on their data volume and
# start from the newest one, so a server restarted after a reconfig comes back
# with the current membership, not with the ConfigMap's list (which is stale
# in the middle of a scale, or after a reconfig made by hand).
#
# As zkpilot scales: a fourth server is started (the ConfigMap lists it) and
# added by reconfig; a restarted server comes back with four members. Then it
# is removed by reconfig and its StatefulSet deleted while the ConfigMap still
# lists it; a restarted server comes back with three.
source "$(dirname "$0")/../testlib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default

HEADLESS=zookeeper-headless.default.svc.cluster.local
SERVICE=zookeeper.default.svc.cluster.local:2181
zk() { "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "$PY" "$(dirname "$0")/manifests_zk.py" "$@"; }
host() { echo "zookeeper-$1-0.${HEADLESS}:2181"; }
# reconfig needs the super user (/zookeeper/config is read-only to others).
PASSWORD=e2e-membership
DIGEST="$(printf 'super:%s' "${PASSWORD}" | openssl dgst -binary -sha1 | base64)"
render() {
  "${ZKPILOT}" render "${ROOT}/packages/zookeeper" \
    --set "jvmFlags=-Dzookeeper.DigestAuthenticationProvider.superDigest=super:${DIGEST}" "$@"
}
server_pods_ready() {
  local n="$1" ready
  ready="$(kubectl get pods -l app.kubernetes.io/component=server -o jsonpath='{.items[*].status.conditions[?(@.type=="Ready")].status}')"
  [[ "$(grep -o True <<<"$ready" | wc -l)" -ge "$n" ]]
}
# restart_server ID: deletes the server's pod and waits until its replacement is Ready.
restart_server() {
  local id="$1" uid
  uid="$(kubectl get pod "zookeeper-${id}-0" -o jsonpath='{.metadata.uid}')"
  kubectl delete pod "zookeeper-${id}-0" --wait=false >/dev/null
  wait_until 120 "server ${id}'s pod is replaced" bash -c \
    "u=\$(command kubectl --kubeconfig ${KUBECONFIG} get pod zookeeper-${id}-0 -o jsonpath='{.metadata.uid}' 2>/dev/null); [[ -n \$u && \$u != ${uid} ]]"
  expect_match "server ${id} rejoins (Ready)" 'condition met' \
    "$(kubectl wait --for=condition=Ready "pod/zookeeper-${id}-0" --timeout=240s)"
}
# expect_started_from ID VERSION MEMBERS: the restarted server assembled its
# zoo.cfg from the committed dynamic file of VERSION, and runs that membership.
expect_started_from() {
  local id="$1" version="$2" members="$3" file="/data/conf/zoo.cfg.dynamic.$2"
  expect_match "server ${id} started from the committed membership ${version}" "membership from ${file} " \
    "$(kubectl logs "zookeeper-${id}-0" | grep -m1 'zkpilot: membership from')"
  expect_match "server ${id}'s zoo.cfg names that file and lists no servers itself" "^dynamicConfigFile=${file}\$" \
    "$(kubectl exec "zookeeper-${id}-0" -- grep -E '^(dynamicConfigFile|server\.)' /data/conf/zoo.cfg)"
  expect_eq "server ${id} runs the membership ${members} of version ${version}" \
    "servers ${members}"$'\n'"version ${version}" "$(zk members "$(host "$id")")"
}

# Three servers, as `zkpilot render | kubectl apply` deploys them.
render --set replicas=3 > "${STATE_DIR}/three.yaml"
render --set replicas=4 > "${STATE_DIR}/four.yaml"
kubectl apply --server-side -f "${STATE_DIR}/three.yaml" >/dev/null
wait_until 300 "three server pods are Ready" server_pods_ready 3
expect_eq "a write" written "$(zk write "${SERVICE}" /e2e one)"
expect_match "the first quorum committed the ConfigMap's three servers" '^servers 1,2,3' "$(zk members "$(host 1)")"

# Scale up: the fourth server starts from the ConfigMap's list (it has no
# committed membership yet), syncs as a learner, then is added by reconfig.
kubectl apply --server-side -f "${STATE_DIR}/four.yaml" >/dev/null
follows() { [[ "$(zk mode "$(host 4)")" =~ ^(follower|observer)$ ]]; }
wait_until 300 "the fourth server syncs with the ensemble" follows
expect_match "the fourth server started from the ConfigMap" 'membership from the ConfigMap' \
  "$(kubectl logs zookeeper-4-0 | grep -m1 'zkpilot: membership from')"
added="$(zk reconfig "$(host 1),$(host 2),$(host 3)" "${PASSWORD}" --add \
  "server.4=zookeeper-4-0.${HEADLESS}:2888:3888:participant;0.0.0.0:2181")"
expect_match "reconfig adds server 4" '^servers 1,2,3,4' "${added}"
v_added="$(sed -n 's/^version //p' <<<"${added}")"
wait_until 60 "server 1 keeps the committed membership on its volume" \
  kubectl exec zookeeper-1-0 -- test -s "/data/conf/zoo.cfg.dynamic.${v_added}"
restart_server 1
expect_started_from 1 "${v_added}" 1,2,3,4

# Scale down, stopped half way: server 4 is removed by reconfig and its
# StatefulSet deleted, but the ConfigMap still lists it.
removed="$(zk reconfig "$(host 1),$(host 2),$(host 3)" "${PASSWORD}" --remove 4)"
expect_match "reconfig removes server 4" '^servers 1,2,3$' "$(head -n 1 <<<"${removed}")"
v_removed="$(sed -n 's/^version //p' <<<"${removed}")"
kubectl delete statefulset zookeeper-4 --wait=false >/dev/null
wait_until 120 "server 4's pod is gone" absent pod zookeeper-4-0
expect_match "the ConfigMap still lists server 4" 'server\.4=' \
  "$(kubectl get configmap zookeeper-config -o jsonpath='{.data.zoo\.cfg}')"
wait_until 60 "server 2 keeps the committed membership on its volume" \
  kubectl exec zookeeper-2-0 -- test -s "/data/conf/zoo.cfg.dynamic.${v_removed}"
restart_server 2
expect_started_from 2 "${v_removed}" 1,2,3

modes="$(for i in 1 2 3; do zk mode "$(host "$i")"; done)"
expect_eq "one leader" 1 "$(grep -c '^leader$' <<<"$modes")"
expect_eq "two followers" 2 "$(grep -c '^follower$' <<<"$modes")"
expect_eq "the restarted server serves the data" one "$(zk read "$(host 2)" /e2e)"
expect_eq "the ensemble takes writes" written "$(zk write "$(host 1),$(host 2),$(host 3)" /e2e two)"
expect_eq "and the restarted server sees them" two "$(zk read "$(host 2)" /e2e)"
finish
