#!/usr/bin/env bash
# Authorization as on a real cluster: a service account's token is limited to
# its Role (a 403 names the missing permission), `auth can-i` answers for it,
# a ClusterRoleBinding widens it; client certificates authenticate too.
source "$(dirname "$0")/../testlib.bash"
start_cluster

kubectl create namespace team >/dev/null
kubectl create serviceaccount reader -n team >/dev/null
kubectl create role pod-reader -n team --verb=get,list,watch --resource=pods >/dev/null
kubectl create rolebinding reader -n team --role=pod-reader --serviceaccount=team:reader >/dev/null
SA=system:serviceaccount:team:reader

expect_eq "can-i list pods in its namespace" yes "$(kubectl auth can-i list pods -n team --as=$SA)"
expect_eq "cannot list pods elsewhere" no "$(kubectl auth can-i list pods -n default --as=$SA 2>/dev/null || true)"
expect_eq "cannot delete pods" no "$(kubectl auth can-i delete pods -n team --as=$SA 2>/dev/null || true)"
expect_eq "cannot read pod logs (a subresource)" no "$(kubectl auth can-i get pods --subresource=log -n team --as=$SA 2>/dev/null || true)"
expect_eq "the admin can do anything" yes "$(kubectl auth can-i '*' '*')"

TOKEN="$(kubectl create token reader -n team)"
[[ -n "$TOKEN" ]] || fail "kubectl create token printed nothing"
as_reader() { command kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/kubectl-cache-sa" --token "$TOKEN" --user "" "$@"; }
expect_match "the token authenticates as the service account" "$SA" "$(as_reader auth whoami 2>&1)"
expect_match "the token lists pods" 'No resources found|NAME' "$(as_reader get pods -n team 2>&1)"
expect_fail "a missing permission is a 403 naming it" \
  'configmaps is forbidden: User "system:serviceaccount:team:reader" cannot list resource "configmaps" in API group "" in the namespace "team"' \
  as_reader get configmaps -n team
expect_fail "another namespace is forbidden" 'cannot list resource "pods" in API group "" in the namespace "default"' \
  as_reader get pods -n default

# From inside a pod: the mounted token and the `kubernetes` Service, as
# in-cluster clients use them (python3-kubernetes' load_incluster_config).
cat > "${STATE_DIR}/incluster.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: incluster, namespace: team}
spec:
  serviceAccountName: reader
  restartPolicy: Never
  containers:
    - name: main
      image: kube-sim/host:latest
      command: ["/usr/bin/python3", "-c"]
      args:
        - |
          from kubernetes import client, config
          config.load_incluster_config()
          v1 = client.CoreV1Api()
          print("pods:", ",".join(p.metadata.name for p in v1.list_namespaced_pod("team").items))
          try:
              v1.list_namespaced_secret("team")
          except client.exceptions.ApiException as e:
              print("secrets:", e.status)
YAML
kubectl apply -f "${STATE_DIR}/incluster.yaml" >/dev/null
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/incluster -n team --timeout=60s >/dev/null
log="$(kubectl logs incluster -n team)"
expect_match "a pod reaches the API through the kubernetes Service with its token" 'pods: incluster' "$log"
expect_match "and is held to its Role there too" 'secrets: 403' "$log"

kubectl create clusterrole cm-reader --verb=get,list --resource=configmaps >/dev/null
kubectl create clusterrolebinding reader-cm --clusterrole=cm-reader --serviceaccount=team:reader >/dev/null
expect_match "a ClusterRoleBinding grants cluster-wide" 'kube-root-ca.crt' "$(as_reader get configmaps -n default 2>&1)"
kubectl delete serviceaccount reader -n team >/dev/null
expect_fail "a deleted service account's token is refused" 'Unauthorized|must be logged in' as_reader get pods -n team

# The admin client certificate works as well as the token.
expect_match "client certificate authentication" 'kube-sim-admin' \
  "$(kubectl --user kube-sim-admin-cert auth whoami 2>&1)"
finish
