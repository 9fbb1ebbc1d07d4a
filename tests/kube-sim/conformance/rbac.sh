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

kubectl create clusterrole cm-reader --verb=get,list --resource=configmaps >/dev/null
kubectl create clusterrolebinding reader-cm --clusterrole=cm-reader --serviceaccount=team:reader >/dev/null
expect_match "a ClusterRoleBinding grants cluster-wide" 'kube-root-ca.crt' "$(as_reader get configmaps -n default 2>&1)"
kubectl delete serviceaccount reader -n team >/dev/null
expect_fail "a deleted service account's token is refused" 'Unauthorized|must be logged in' as_reader get pods -n team

# The admin client certificate works as well as the token.
expect_match "client certificate authentication" 'kube-sim-admin' \
  "$(kubectl --user kube-sim-admin-cert auth whoami 2>&1)"
finish
