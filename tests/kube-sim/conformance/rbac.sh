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

# Escalation prevention: a service account that may create roles and
# rolebindings but itself holds only `get pods` cannot grant `list secrets`,
# neither in a Role nor by binding a Role that has it; `escalate` on roles
# lets it write such a Role, `bind` on that Role lets it bind it.
kubectl create serviceaccount granter -n team >/dev/null
kubectl create role rbac-writer -n team --verb=create,get --resource=roles,rolebindings >/dev/null
kubectl create role pod-getter -n team --verb=get --resource=pods >/dev/null
kubectl create rolebinding granter-writes -n team --role=rbac-writer --serviceaccount=team:granter >/dev/null
kubectl create rolebinding granter-gets -n team --role=pod-getter --serviceaccount=team:granter >/dev/null
kubectl create role secret-lister -n team --verb=list --resource=secrets >/dev/null
GTOKEN="$(kubectl create token granter -n team)"
# (No --user "": `create rolebinding` would take it for a User subject.)
as_granter() { command kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/kubectl-cache-granter" --token "$GTOKEN" "$@"; }
expect_match "a Role within what the writer holds is created" 'role.rbac.authorization.k8s.io/pods-only created' \
  "$(as_granter create role pods-only -n team --verb=get --resource=pods 2>&1)"
expect_fail "a Role granting more is a 403 naming the requester" \
  'Error from server \(Forbidden\): roles\.rbac\.authorization\.k8s\.io "more" is forbidden: user "system:serviceaccount:team:granter" \(groups=\["system:serviceaccounts" "system:serviceaccounts:team" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:' \
  as_granter create role more -n team --verb=list --resource=secrets
expect_fail "... and the permission it lacks" '\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["list"\]\}' \
  as_granter create role more -n team --verb=list --resource=secrets
expect_fail "binding a Role with permissions the writer lacks is a 403" \
  'rolebindings\.rbac\.authorization\.k8s\.io "lister" is forbidden: user "system:serviceaccount:team:granter" .* not currently held:' \
  as_granter create rolebinding lister -n team --role=secret-lister --serviceaccount=team:reader
expect_fail "binding a missing Role is a 404" 'roles\.rbac\.authorization\.k8s\.io "nope" not found' \
  as_granter create rolebinding nope -n team --role=nope --serviceaccount=team:reader
kubectl create role escalator -n team --verb=escalate --resource=roles >/dev/null
kubectl create rolebinding granter-escalates -n team --role=escalator --serviceaccount=team:granter >/dev/null
expect_match "with escalate on roles it can" 'role.rbac.authorization.k8s.io/more created' \
  "$(as_granter create role more -n team --verb=list --resource=secrets 2>&1)"
expect_fail "escalate is no bind" 'rolebindings\.rbac\.authorization\.k8s\.io "lister" is forbidden' \
  as_granter create rolebinding lister -n team --role=secret-lister --serviceaccount=team:reader
kubectl create role binder -n team --verb=bind --resource=roles --resource-name=secret-lister >/dev/null
kubectl create rolebinding granter-binds -n team --role=binder --serviceaccount=team:granter >/dev/null
expect_match "bind on that Role lets it bind it" 'rolebinding.rbac.authorization.k8s.io/lister created' \
  "$(as_granter create rolebinding lister -n team --role=secret-lister --serviceaccount=team:reader 2>&1)"
kubectl create role pod-deleter -n team --verb=delete --resource=pods >/dev/null
expect_fail "but no other" 'rolebindings\.rbac\.authorization\.k8s\.io "deleter" is forbidden' \
  as_granter create rolebinding deleter -n team --role=pod-deleter --serviceaccount=team:reader

kubectl create clusterrole cm-reader --verb=get,list --resource=configmaps >/dev/null
kubectl create clusterrolebinding reader-cm --clusterrole=cm-reader --serviceaccount=team:reader >/dev/null
expect_match "a ClusterRoleBinding grants cluster-wide" 'kube-root-ca.crt' "$(as_reader get configmaps -n default 2>&1)"
kubectl delete serviceaccount reader -n team >/dev/null
expect_fail "a deleted service account's token is refused" 'Unauthorized|must be logged in' as_reader get pods -n team

# The admin client certificate works as well as the token.
expect_match "client certificate authentication" 'kube-sim-admin' \
  "$(kubectl --user kube-sim-admin-cert auth whoami 2>&1)"
finish
