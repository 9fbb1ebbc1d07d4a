#!/usr/bin/env bash
# The operator survives its own failures without harming the ensemble:
#   two replicas: exactly one holds the Lease and reconciles, the other waits;
#   the leader's pod is deleted in the middle of an upgrade's roll, and later
#   the new leader's process is killed (SIGKILL) in the middle of the same
#   roll: each time a replica takes the Lease and continues the operation from
#   its journal in the resource's status (the same operation, not a new one);
#   every server is replaced exactly once, one at a time, the leader last; one
#   leader election; no acknowledged write lost;
#   when the leader's pod goes, another replica takes the Lease and reconciles.
source "$(dirname "$0")/operator_lib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default
kubectl create namespace "${NS}" >/dev/null
install_operator 2
watch_pods

# --- two replicas: one leads ------------------------------------------------------
has_holder() { [[ -n "$(lease_holder)" ]]; }
wait_until 60 "a replica holds the Lease" has_holder
pods="$(operator_pods | xargs)"
expect_eq "two operator pods run" 2 "$(wc -w <<<"$pods")"
leader_pod="$(lease_pod)"
expect_match "the Lease holder is one of them" "(^| )${leader_pod}( |$)" "$pods"
standby_pod="$(xargs -n1 <<<"$pods" | grep -vx "${leader_pod}")"

out="$(zkp deploy "${CLUSTER}" "${PACKAGE}" --set replicas=3 --set tls.enabled=false --set version=3.8.0 --timeout 600 2>&1)" ||
  fail "deploy: $out"
wait_until 60 "one leader and two followers" ensemble_ok 1 2 3
expect_match "the leading replica reconciled the cluster" "${NS}/${CLUSTER}: reconciled" \
  "$(kubectl -n "${OPERATOR_NS}" logs "${leader_pod}")"
standby_log="$(kubectl -n "${OPERATOR_NS}" logs "${standby_pod}")"
expect_match "the other waits for the Lease" 'waiting for lease' "$standby_log"
if grep -q 'reconciled' <<<"$standby_log"; then fail "the standby reconciled: $standby_log"; fi
pass "the standby reconciled nothing"

# --- the operator killed twice in the middle of an upgrade --------------------------
wc_start all
zk_leader="$(leader_of 1 2 3)" || fail "no ZooKeeper leader before the upgrade"
mark="$(pods_mark)"
zkp upgrade "${CLUSTER}" --version 3.9.3 --timeout 840 > "${STATE_DIR}/upgrade.out" 2>&1 &
upgrade_pid=$!
BG_PIDS+=("$upgrade_pid")
operation_running() { [[ "$(operation_phase)" == "upgrade Running" ]]; }
wait_until 120 "the upgrade's operation runs" operation_running
operation_id="$(cr '{.status.operation.id}')"
replaced_at_least() { [[ "$(replaced_count "$mark")" -ge "$1" ]]; }
wait_until 300 "the first server pod is replaced" replaced_at_least 1
first_leader="$(lease_pod)"
kubectl -n "${OPERATOR_NS}" delete pod "${first_leader}" --grace-period=1 --wait=false >/dev/null
pass "the leading operator's pod ${first_leader} is deleted after $(replaced_count "$mark") replacement(s)"

new_leader() { local p; p="$(lease_pod)"; [[ -n "$p" && "$p" != "$1" ]]; }
wait_until 120 "another replica takes the Lease" new_leader "${first_leader}"
wait_until 300 "the second server pod is replaced" replaced_at_least 2
second_leader="$(lease_pod)"
pid="$(operator_pid "${second_leader}")" || fail "no operator process found for pod ${second_leader}"
kill -KILL "$pid"
pass "the leading operator's process (pod ${second_leader}, pid ${pid}) is killed after $(replaced_count "$mark") replacements"

upgrade_done() { ! kill -0 "$upgrade_pid" 2>/dev/null; }
wait_until 840 "the upgrade command returns" upgrade_done
upgrade_rc=0
wait "$upgrade_pid" || upgrade_rc=$?
sed 's/^/# upgrade: /' "${STATE_DIR}/upgrade.out"
expect_eq "the upgrade command followed the operation to success" 0 "$upgrade_rc"
expect_eq "the same operation finished: continued from its journal" "${operation_id} upgrade Succeeded" \
  "$(cr '{.status.operation.id} {.status.operation.type} {.status.operation.phase}')"
expect_eq "every step of its journal is done" "" \
  "$(cr '{range .status.operation.steps[*]}{.status}{"\n"}{end}' | grep -vx done || true)"
wc_stop all
expect_eq "one leader election through the whole upgrade" 1 "${WC_ELECTIONS}"
expect_roll "upgrade with the operator killed twice" "$mark" "$zk_leader" 1 2 3
expect_eq "every server runs 3.9.3" $'1 3.9.3\n2 3.9.3\n3 3.9.3' "$(versions 1 2 3)"
expect_eq "no ZooKeeper container restarted" "0 0 0" \
  "$(kubectl -n "${NS}" get pods -l "app.kubernetes.io/instance=${CLUSTER}" -o jsonpath='{.items[*].status.containerStatuses[0].restartCount}')"
echo "# operator pods now: $(operator_pods | xargs); the Lease: $(lease_holder)"

# --- leadership moves on when the leader's pod goes -------------------------------------
# The deleted leader releases the Lease on SIGTERM; the standby (polling every
# 2 s) and the Deployment's replacement pod (trying at start-up) race for it,
# as client-go's replicas do on a real cluster: either may win.
two_running() { [[ "$(operator_pods | wc -l)" == 2 ]]; }
wait_until 120 "two operator replicas run again" two_running
leader_pod="$(lease_pod)"
standby_pod="$(operator_pods | grep -vx "${leader_pod}")"
kubectl -n "${OPERATOR_NS}" delete pod "${leader_pod}" --wait=false >/dev/null
# (Prints where things stand, for the failure message.)
taken_over() {
  local h
  h="$(lease_holder)"
  echo "Lease holder [${h}], operator pods [$(operator_pods | xargs)]"
  [[ -n "${h}" && "${h%_*}" != "${leader_pod}" ]] && operator_pods | grep -qx "${h%_*}"
}
wait_until 120 "a running replica takes the Lease from ${leader_pod}" taken_over
new_holder="$(lease_pod)"
echo "# the Lease went to ${new_holder} ($([[ "${new_holder}" == "${standby_pod}" ]] && echo "the standby" || echo "the replacement pod"))"
# It reconciles: a restart request is carried out by the new leader.
leader="$(leader_of 1 2 3)" || fail "no ZooKeeper leader before the restart"
mark="$(pods_mark)"
out="$(zkp restart "${CLUSTER}" --timeout 600 2>&1)" || fail "restart under the new leader: $out"
expect_roll "restart under the new operator leader" "$mark" "$leader" 1 2 3
expect_match "the new leader reconciled it" "${NS}/${CLUSTER}: reconciled \\(restart\\)" \
  "$(kubectl -n "${OPERATOR_NS}" logs "${new_holder}")"
echo "# results:"
sed 's/^/#   /' "${STATE_DIR}/results.txt"
finish
