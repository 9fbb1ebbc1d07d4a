#!/usr/bin/env bash
# A zoo.cfg naming a class the real image does not have crash-loops, as it
# would on a cluster: the default package once named
# PrometheusMetricsProviderFactory (no such class), and lint and schema
# validation passed it. The fixed package's class runs (the local layer lacks
# its jar, so the pod says so with a Warning event instead of failing).
source "$(dirname "$0")/../testlib.bash"
KUBE_SIM_BACKOFF_BASE_MS=500 start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default

"${ZKPILOT}" render "${ROOT}/packages/zookeeper" --set replicas=1 > "${STATE_DIR}/zk.yaml"
grep -q 'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider$' "${STATE_DIR}/zk.yaml" \
  || fail "the package no longer names PrometheusMetricsProvider; update this test"
sed 's/PrometheusMetricsProvider$/PrometheusMetricsProviderFactory/' "${STATE_DIR}/zk.yaml" > "${STATE_DIR}/zk-bad.yaml"
kubectl apply --server-side -f "${STATE_DIR}/zk-bad.yaml" >/dev/null
crashing() {
  [[ "$(kubectl get pod zookeeper-1-0 -o jsonpath='{.status.containerStatuses[0].restartCount}' 2>/dev/null)" -ge 2 ]]
}
wait_until 120 "a class the real image lacks makes the server crash-loop" crashing
expect_match "ZooKeeper says why" 'PrometheusMetricsProviderFactory' "$(kubectl logs zookeeper-1-0 -p 2>&1 | grep -i -m3 'metrics\|class')"
expect_eq "and the pod is not Ready" False \
  "$(kubectl get pod zookeeper-1-0 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"

kubectl apply --server-side -f "${STATE_DIR}/zk.yaml" >/dev/null
kubectl delete pod zookeeper-1-0 --wait=false >/dev/null   # the ConfigMap changed; the old container keeps crashing until replaced
expect_match "the package's class runs" 'condition met' \
  "$(kubectl wait --for=condition=Ready pod/zookeeper-1-0 --timeout=180s)"
expect_match "with a warning that the local layer lacks the metrics jar" 'ConfigClassAbsent' \
  "$(kubectl get events --field-selector involvedObject.name=zookeeper-1-0 -o jsonpath='{.items[*].reason}')"
finish
