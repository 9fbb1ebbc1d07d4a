#!/usr/bin/env bash
# ZooNavigator behind its login proxy, in a namespace that enforces the
# restricted Pod Security level: the add-on's objects alone (its Deployment,
# Service and the proxy's ConfigMap, as rendered) are applied and its pod —
# ZooNavigator plus the nginx sidecar — is admitted (no FailedCreate). The
# Service leads to the proxy's port, the pod reads the login Secret's
# htpasswd only, and ZooNavigator itself publishes no port. ZooNavigator's and
# nginx's images have no local counterpart in the test cluster, so the pod is
# admitted but does not start: no login is tried here. What the proxy asks
# for is proven by rendering (kube_platform_objects_test,
# ZooNavigatorIsReachedOnlyThroughItsLoginProxy) and tests/k8s-schema; the
# Secret's generation by kube_platform_test (AddonsAreAppliedAndPruned...).
source "$(dirname "$0")/../testlib.bash"
start_cluster
kubectl create namespace locked >/dev/null
kubectl label namespace locked pod-security.kubernetes.io/enforce=restricted >/dev/null
wait_until 10 "the namespace's service account exists" kubectl get serviceaccount default -n locked

"${ZKPILOT}" render "${ROOT}/packages/zookeeper" --namespace locked \
  --set zoonavigator.enabled=true --set zoonavigator.readOnly=false > "${STATE_DIR}/all.yaml"
"$PY" - "${STATE_DIR}/all.yaml" > "${STATE_DIR}/zoonavigator.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
picked = [d for d in docs
          if d.get('metadata', {}).get('labels', {}).get('app.kubernetes.io/component') == 'zoonavigator']
print(yaml.safe_dump_all(picked, sort_keys=False))
PY
expect_eq "the add-on's objects" "ConfigMap Deployment Service" \
  "$(grep -E '^kind:' "${STATE_DIR}/zoonavigator.yaml" | awk '{print $2}' | sort | tr '\n' ' ' | sed 's/ $//')"
kubectl apply --server-side -n locked -f "${STATE_DIR}/zoonavigator.yaml" >/dev/null
count_pods() { command kubectl --kubeconfig "${KUBECONFIG}" get pods -n locked -l "$1" -o name | wc -l; }
wait_until 60 "ZooNavigator's pod is admitted" bash -c "
  $(declare -f count_pods); KUBECONFIG='${KUBECONFIG}'
  [[ \$(count_pods app.kubernetes.io/component=zoonavigator) == 1 ]]"
expect_eq "no pod was refused" "" \
  "$(kubectl get events -n locked --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}')"
pod="$(kubectl get pods -n locked -l app.kubernetes.io/component=zoonavigator -o jsonpath='{.items[0].metadata.name}')"
expect_eq "ZooNavigator and its login proxy" "zoonavigator login-proxy" \
  "$(kubectl get pod -n locked "$pod" -o jsonpath='{.spec.containers[*].name}')"
expect_eq "only the proxy publishes a port" "login-proxy:8080" \
  "$(kubectl get pod -n locked "$pod" -o jsonpath='{range .spec.containers[*]}{.name}:{.ports[*].containerPort}{"\n"}{end}' | grep -v ':$')"
expect_eq "the Service leads to the proxy" "9000->http" \
  "$(kubectl get service -n locked zookeeper-zoonavigator -o jsonpath='{.spec.ports[0].port}->{.spec.ports[0].targetPort}')"
expect_eq "the pod reads the login Secret's htpasswd" "zookeeper-zoonavigator-login htpasswd" \
  "$(kubectl get pod -n locked "$pod" -o jsonpath='{.spec.volumes[?(@.name=="login")].secret.secretName} {.spec.volumes[?(@.name=="login")].secret.items[0].key}')"
finish
