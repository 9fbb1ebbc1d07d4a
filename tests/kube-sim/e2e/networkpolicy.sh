#!/usr/bin/env bash
# NetworkPolicy is enforced: the default package's policy with the election
# port (3888) left out keeps a new ensemble from forming — the servers cannot
# open election channels to each other and none becomes Ready — and the
# package's real policy, applied over it, lets the same pods form a quorum.
source "$(dirname "$0")/../testlib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default

"${ZKPILOT}" render "${ROOT}/packages/zookeeper" --set replicas=3 > "${STATE_DIR}/zk.yaml"
# The same objects, with the election port dropped from the NetworkPolicy.
"$PY" - "${STATE_DIR}/zk.yaml" > "${STATE_DIR}/zk-no-election.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
for d in docs:
    if d["kind"] == "NetworkPolicy":
        for rule in d["spec"]["ingress"]:
            rule["ports"] = [p for p in rule.get("ports", []) if p["port"] != 3888]
print(yaml.safe_dump_all(docs))
PY
grep -q 3888 <(sed -n '/kind: NetworkPolicy/,/^---/p' "${STATE_DIR}/zk-no-election.yaml") && fail "the election port is still in the policy"
kubectl apply --server-side -f "${STATE_DIR}/zk-no-election.yaml" >/dev/null

blocked() { kubectl logs zookeeper-3-0 2>/dev/null | grep -q "Cannot open channel to [12] at election address"; }
wait_until 180 "server 3 cannot reach the others' election port" blocked
HEADLESS=zookeeper-headless.default.svc.cluster.local
zk() { "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "$PY" "$(dirname "$0")/zk_check.py" "$@"; }
modes="$(zk modes "zookeeper-1-0.${HEADLESS}:2181,zookeeper-2-0.${HEADLESS}:2181,zookeeper-3-0.${HEADLESS}:2181")"
expect_eq "no server serves (no leader elected)" 0 "$(grep -cE ' (leader|follower)$' <<<"$modes")"
expect_eq "no server pod is Ready" 0 \
  "$(kubectl get pods -l app.kubernetes.io/component=server \
     -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)"

kubectl apply --server-side -f "${STATE_DIR}/zk.yaml" >/dev/null
expect_match "with the election port allowed, the ensemble forms" 'condition met' \
  "$(kubectl wait --for=condition=Ready pod -l app.kubernetes.io/component=server --timeout=300s)"
finish
