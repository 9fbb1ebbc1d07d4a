#!/usr/bin/env bash
# A ZooKeeper cluster's life through zkpilot's CLI and the operator, with
# writes checked throughout (zero acknowledged writes lost):
#   deploy --install-operator (3 servers, 3.8.0);
#   upgrade 3.8.0 → 3.9.3: one leader election, pods replaced one at a time
#     (each after the others are Ready), the leader last;
#   configure a rolling parameter (tickTime): the same roll;
#   configure a dynamic one (podDisruptionBudget.maxUnavailable): no pod restarted;
#   scale 3 → 5 → 3: the existing pods keep their uid and restart count;
#   rollback to the revision before the configure: tickTime back, rolled again;
#   delete: the claims stay, and a new deploy of the same name finds its data;
#   delete --purge-data: the claims go.
source "$(dirname "$0")/operator_lib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default
kubectl create namespace "${NS}" >/dev/null
watch_pods

# --- deploy -------------------------------------------------------------------
out="$(zkp deploy "${CLUSTER}" "${PACKAGE}" --set replicas=3 --set tls.enabled=false --set version=3.8.0 \
  --install-operator --timeout 600 2>&1)" || fail "deploy: $out"
echo "$out" | sed 's/^/# deploy: /'
expect_match "deploy installed the operator and followed the operation to its end" 'operator(.|\n)*\[[0-9]+/[0-9]+\]' "$out"
expect_eq "the operator Deployment is available" 1 \
  "$(kubectl -n "${OPERATOR_NS}" get deployment zkpilot-operator -o jsonpath='{.status.availableReplicas}')"
expect_eq "the resource is Running with 3 ready servers" "Running 3/3 3.8.0" \
  "$(cr '{.status.phase} {.status.readyReplicas}/{.status.replicas} {.status.currentVersion}')"
wait_until 60 "one leader and two followers" ensemble_ok 1 2 3
expect_match "zkpilot status shows the members" 'follower(.|\n)*leader|leader(.|\n)*follower' "$(zkp status "${CLUSTER}")"
expect_match "kubectl shows the resource's printer columns" "${CLUSTER} +[^ ]+ +3 +[1-3] +3\.8\.0 +Running" \
  "$(kubectl -n "${NS}" get zkc)"

wc_start all
expect_eq "a marker znode" written "$(zk write "$(server_host 1):2181" /lifecycle kept)"

# --- upgrade 3.8.0 → 3.9.3 -------------------------------------------------------
leader="$(leader_of 1 2 3)" || fail "no leader before the upgrade"
mark="$(pods_mark)"
wc_start upgrade
out="$(zkp upgrade "${CLUSTER}" --version 3.9.3 --timeout 600 2>&1)" || fail "upgrade: $out"
echo "$out" | sed 's/^/# upgrade: /'
wc_stop upgrade
expect_eq "upgrade: exactly one leader election" 1 "${WC_ELECTIONS}"
expect_roll "upgrade" "$mark" "$leader" 1 2 3
expect_eq "every server runs 3.9.3" $'1 3.9.3\n2 3.9.3\n3 3.9.3' "$(versions 1 2 3)"
expect_eq "the resource says 3.9.3, Running" "3.9.3 Running" "$(cr '{.status.currentVersion} {.status.phase}')"
upgraded_revision="$(cr '{.status.currentRevision}')"

# --- configure: a rolling parameter ---------------------------------------------
leader="$(leader_of 1 2 3)" || fail "no leader before the configure"
mark="$(pods_mark)"
wc_start tick
out="$(zkp configure "${CLUSTER}" --set tickTime=3000 --timeout 600 2>&1)" || fail "configure tickTime: $out"
wc_stop tick
expect_eq "configure tickTime: exactly one leader election" 1 "${WC_ELECTIONS}"
expect_roll "configure tickTime" "$mark" "$leader" 1 2 3
for id in 1 2 3; do expect_eq "server ${id} runs tickTime=3000" 3000 "$(conf_value "$id" tickTime)"; done

# --- configure: a dynamic parameter ---------------------------------------------
before="$(pods_state 1 2 3)"
mark="$(pods_mark)"
out="$(zkp configure "${CLUSTER}" --set podDisruptionBudget.maxUnavailable=0 --timeout 600 2>&1)" ||
  fail "configure maxUnavailable: $out"
expect_eq "the PodDisruptionBudget changed" 0 \
  "$(kubectl -n "${NS}" get pdb -l "app.kubernetes.io/instance=${CLUSTER}" -o jsonpath='{.items[0].spec.maxUnavailable}')"
expect_eq "a dynamic change restarts no pod (uids and restart counts unchanged)" "$before" "$(pods_state 1 2 3)"
expect_eq "and the watch saw no pod go" 0 "$(replaced_count "$mark")"

# --- scale 3 → 5 → 3 -------------------------------------------------------------
before="$(pods_state 1 2 3)"
mark="$(pods_mark)"
out="$(zkp scale "${CLUSTER}" --replicas 5 --timeout 600 2>&1)" || fail "scale to 5: $out"
wait_until 60 "five Ready server pods" server_pods_ready 5
expect_eq "five voters" "servers 1,2,3,4,5" "$(members 1)"
expect_eq "the resource has 5 ready servers" "5/5" "$(cr '{.status.readyReplicas}/{.status.replicas}')"
expect_eq "scale up: the existing pods keep their uid and restart count" "$before" "$(pods_state 1 2 3)"
out="$(zkp scale "${CLUSTER}" --replicas 3 --timeout 600 2>&1)" || fail "scale to 3: $out"
wait_until 120 "the pods of servers 4 and 5 are gone" bash -c \
  "! command kubectl --kubeconfig ${KUBECONFIG} -n ${NS} get pod ${CLUSTER}-4-0 ${CLUSTER}-5-0 -o name 2>/dev/null | grep -q ."
expect_eq "three voters" "servers 1,2,3" "$(members 1)"
expect_eq "scale down: the remaining pods keep their uid and restart count" "$before" "$(pods_state 1 2 3)"
r="$(pods_replaced "$mark")"
expect_eq "scale: only the pods of servers 4 and 5 went" '{"4":1,"5":1}' "$(jq -cS .per_server <<<"$r")"

# --- rollback --------------------------------------------------------------------
leader="$(leader_of 1 2 3)" || fail "no leader before the rollback"
mark="$(pods_mark)"
wc_start rollback
out="$(zkp rollback "${CLUSTER}" --to-revision "${upgraded_revision}" --timeout 600 2>&1)" || fail "rollback: $out"
wc_stop rollback
expect_roll "rollback" "$mark" "$leader" 1 2 3
for id in 1 2 3; do expect_eq "server ${id} is back on tickTime=2000" 2000 "$(conf_value "$id" tickTime)"; done
expect_eq "still 3.9.3 on three servers" "3.9.3 3/3" "$(cr '{.status.currentVersion} {.status.readyReplicas}/{.status.replicas}')"
expect_eq "the PodDisruptionBudget is back too" 1 \
  "$(kubectl -n "${NS}" get pdb -l "app.kubernetes.io/instance=${CLUSTER}" -o jsonpath='{.items[0].spec.maxUnavailable}')"
history="$(zkp history "${CLUSTER}")"
echo "$history" | sed 's/^/# history: /'
expect_match "history lists the operations" 'deploy(.|\n)*upgrade(.|\n)*configure(.|\n)*scale(.|\n)*rollback' "$history"

wc_stop all
expect_eq "the marker survived every operation" kept "$(zk read "$(server_host 2):2181" /lifecycle)"

# --- delete, keeping the claims ----------------------------------------------------
claims() {
  kubectl -n "${NS}" get pvc -l "app.kubernetes.io/instance=${CLUSTER}" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort | xargs
}
expect_eq "one claim per server" "data-${CLUSTER}-1-0 data-${CLUSTER}-2-0 data-${CLUSTER}-3-0" "$(claims)"
out="$(zkp delete "${CLUSTER}" --timeout 300 2>&1)" || fail "delete: $out"
expect_eq "the resource is gone" "" "$(kubectl -n "${NS}" get zkc -o name)"
expect_eq "its server pods are gone" "" \
  "$(kubectl -n "${NS}" get pods -l "app.kubernetes.io/instance=${CLUSTER}" -o name)"
expect_eq "its StatefulSets are gone" "" "$(kubectl -n "${NS}" get statefulsets -o name)"
expect_eq "the claims stay" "data-${CLUSTER}-1-0 data-${CLUSTER}-2-0 data-${CLUSTER}-3-0" "$(claims)"

# --- deploy again on the kept claims, then delete --purge-data ---------------------
out="$(zkp deploy "${CLUSTER}" "${PACKAGE}" --set replicas=3 --set tls.enabled=false --set version=3.9.3 --timeout 600 2>&1)" ||
  fail "deploy again: $out"
wait_until 60 "the new ensemble has a leader" ensemble_ok 1 2 3
expect_eq "it serves the data kept on the claims" kept "$(zk read "$(server_host 3):2181" /lifecycle)"
out="$(zkp delete "${CLUSTER}" --purge-data --timeout 300 2>&1)" || fail "delete --purge-data: $out"
expect_eq "the resource is gone" "" "$(kubectl -n "${NS}" get zkc -o name)"
wait_until 60 "--purge-data: the claims are gone" bash -c \
  "[[ -z \$(command kubectl --kubeconfig ${KUBECONFIG} -n ${NS} get pvc -o name) ]]"
echo "# results:"
sed 's/^/#   /' "${STATE_DIR}/results.txt"
finish
