#!/usr/bin/env bash
# CustomResourceDefinitions: once applied, their resources are served and
# discovered; objects are validated against openAPIV3Schema (422), defaulted
# and pruned; the status subresource is separate; deleting the CRD removes
# its objects.
source "$(dirname "$0")/../testlib.bash"
start_cluster

cat > "${STATE_DIR}/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: backups.example.zkpilot.io}
spec:
  group: example.zkpilot.io
  scope: Namespaced
  names: {plural: backups, singular: backup, kind: Backup, shortNames: [bk]}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      additionalPrinterColumns:
        - {name: Schedule, type: string, jsonPath: .spec.schedule}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [schedule]
              properties:
                schedule: {type: string, pattern: '^[0-9*/ ,-]+$'}
                keep: {type: integer, minimum: 1, default: 7}
            status:
              type: object
              properties:
                phase: {type: string}
YAML
kubectl apply -f "${STATE_DIR}/crd.yaml" >/dev/null
expect_match "the CRD is established" 'condition met' \
  "$(kubectl wait --for=condition=Established crd/backups.example.zkpilot.io --timeout=20s)"
wait_until 20 "discovery lists the new resource" bash -c \
  "command kubectl --kubeconfig ${KUBECONFIG} --cache-dir ${STATE_DIR}/c2 api-resources | grep -q '^backups .*bk.*example.zkpilot.io/v1.*Backup'"

cat > "${STATE_DIR}/bk.yaml" <<'YAML'
apiVersion: example.zkpilot.io/v1
kind: Backup
metadata: {name: nightly, namespace: default}
spec:
  schedule: "0 3 * * *"
  unknownField: dropped
YAML
expect_fail "an unknown field is refused under strict validation (kubectl's default)" \
  'strict decoding error: unknown field "spec.unknownField"' kubectl apply -f "${STATE_DIR}/bk.yaml"
kubectl apply --validate=false -f "${STATE_DIR}/bk.yaml" >/dev/null
expect_eq "a default is applied" 7 "$(kubectl get bk nightly -o jsonpath='{.spec.keep}')"
expect_eq "an unknown field is pruned" "" "$(kubectl get bk nightly -o jsonpath='{.spec.unknownField}')"
expect_match "printer columns" 'nightly +0 3 \* \* \*' "$(kubectl get backups)"
printf 'apiVersion: example.zkpilot.io/v1\nkind: Backup\nmetadata: {name: bad, namespace: default}\nspec: {schedule: "every day", keep: 0}\n' > "${STATE_DIR}/bad.yaml"
expect_fail "schema violations are 422 naming the fields" 'spec.schedule|spec.keep' kubectl apply -f "${STATE_DIR}/bad.yaml"
kubectl patch bk nightly --type merge -p '{"status":{"phase":"Done"}}' >/dev/null
expect_eq "status is ignored on the main resource" "" "$(kubectl get bk nightly -o jsonpath='{.status.phase}')"
kubectl patch bk nightly --subresource=status --type merge -p '{"status":{"phase":"Done"}}' >/dev/null
expect_eq "the status subresource writes status" Done "$(kubectl get bk nightly -o jsonpath='{.status.phase}')"
kubectl apply --server-side --validate=false -f "${STATE_DIR}/bk.yaml" --force-conflicts >/dev/null
expect_eq "server-side apply on a custom resource" "0 3 * * *" "$(kubectl get bk nightly -o jsonpath='{.spec.schedule}')"

# The package's prometheus-operator objects, once the operator's CRDs (a
# reduced copy of ServiceMonitor and PrometheusRule) are applied.
kubectl apply --server-side -f "${KUBE_SIM_DIR}/test/fixtures/monitoring-crds.yaml" >/dev/null
kubectl wait --for=condition=Established crd/servicemonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com --timeout=20s >/dev/null
"${ZKPILOT}" render "${ROOT}/packages/zookeeper" --set prometheus.enabled=true --set prometheus.operator=true > "${STATE_DIR}/zk-op.yaml"
expect_match "the package's ServiceMonitor and PrometheusRule apply" 'servicemonitor.monitoring.coreos.com/zookeeper[^ ]* serverside-applied(.|\n)*prometheusrule|prometheusrule.monitoring.coreos.com/zookeeper[^ ]* serverside-applied(.|\n)*servicemonitor' \
  "$(kubectl apply --server-side -f "${STATE_DIR}/zk-op.yaml" 2>&1)"
expect_match "and are served back" 'zookeeper' "$(kubectl get servicemonitors,prometheusrules -o name)"

kubectl delete crd backups.example.zkpilot.io >/dev/null
expect_fail "deleting the CRD stops serving it" "doesn't have a resource type|the server could not find|NotFound" \
  command kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/c3" get backups
finish
