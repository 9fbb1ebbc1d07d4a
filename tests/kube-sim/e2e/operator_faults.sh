#!/usr/bin/env bash
# API faults through the test cluster's fault injection (tests/kube-sim/README.md)
# while the operator and the CLI work, with writes checked throughout: each
# fault ends in a retry or a clear message, never a half-applied cluster.
#   500s, a request never answered and a slow one in the middle of an upgrade's
#     roll (the operator's pod deletions, StatefulSet applies, status writes):
#     the upgrade completes (or stops with its step in status and `resume`
#     finishes it); every server replaced once, the leader last;
#   409 conflicts and 429s on the operator's writes during a rolling configure,
#     and on the CLI's own requests: retried, or a clear message with nothing
#     applied;
#   credentials the API rejects: a clear message, exit 1;
#   a service account without `patch` on zookeeperclusters: the message names
#     the verb and the resource, and the spec is unchanged;
#   a field owned by another manager (`kubectl scale` of a server's
#     StatefulSet): reported in the resource's status and by the CLI, not
#     overridden; once the user gives it back, `resume` finishes.
source "$(dirname "$0")/operator_lib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default
kubectl create namespace "${NS}" >/dev/null
install_operator 1
watch_pods

out="$(zkp deploy "${CLUSTER}" "${PACKAGE}" --set replicas=3 --set tls.enabled=false --set version=3.8.0 --timeout 600 2>&1)" ||
  fail "deploy: $out"
wait_until 60 "one leader and two followers" ensemble_ok 1 2 3
wc_start all

inject() { kubectl create --raw /kube-sim/faults -f - <<<"$1" >/dev/null; }
clear_faults() { kubectl delete --raw /kube-sim/faults >/dev/null; }
# fired ID: how often rule ID fired.
fired() { kubectl get --raw /kube-sim/faults | jq -r --arg id "$1" '.rules[] | select(.id == $id) | .fired'; }
expect_fired() { expect_eq "$1" "$3" "$(fired "$2")"; }
spec_value() { cr "{.spec.values.$1}"; }

# finish_operation WHAT RC OUTPUT: the command either succeeded, or failed
# with the operation stopped in status; then `zkpilot resume` finishes it.
finish_operation() {
  local what="$1" rc="$2" output="$3"
  if [[ "$rc" == 0 ]]; then
    pass "${what}: completed despite the faults (retried)"
    return 0
  fi
  echo "# ${what} stopped: ${output}"
  expect_match "${what}: the status says where it stopped" 'Failed|Running' "$(operation_phase)"
  local resumed
  resumed="$(zkp resume "${CLUSTER}" --timeout 600 2>&1)" || fail "${what}: resume: ${resumed}"
  pass "${what}: resume finished it"
}

# --- 500s, a hung request and a slow one in the middle of an upgrade ----------------
# (JSON-escaped: the regex \? is written \\? in the rule.)
POD_PATH="/api/v1/namespaces/${NS}/pods/${CLUSTER}-[0-9]+-0(\\\\?|$)"
inject "{\"id\":\"pod-delete-500\",\"method\":\"DELETE\",\"pathRegex\":\"${POD_PATH}\",\"nth\":2,\"times\":1,\"status\":500}"
inject "{\"id\":\"status-500\",\"pathRegex\":\"/zookeeperclusters/${CLUSTER}/status\",\"nth\":4,\"times\":2,\"status\":500}"
inject "{\"id\":\"sts-apply-hang\",\"method\":\"PATCH\",\"pathRegex\":\"/statefulsets/${CLUSTER}-[0-9]+\\\\?.*fieldManager=zkpilot(&|$)\",\"nth\":2,\"times\":1,\"timeout\":true}"
inject "{\"id\":\"pods-slow\",\"method\":\"GET\",\"pathRegex\":\"/api/v1/namespaces/${NS}/pods\",\"nth\":10,\"times\":3,\"delayMs\":2000}"
leader="$(leader_of 1 2 3)" || fail "no leader before the upgrade"
mark="$(pods_mark)"
wc_start upgrade
rc=0
out="$(zkp upgrade "${CLUSTER}" --version 3.9.3 --timeout 800 2>&1)" || rc=$?
finish_operation "upgrade under 500s and timeouts" "$rc" "$out"
wc_stop upgrade
expect_eq "upgrade: exactly one leader election" 1 "${WC_ELECTIONS}"
expect_fired "a server pod's deletion failed with 500" pod-delete-500 1
expect_fired "two status writes failed with 500" status-500 2
expect_fired "a StatefulSet apply was never answered" sts-apply-hang 1
expect_fired "three pod reads were slow" pods-slow 3
clear_faults
expect_roll "upgrade under 500s and timeouts" "$mark" "$leader" 1 2 3
expect_eq "every server runs 3.9.3" $'1 3.9.3\n2 3.9.3\n3 3.9.3' "$(versions 1 2 3)"
expect_eq "the resource is Running 3.9.3" "Running 3.9.3" "$(cr '{.status.phase} {.status.currentVersion}')"

# --- 409 and 429 on the operator's writes during a rolling configure --------------------
inject "{\"id\":\"status-409\",\"pathRegex\":\"/zookeeperclusters/${CLUSTER}/status\",\"nth\":2,\"times\":2,\"status\":409}"
inject "{\"id\":\"apply-429\",\"method\":\"PATCH\",\"pathRegex\":\"/namespaces/${NS}/.*fieldManager=zkpilot(&|$)\",\"nth\":1,\"times\":3,\"status\":429,\"retryAfter\":1}"
inject "{\"id\":\"pod-delete-409\",\"method\":\"DELETE\",\"pathRegex\":\"${POD_PATH}\",\"nth\":1,\"times\":1,\"status\":409}"
leader="$(leader_of 1 2 3)" || fail "no leader before the configure"
mark="$(pods_mark)"
rc=0
out="$(zkp configure "${CLUSTER}" --set tickTime=2500 --timeout 600 2>&1)" || rc=$?
finish_operation "configure under 409s and 429s" "$rc" "$out"
expect_fired "two status writes met 409 Conflict" status-409 2
expect_fired "three applies met 429" apply-429 3
expect_fired "a pod deletion met 409" pod-delete-409 1
clear_faults
expect_roll "configure under 409s and 429s" "$mark" "$leader" 1 2 3
for id in 1 2 3; do expect_eq "server ${id} runs tickTime=2500" 2500 "$(conf_value "$id" tickTime)"; done

# --- 409 and 429 on the CLI's own requests --------------------------------------------
CR_PATH="/apis/zkpilot.io/v1alpha1/namespaces/${NS}/zookeeperclusters/${CLUSTER}"
inject "{\"id\":\"cli-429\",\"method\":\"GET\",\"path\":\"${CR_PATH}\",\"nth\":1,\"times\":2,\"status\":429,\"retryAfter\":1}"
out="$(zkp status "${CLUSTER}" 2>&1)" || fail "status under 429: $out"
expect_fired "the CLI's read met 429 twice" cli-429 2
pass "the CLI retried after Retry-After and printed the status"
inject "{\"id\":\"cli-409\",\"method\":\"PATCH\",\"pathRegex\":\"/zookeeperclusters/${CLUSTER}\\\\?.*fieldManager=zkpilot-cli\",\"nth\":1,\"times\":1,\"status\":409}"
rc=0
out="$(zkp configure "${CLUSTER}" --set podDisruptionBudget.maxUnavailable=0 --timeout 600 2>&1)" || rc=$?
expect_fired "the CLI's apply met 409" cli-409 1
if [[ "$rc" == 0 ]]; then
  expect_eq "the CLI retried the conflicting apply" 0 "$(spec_value podDisruptionBudget.maxUnavailable)"
else
  echo "# configure with a 409: $out"
  expect_match "a clear message on 409" '[Cc]onflict' "$out"
  expect_eq "exit 1" 1 "$rc"
  expect_eq "nothing applied" "" "$(spec_value podDisruptionBudget.maxUnavailable)"
  out="$(zkp configure "${CLUSTER}" --set podDisruptionBudget.maxUnavailable=0 --timeout 600 2>&1)" ||
    fail "configure again: $out"
fi
expect_eq "the dynamic change reached the PodDisruptionBudget" 0 \
  "$(kubectl -n "${NS}" get pdb -l "app.kubernetes.io/instance=${CLUSTER}" -o jsonpath='{.items[0].spec.maxUnavailable}')"
clear_faults

# --- rejected credentials -------------------------------------------------------------
kubectl config view --raw > "${STATE_DIR}/expired.kubeconfig"
KUBECONFIG="${STATE_DIR}/expired.kubeconfig" command kubectl config set-credentials kube-sim-admin \
  --token=expired-0123456789 >/dev/null
rc=0
out="$(zkp_as "${STATE_DIR}/expired.kubeconfig" status "${CLUSTER}" 2>&1)" || rc=$?
echo "# rejected token: $out"
expect_eq "rejected credentials: exit 1" 1 "$rc"
expect_match "a clear message" '401|[Uu]nauthori[sz]ed|credentials' "$out"

# --- a missing RBAC permission ------------------------------------------------------------
kubectl -n "${NS}" create serviceaccount viewer >/dev/null
kubectl -n "${NS}" create role zkc-viewer --verb=get,list,watch --resource=zookeeperclusters.zkpilot.io,pods,configmaps,controllerrevisions.apps >/dev/null
kubectl -n "${NS}" create rolebinding zkc-viewer --role=zkc-viewer --serviceaccount="${NS}:viewer" >/dev/null
kubectl config view --raw > "${STATE_DIR}/viewer.kubeconfig"
KUBECONFIG="${STATE_DIR}/viewer.kubeconfig" command kubectl config set-credentials kube-sim-admin \
  --token="$(kubectl -n "${NS}" create token viewer)" >/dev/null
expect_match "the viewer can read the status" 'leader' "$(zkp_as "${STATE_DIR}/viewer.kubeconfig" status "${CLUSTER}" 2>&1)"
rc=0
out="$(zkp_as "${STATE_DIR}/viewer.kubeconfig" configure "${CLUSTER}" --set podDisruptionBudget.maxUnavailable=1 2>&1)" || rc=$?
echo "# without patch: $out"
expect_eq "a missing permission: exit 1" 1 "$rc"
expect_match "the message names the verb and the resource" 'patch(.|\n)*zookeeperclusters|zookeeperclusters(.|\n)*patch' "$out"
expect_match "and the identity" 'viewer' "$out"
expect_eq "the spec is unchanged" 0 "$(spec_value podDisruptionBudget.maxUnavailable)"

# --- a field owned by another manager -------------------------------------------------------
kubectl -n "${NS}" scale statefulset "${CLUSTER}-2" --replicas=0 >/dev/null
echo "# managers of ${CLUSTER}-2's fields: $(kubectl -n "${NS}" get statefulset "${CLUSTER}-2" --show-managed-fields -o json |
  jq -c '[.metadata.managedFields[] | {manager, operation, subresource}]')"
wait_until 120 "the scaled-down server's pod is gone" absent pod "${CLUSTER}-2-0" -n "${NS}"
rc=0
out="$(zkp configure "${CLUSTER}" --set tickTime=2000 --timeout 300 2>&1)" || rc=$?
echo "# configure with a field owned by kubectl: rc ${rc}: $out"
status_text="$(kubectl -n "${NS}" get zkc "${CLUSTER}" -o json | jq -c '{conditions: .status.conditions, operation: {phase: .status.operation.phase, error: .status.operation.error}}')"
echo "# status: ${status_text}"
expect_match "the status names the field and its other manager" 'replicas(.|\n)*kubectl|kubectl(.|\n)*replicas' "$status_text"
expect_eq "zkpilot did not take the field over" 0 \
  "$(kubectl -n "${NS}" get statefulset "${CLUSTER}-2" -o jsonpath='{.spec.replicas}')"
expect_match "the CLI reports it" 'replicas(.|\n)*kubectl|kubectl(.|\n)*replicas' "$out"
# The user gives the server back; `resume` (or the operator by itself) finishes.
kubectl -n "${NS}" scale statefulset "${CLUSTER}-2" --replicas=1 >/dev/null
wait_until 180 "server 2 is back" server_pods_ready 3
if [[ "$(operation_phase)" != "configure Succeeded" ]]; then
  resumed="$(zkp resume "${CLUSTER}" --timeout 600 2>&1)" || fail "resume after the field was given back: ${resumed}"
fi
expect_eq "the configure finished" "configure Succeeded" "$(operation_phase)"
for id in 1 2 3; do expect_eq "server ${id} runs tickTime=2000" 2000 "$(conf_value "$id" tickTime)"; done
wait_until 60 "one leader and two followers" ensemble_ok 1 2 3
wc_stop all
echo "# results:"
sed 's/^/#   /' "${STATE_DIR}/results.txt"
finish
