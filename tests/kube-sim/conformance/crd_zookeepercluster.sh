#!/usr/bin/env bash
# The ZooKeeperCluster CRD zkpilot generates from the default package, and
# the operator's install manifests, on the test cluster: they apply; `kubectl
# explain` knows every parameter; the API itself refuses values outside the
# package's schema (422 naming the field) and accepts valid ones; the status
# the operator writes survives pruning and fills the printer columns; the
# package goes in as immutable ConfigMaps and reads back with its hash; a
# revision is a ControllerRevision owned by the cluster; and the operator's
# service account may do exactly what the operator does.
#
# The objects come from `zkpilot operator manifests` when the binary has it,
# else from the test driver zkpilot_kube_manifests (the same library calls),
# which also prints the ConfigMaps, a cluster and a status as zkpilot builds them.
source "$(dirname "$0")/../testlib.bash"

DRIVER="${ZKPILOT_KUBE_MANIFESTS:-$(dirname "${ZKPILOT}")/zkpilot_kube_manifests}"
[[ -x "${DRIVER}" ]] || fail "test driver ${DRIVER} not built (cmake --build <dir> --target zkpilot_kube_manifests)"
PACKAGE="${ROOT}/packages/zookeeper"
MANIFESTS="${STATE_DIR}/manifests"
if "${ZKPILOT}" operator manifests --help >/dev/null 2>&1; then
  "${ZKPILOT}" operator manifests "${PACKAGE}" --output-dir "${MANIFESTS}"
else
  "${DRIVER}" operator-manifests --package "${PACKAGE}" --output-dir "${MANIFESTS}"
fi
start_cluster

# --- install: everything but the operator's Deployment, which is only
# validated (a running operator would reconcile the objects of this test).
for f in "${MANIFESTS}"/*.yaml; do
  if [[ "$f" == *-deployment-* ]]; then
    kubectl apply --server-side --dry-run=server -f "$f" >/dev/null
  else
    kubectl apply --server-side -f "$f" >/dev/null
  fi
done
pass "the CRD, namespace, service account, roles and bindings apply; the Deployment passes server validation"
expect_match "the CRD is established" 'condition met' \
  "$(kubectl wait --for=condition=Established crd/zookeeperclusters.zkpilot.io --timeout=20s)"
wait_until 20 "discovery lists zookeeperclusters with short name zkc" bash -c \
  "command kubectl --kubeconfig ${KUBECONFIG} --cache-dir ${STATE_DIR}/c2 api-resources | grep -q '^zookeeperclusters .*zkc.*zkpilot.io/v1alpha1.*ZooKeeperCluster'"

explain="$(kubectl explain zookeeperclusters.spec.values.tickTime)"
expect_match "explain shows the parameter's type" 'FIELD: *tickTime <integer>' "$explain"
expect_match "explain shows the parameter's description" 'Basic time unit in milliseconds' "$explain"
expect_match "explain shows nested parameters" 'enabled.*<boolean>' "$(kubectl explain zookeeperclusters.spec.values.metrics)"

# --- the package as ConfigMaps: accepted, immutable, read back by hash
HASH="$("${DRIVER}" package-ref --package "${PACKAGE}" | "${PY}" -c 'import json,sys; print(json.load(sys.stdin)["hash"])')"
"${DRIVER}" package-configmaps --package "${PACKAGE}" --namespace default > "${STATE_DIR}/pkg.yaml"
kubectl apply --server-side -f "${STATE_DIR}/pkg.yaml" >/dev/null
CM="zkpilot-pkg-zookeeper-${HASH:0:12}"
expect_eq "the package ConfigMap is immutable" true "$(kubectl get configmap "$CM" -o jsonpath='{.immutable}')"
expect_match "the package reads back from the API with its hash" '^zookeeper [^ ]+: [0-9]+ files$' \
  "$(kubectl get configmaps -l "zkpilot.io/package-hash=${HASH:0:12}" -o json | "${DRIVER}" read-package --hash "${HASH}")"
expect_fail "an immutable package ConfigMap cannot change" 'immutable|Forbidden|Invalid' \
  kubectl patch configmap "$CM" --type merge -p '{"data":{"package.yaml":"changed"}}'

# --- values the schema refuses: 422 naming the field
bad() {  # bad NAME VALUES_JSON -> the API's answer to creating it
  "${DRIVER}" cluster --package "${PACKAGE}" --name "$1" --values "$2" > "${STATE_DIR}/$1.yaml"
  kubectl create -f "${STATE_DIR}/$1.yaml" -v=6 2>&1
}
out="$(bad low-tick '{"tickTime": 50}' || true)"
expect_match "a value below the minimum is refused with 422" ' 422 Unprocessable Entity ' "$out"
expect_match "naming the field and the bound" 'spec\.values\.tickTime.*(greater than or equal to 100)' "$out"
expect_match "an enum violation names the field" 'spec\.values\.version.*Unsupported value.*"3\.7\.0"' \
  "$(bad old-version '{"version": "3.7.0"}' || true)"
expect_match "a pattern violation names the nested field" 'spec\.values\.storage\.size' \
  "$(bad bad-size '{"storage": {"size": "lots"}}' || true)"
expect_match "a wrong type names the nested field" 'spec\.values\.metrics\.enabled.*boolean' \
  "$(bad bad-type '{"metrics": {"enabled": "yes"}}' || true)"
expect_match "an unknown parameter is refused under strict validation" 'unknown field "spec\.values\.tickTim"' \
  "$(bad typo '{"tickTim": 3000}' || true)"
expect_eq "nothing was stored" "" "$(kubectl get zkc -o name)"

# --- a valid cluster: accepted; free-form parameters kept as given
"${DRIVER}" cluster --package "${PACKAGE}" --name demo --values \
  '{"replicas": 3, "tickTime": 3000, "metrics": {"enabled": true}, "resources": {"limits": {"memory": "2Gi"}},
    "nodeSelector": {"disk": "ssd"}, "tolerations": [{"key": "dedicated", "operator": "Exists"}]}' \
  > "${STATE_DIR}/demo.yaml"
kubectl apply --server-side --field-manager zkpilot-cli -f "${STATE_DIR}/demo.yaml" >/dev/null
pass "a cluster within the schema is accepted"
expect_eq "nested values are stored" 2Gi "$(kubectl get zkc demo -o jsonpath='{.spec.values.resources.limits.memory}')"
expect_eq "an object parameter is kept" ssd "$(kubectl get zkc demo -o jsonpath='{.spec.values.nodeSelector.disk}')"
expect_eq "a list parameter is kept" Exists "$(kubectl get zkc demo -o jsonpath='{.spec.values.tolerations[0].operator}')"
expect_eq "the package reference is stored" "$CM" "$(kubectl get zkc demo -o jsonpath='{.spec.package.configMap}')"

# --- status as the operator writes it, with the operator's own identity
SA=system:serviceaccount:zkpilot-system:zkpilot-operator
TOKEN="$(kubectl create token zkpilot-operator -n zkpilot-system)"
as_operator() { command kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/kubectl-cache-op" --token "$TOKEN" --user "" "$@"; }
"${DRIVER}" status > "${STATE_DIR}/status.json"
as_operator patch zkc demo --subresource=status --type merge --patch-file "${STATE_DIR}/status.json" >/dev/null
pass "the operator's service account writes the status subresource"
kubectl get zkc demo -o json > "${STATE_DIR}/demo.json"
expect_eq "every status field survives (nothing pruned)" same "$("${PY}" - "${STATE_DIR}/status.json" "${STATE_DIR}/demo.json" <<'PY'
import json, sys
want = json.load(open(sys.argv[1]))["status"]
got = json.load(open(sys.argv[2]))["status"]
print("same" if want == got else "differs: want %s got %s" % (json.dumps(want, sort_keys=True), json.dumps(got, sort_keys=True)))
PY
)"
table="$(kubectl get zkc)"
expect_match "printer columns" 'NAME +READY +REPLICAS +LEADER +VERSION +PHASE +OPERATION +AGE' "$table"
expect_match "printer values" 'demo +3/3 +3 +3 +3\.8\.0 +Running +deploy ' "$table"
expect_match "wide columns" 'TARGET +REVISION' "$(kubectl get zookeeperclusters -o wide)"

# --- a revision: a ControllerRevision owned by the cluster
UID_="$(kubectl get zkc demo -o jsonpath='{.metadata.uid}')"
"${DRIVER}" revision --cluster demo --namespace default --uid "$UID_" > "${STATE_DIR}/rev.json"
as_operator create -f "${STATE_DIR}/rev.json" >/dev/null
expect_eq "the revision is found by its labels" controllerrevision.apps/demo-r1 \
  "$(kubectl get controllerrevisions -l 'zkpilot.io/cluster=demo,zkpilot.io/revision' -o name)"
expect_eq "its outcome is in annotations" deployed \
  "$(kubectl get controllerrevision demo-r1 -o jsonpath='{.metadata.annotations.zkpilot\.io/revision-status}')"

# --- the operator's permissions: what it uses, nothing more (the
# prometheus-operator CRDs installed, as where the package's add-on uses them)
kubectl apply --server-side -f "${KUBE_SIM_DIR}/test/fixtures/monitoring-crds.yaml" >/dev/null
kubectl wait --for=condition=Established crd/servicemonitors.monitoring.coreos.com --timeout=20s >/dev/null
can() { kubectl auth can-i "$@" --as="$SA" 2>/dev/null || true; }
expect_eq "may watch clusters everywhere" yes "$(can watch zookeeperclusters.zkpilot.io -A)"
expect_eq "may update the finalizers" yes "$(can update zookeeperclusters.zkpilot.io --subresource=finalizers -n default)"
expect_eq "may not create clusters" no "$(can create zookeeperclusters.zkpilot.io -n default)"
expect_eq "may patch statefulsets" yes "$(can patch statefulsets.apps -n default)"
expect_eq "may delete pods (restarts)" yes "$(can delete pods -n default)"
expect_eq "may not create pods" no "$(can create pods -n default)"
expect_eq "may exec into pods" yes "$(can create pods --subresource=exec -n default)"
expect_eq "may read logs" yes "$(can get pods --subresource=log -n default)"
expect_eq "may create secrets" yes "$(can create secrets -n default)"
expect_eq "may not watch secrets" no "$(can watch secrets -n default)"
expect_eq "may apply ServiceMonitors" yes "$(can patch servicemonitors.monitoring.coreos.com -n default)"
expect_eq "may update its own Lease" yes "$(can update leases.coordination.k8s.io/zkpilot-operator -n zkpilot-system)"
expect_eq "may not update another Lease" no "$(can update leases.coordination.k8s.io/other -n zkpilot-system)"
expect_eq "may not touch Leases elsewhere" no "$(can create leases.coordination.k8s.io -n default)"
expect_eq "may not delete namespaces" no "$(can delete namespaces)"
expect_match "the operator's token lists pods" 'No resources found|NAME' "$(as_operator get pods -n default 2>&1)"
expect_fail "and is refused what it was not granted (403)" 'cannot list resource "roles"' as_operator get roles -n default

# --- deleting the cluster takes its revisions along (ownerReferences)
kubectl delete zkc demo >/dev/null
wait_until 30 "the revision is garbage-collected with its cluster" absent controllerrevision demo-r1
finish
