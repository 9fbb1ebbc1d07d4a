#!/usr/bin/env bash
# Renders the default package (packages/zookeeper) for a set of value
# combinations and validates every object against the Kubernetes and
# prometheus-operator schemas plus range and reference checks (validate.js).
#
# Usage: tests/k8s-schema/run.sh ZKPILOT_BINARY REPO_ROOT
#
# Installs the pinned node modules (npm ci) on first use. Exits non-zero when
# any combination fails to render or to validate; the last line counts the
# combinations: "k8s-schema: N passed, M failed".
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 ZKPILOT_BINARY REPO_ROOT" >&2
  exit 2
fi
zkpilot="$(realpath "$1")"
root="$(realpath "$2")"
here="${root}/tests/k8s-schema"
package="${root}/packages/zookeeper"

if [[ ! -x "${zkpilot}" ]]; then
  echo "k8s-schema: ${zkpilot} is not an executable" >&2
  exit 2
fi
if [[ ! -d "${here}/node_modules" ]]; then
  (cd "${here}" && npm ci --no-audit --no-fund --loglevel=error)
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

passed=0
failed=0
failures=()

# check NAME EXPECTATIONS -- RENDER_ARGS...
#   EXPECTATIONS: space-separated KIND=N counts for validate.js --expect.
check() {
  local name="$1" expectations="$2"
  if [[ "${3:-}" != "--" ]]; then
    echo "run.sh: check ${name}: expected -- before the render arguments" >&2
    exit 2
  fi
  shift 3
  local out="${work}/${name}.json"
  local expect_args=()
  local e
  for e in ${expectations}; do
    expect_args+=(--expect "${e}")
  done
  echo "=== ${name}: zkpilot render packages/zookeeper $*"
  if ! "${zkpilot}" render "${package}" --format json "$@" >"${out}" 2>"${work}/${name}.err"; then
    cat "${work}/${name}.err"
    echo "FAIL ${name}: render failed"
    failed=$((failed + 1))
    failures+=("${name}")
    return
  fi
  if node "${here}/validate.js" "${expect_args[@]}" "${out}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("${name}")
  fi
}

check defaults \
  "StatefulSet=3 Deployment=0 PersistentVolumeClaim=0 ConfigMap=1 Service=2 PodDisruptionBudget=1 NetworkPolicy=1 ServiceAccount=1" --

check single-server "StatefulSet=1 Deployment=0" -- \
  --set replicas=1

check deployment-5 "StatefulSet=0 Deployment=5 PersistentVolumeClaim=5" -- \
  --set replicas=5 --set controller=deployment

check all-addons "StatefulSet=3 Deployment=4 ConfigMap=7 Service=6 ServiceMonitor=0 PrometheusRule=0" -- \
  --set zoonavigator.enabled=true --set zoonavigator.readOnly=false --set prometheus.enabled=true \
  --set alertmanager.enabled=true --set grafana.enabled=true

check prometheus-operator "StatefulSet=3 Deployment=0 ServiceMonitor=1 PrometheusRule=1" -- \
  --set prometheus.enabled=true --set prometheus.operator=true

check no-networkpolicy-no-serviceaccount "NetworkPolicy=0 ServiceAccount=0 StatefulSet=3" -- \
  --set networkPolicy.enabled=false --set serviceAccount.create=false

check storageclass-cpu-limit "StatefulSet=3" -- \
  --set storage.storageClass=fast --set resources.limits.cpu=2

# TLS: each server's Secret volume (0440) and its mount, the probes' port.
check tls "StatefulSet=3 ConfigMap=1" -- \
  --set tls.enabled=true
check tls-deployment-ports "Deployment=3 PersistentVolumeClaim=3" -- \
  --set tls.enabled=true --set controller=deployment --set tls.probePort=12182 --set clientPort=12181

# Beyond the basic matrix: the remaining switches of the templates.
check restricted-clients "StatefulSet=3 Deployment=1 NetworkPolicy=1" -- \
  --set networkPolicy.allowExternal=false --set zoonavigator.enabled=true --set zoonavigator.readOnly=false

check operator-with-grafana "ServiceMonitor=1 PrometheusRule=1 Deployment=1" -- \
  --set prometheus.enabled=true --set prometheus.operator=true --set grafana.enabled=true \
  --set grafana.prometheusUrl=http://prometheus-operated.monitoring.svc:9090

check operator-without-alerts "ServiceMonitor=1 PrometheusRule=0" -- \
  --set prometheus.enabled=true --set prometheus.operator=true --set alerts.enabled=false

check prometheus-without-alerts "Deployment=1 ConfigMap=2" -- \
  --set prometheus.enabled=true --set alerts.enabled=false

check pod-settings "StatefulSet=3" -- \
  --set dataLogDir=/datalog --set metrics.enabled=false --set antiAffinity=hard \
  --set 'nodeSelector={disk: ssd}' \
  --set 'tolerations=[{key: dedicated, operator: Equal, value: zookeeper, effect: NoSchedule}]' \
  --set 'podAnnotations={example.com/team: storage}' \
  --set serviceAccount.name=zk-servers --set jvmFlags=-XX:+UseG1GC \
  --set resources.requests.cpu= --set resources.requests.memory= --set resources.limits.memory= \
  --set image.repository=registry.example.com/zookeeper --set version=3.9.3

check external-account-no-affinity "ServiceAccount=0 StatefulSet=3" -- \
  --set serviceAccount.create=false --set serviceAccount.name=existing-account --set antiAffinity=none

check named-cluster-ports "StatefulSet=7" -- \
  --name orders-zk --namespace data-platform --set replicas=7 \
  --set clientPort=12181 --set quorumPort=12888 --set electionPort=13888 \
  --set adminServerPort=18080 --set metricsPort=17000 --set service.type=LoadBalancer \
  --set clusterDomain=example.internal --set podDisruptionBudget.maxUnavailable=2

check deployment-all-addons "Deployment=7 PersistentVolumeClaim=3" -- \
  --set controller=deployment --set zoonavigator.enabled=true --set zoonavigator.readOnly=false --set prometheus.enabled=true \
  --set alertmanager.enabled=true --set grafana.enabled=true --set storage.storageClass=fast

# Pinned images, pull secrets on every pod, a load balancer limited to
# source ranges with annotations.
d64=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
check pinned-images-load-balancer "StatefulSet=3 Deployment=4 Service=6" -- \
  --set image.digest=sha256:${d64} --set prometheus.imageDigest=sha256:${d64} \
  --set alertmanager.imageDigest=sha256:${d64} --set grafana.imageDigest=sha256:${d64} \
  --set zoonavigator.imageDigest=sha256:${d64} --set 'imagePullSecrets=[regcred, mirror-creds]' \
  --set service.type=LoadBalancer --set 'service.loadBalancerSourceRanges=[10.0.0.0/8, 192.168.0.0/16]' \
  --set 'service.annotations={service.beta.kubernetes.io/aws-load-balancer-internal: "true"}' \
  --set zoonavigator.enabled=true --set zoonavigator.readOnly=false --set prometheus.enabled=true \
  --set alertmanager.enabled=true --set grafana.enabled=true

# The longest cluster name zkpilot accepts (40) and the most servers (255):
# every derived name and label must still fit its limit.
check longest-names "StatefulSet=255" -- \
  --name zk-abcdefghijklmnopqrstuvwxyz-0123456789 --namespace a-namespace-with-a-rather-long-name-for-testing-63-chars-max \
  --set replicas=255 --set networkPolicy.allowExternal=false --set zoonavigator.enabled=true --set zoonavigator.readOnly=false \
  --set prometheus.enabled=true --set alertmanager.enabled=true --set grafana.enabled=true

echo
if [[ ${failed} -gt 0 ]]; then
  echo "failed combinations: ${failures[*]}"
fi
echo "k8s-schema: ${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
