#!/usr/bin/env bash
# The API double as kubectl sees it: client- and server-side apply, get/list
# with selectors and chunking, patches, optimistic concurrency (409), schema
# validation (422), SSA conflicts between field managers, dry-run, delete.
source "$(dirname "$0")/../testlib.bash"
start_cluster

expect_match "version" 'Server Version: v1\.32' "$(kubectl version 2>&1)"
expect_match "api-resources lists statefulsets" 'statefulsets +sts +apps/v1 +true +StatefulSet' "$(kubectl api-resources)"
wait_until 10 "the default namespace and its service account exist" kubectl get serviceaccount default -n default

kubectl create namespace conf >/dev/null
cat > "${STATE_DIR}/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: conf
  labels: {app: zk, tier: db}
data:
  a: "1"
YAML
expect_match "client-side apply creates" 'configmap/settings created' "$(kubectl apply -f "${STATE_DIR}/cm.yaml")"
expect_match "applying again is unchanged" 'configmap/settings unchanged' "$(kubectl apply -f "${STATE_DIR}/cm.yaml")"
sed -i 's/a: "1"/a: "2"/' "${STATE_DIR}/cm.yaml"
expect_match "a changed file is configured" 'configmap/settings configured' "$(kubectl apply -f "${STATE_DIR}/cm.yaml")"
expect_eq "the change is stored" 2 "$(kubectl get cm settings -n conf -o jsonpath='{.data.a}')"
expect_match "last-applied annotation kept" 'kubectl.kubernetes.io/last-applied-configuration' "$(kubectl get cm settings -n conf -o yaml)"

for i in 1 2 3 4; do
  kubectl create configmap "extra-$i" -n conf --from-literal=i=$i >/dev/null
  kubectl label cm "extra-$i" -n conf app=zk "idx=$i" >/dev/null
done
expect_eq "equality selector" "extra-1 extra-2 extra-3 extra-4 settings" \
  "$(kubectl get cm -n conf -l app=zk -o jsonpath='{.items[*].metadata.name}')"
expect_eq "set-based selector" "extra-1 extra-3" \
  "$(kubectl get cm -n conf -l 'idx in (1,3)' -o jsonpath='{.items[*].metadata.name}')"
expect_eq "negated selector" "extra-1 extra-2 extra-3 extra-4" \
  "$(kubectl get cm -n conf -l 'app=zk,!tier' -o jsonpath='{.items[*].metadata.name}')"
expect_eq "field selector" "extra-2" \
  "$(kubectl get cm -n conf --field-selector metadata.name=extra-2 -o jsonpath='{.items[*].metadata.name}')"
expect_eq "chunked list (limit/continue)" 6 "$(kubectl get cm -n conf --chunk-size=2 -o name | wc -l)"
expect_match "chunked list uses continue" 'continue=' "$(kubectl get cm -n conf --chunk-size=2 -v=6 2>&1 >/dev/null)"
expect_match "-o json is a List" '"kind": "List"' "$(kubectl get cm -n conf -o json)"

kubectl patch cm settings -n conf --type merge -p '{"data":{"b":"x"}}' >/dev/null
expect_eq "merge patch" x "$(kubectl get cm settings -n conf -o jsonpath='{.data.b}')"
kubectl patch cm settings -n conf --type json -p '[{"op":"remove","path":"/data/b"}]' >/dev/null
expect_eq "json patch" "" "$(kubectl get cm settings -n conf -o jsonpath='{.data.b}')"

# Optimistic concurrency: a replace carrying an old resourceVersion is refused.
kubectl get cm settings -n conf -o yaml > "${STATE_DIR}/stale.yaml"
kubectl patch cm settings -n conf --type merge -p '{"data":{"c":"y"}}' >/dev/null
expect_fail "stale update is 409 Conflict" 'Conflict.*the object has been modified' kubectl replace -f "${STATE_DIR}/stale.yaml"

# Schema validation: a container without a name and a bad port.
cat > "${STATE_DIR}/bad.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: conf}
spec:
  containers:
    - image: zookeeper:3.9.3
      ports: [{containerPort: 70000}]
YAML
expect_fail "invalid object is 422" 'is invalid' kubectl apply -f "${STATE_DIR}/bad.yaml"
expect_fail "nothing was stored" 'NotFound' kubectl get pod bad -n conf

# Server-side apply: two managers, a conflict, then force.
cat > "${STATE_DIR}/ssa.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: shared, namespace: conf}
data: {owner: alice, alice-only: "1"}
YAML
expect_match "server-side apply creates" 'serverside-applied' "$(kubectl apply --server-side --field-manager=alice -f "${STATE_DIR}/ssa.yaml")"
sed -e 's/owner: alice, alice-only: "1"/owner: bob/' "${STATE_DIR}/ssa.yaml" > "${STATE_DIR}/ssa-bob.yaml"
expect_fail "SSA conflict names the other manager" 'conflict with "alice".*\.data\.owner' \
  kubectl apply --server-side --field-manager=bob -f "${STATE_DIR}/ssa-bob.yaml"
kubectl apply --server-side --field-manager=bob --force-conflicts -f "${STATE_DIR}/ssa-bob.yaml" >/dev/null
expect_eq "force takes the field" bob "$(kubectl get cm shared -n conf -o jsonpath='{.data.owner}')"
expect_match "managed fields name both managers" 'manager: alice(.|\n)*manager: bob|manager: bob(.|\n)*manager: alice' \
  "$(kubectl get cm shared -n conf -o yaml --show-managed-fields)"
# alice stops applying alice-only: the field goes, since nobody else owns it.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: conf}\ndata: {}\n' > "${STATE_DIR}/ssa-alice2.yaml"
kubectl apply --server-side --field-manager=alice -f "${STATE_DIR}/ssa-alice2.yaml" >/dev/null
expect_eq "a field no longer applied is removed" "" "$(kubectl get cm shared -n conf -o jsonpath='{.data.alice-only}')"
expect_eq "another manager's field stays" bob "$(kubectl get cm shared -n conf -o jsonpath='{.data.owner}')"

# Dry run stores nothing.
kubectl create configmap dry -n conf --from-literal=x=1 --dry-run=server >/dev/null
expect_fail "dry-run=server stores nothing" 'NotFound' kubectl get cm dry -n conf

# Field selectors: only the fields each kind supports, with the real 400s.
expect_fail "a ConfigMap has only metadata fields" \
  'BadRequest.*"data.a" is not a known field selector: only "metadata.name", "metadata.namespace"' \
  kubectl get cm -n conf --field-selector data.a=1
expect_fail "a Pod field the server does not index" 'BadRequest.*field label not supported: spec.containers' \
  kubectl get pods -n conf --field-selector spec.containers=x
expect_match "a Pod field it does" 'No resources found' "$(kubectl get pods -n conf --field-selector spec.nodeName=nowhere 2>&1)"
expect_fail "a Namespace has no metadata.namespace" 'field label not supported: metadata.namespace' \
  kubectl get namespaces --field-selector metadata.namespace=conf
expect_eq "a Namespace by status.phase" conf \
  "$(kubectl get namespaces --field-selector status.phase=Active,metadata.name=conf -o jsonpath='{.items[*].metadata.name}')"

# A namespace being deleted takes no new objects; the 403 names the object.
kubectl create namespace doomed >/dev/null
kubectl create configmap keep -n doomed >/dev/null
kubectl patch cm keep -n doomed --type merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
kubectl delete namespace doomed --wait=false >/dev/null
expect_fail "no new content in a terminating namespace" \
  'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated' \
  kubectl create configmap late -n doomed
kubectl patch cm keep -n doomed --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null
wait_until 30 "the namespace goes once its last object does" absent namespace doomed

# A Lease, as leader election uses it: a stale renewal is refused.
cat > "${STATE_DIR}/lease.yaml" <<'YAML'
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: leader, namespace: conf}
spec: {holderIdentity: a, leaseDurationSeconds: 15}
YAML
kubectl create -f "${STATE_DIR}/lease.yaml" >/dev/null
kubectl get lease leader -n conf -o yaml > "${STATE_DIR}/lease-a.yaml"
kubectl patch lease leader -n conf --type merge -p '{"spec":{"holderIdentity":"b"}}' >/dev/null
sed -i 's/holderIdentity: a/holderIdentity: c/' "${STATE_DIR}/lease-a.yaml"
expect_fail "a stale lease renewal is 409 Conflict" 'Conflict' kubectl replace -f "${STATE_DIR}/lease-a.yaml"
expect_eq "the lease keeps its holder" b "$(kubectl get lease leader -n conf -o jsonpath='{.spec.holderIdentity}')"

# Delete, and a namespace's deletion empties it.
kubectl delete cm extra-1 -n conf >/dev/null
expect_fail "deleted" 'NotFound' kubectl get cm extra-1 -n conf
kubectl delete namespace conf --wait=false >/dev/null
wait_until 30 "a deleted namespace goes with its contents" absent namespace conf
finish
