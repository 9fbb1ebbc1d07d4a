#!/usr/bin/env bash
# A server that takes long to start (loading a large snapshot) is not killed:
# the startup probe holds the liveness probe back for up to
# startupTimeoutSeconds. The slow start is real: the JVM is held at its very
# start (HotSpot's PauseAtStartup waits until a file is removed), so ZooKeeper
# answers nothing, as while it loads a snapshot.
#
# Three single-server clusters start paused side by side:
#   slow     - the package's manifests, startupTimeoutSeconds=600: never
#              restarted while paused, well past the liveness probe's budget;
#              Ready once released;
#   short    - startupTimeoutSeconds=10: the startup probe restarts it;
#   nostartup - the package's manifests without the startup probe: the
#              liveness probe kills it, as it did before the startup probe.
source "$(dirname "$0")/../testlib.bash"
exec 3>&2  # the test's stderr, for failures found inside wait_until's silenced polls
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default

PAUSE=/data/paused
PAUSED="-XX:+UnlockDiagnosticVMOptions -XX:+PauseAtStartup -XX:PauseAtStartupFile=${PAUSE}"
render() {
  "${ZKPILOT}" render "${ROOT}/packages/zookeeper" --set replicas=1 --set "jvmFlags=${PAUSED}" --name "$@"
}
render slow > "${STATE_DIR}/slow.yaml"
render short --set startupTimeoutSeconds=10 > "${STATE_DIR}/short.yaml"
render nostartup > "${STATE_DIR}/nostartup.yaml"
"$PY" - "${STATE_DIR}/nostartup.yaml" <<'EOF'
import sys, yaml
path = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
for d in docs:
    if d["kind"] == "StatefulSet":
        del d["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
yaml.safe_dump_all(docs, open(path, "w"))
EOF
expect_match "the rendered servers have a startup probe" 'startupProbe:' "$(cat "${STATE_DIR}/slow.yaml")"

restarts() { kubectl get pod "$1-1-0" -o jsonpath='{.status.containerStatuses[0].restartCount}' 2>/dev/null; }
started_at() { kubectl get pod "$1-1-0" -o jsonpath='{.status.containerStatuses[0].state.running.startedAt}' 2>/dev/null; }
paused() { kubectl exec "$1-1-0" -- test -e "${PAUSE}"; }

for c in slow short nostartup; do kubectl apply --server-side -f "${STATE_DIR}/${c}.yaml" >/dev/null; done
for c in slow short nostartup; do wait_until 120 "${c}: the JVM starts and is held at its start" paused "$c"; done

# The liveness probe's budget (failureThreshold x periodSeconds) from the
# rendered manifest; the paused server must outlive it by a margin.
budget="$("$PY" - "${STATE_DIR}/slow.yaml" <<'EOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "StatefulSet":
        p = d["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
        print(p.get("initialDelaySeconds", 0) + p["periodSeconds"] * p["failureThreshold"])
EOF
)"
start="$(date -d "$(started_at slow)" +%s)"
outlived() {
  [[ "$(restarts slow)" == 0 ]] ||
    fail "slow: restarted while starting: $(kubectl get events --field-selector involvedObject.name=slow-1-0 -o jsonpath='{.items[*].message}')" 2>&3
  (($(date +%s) - start > budget + 20))
}
wait_until $((budget + 200)) "slow: held at its start for longer than the liveness budget (${budget} s), not restarted" outlived
wait_until 120 "nostartup: without a startup probe, the liveness probe restarts it" \
  bash -c "[[ \$(command kubectl --kubeconfig ${KUBECONFIG} get pod nostartup-1-0 -o jsonpath='{.status.containerStatuses[0].restartCount}') -ge 1 ]]"
expect_match "nostartup: killed by the liveness probe" 'failed liveness probe' \
  "$(kubectl get events --field-selector involvedObject.name=nostartup-1-0 -o jsonpath='{.items[*].message}')"
wait_until 120 "short: the startup probe restarts a server slower than startupTimeoutSeconds" \
  bash -c "[[ \$(command kubectl --kubeconfig ${KUBECONFIG} get pod short-1-0 -o jsonpath='{.status.containerStatuses[0].restartCount}') -ge 1 ]]"
expect_match "short: killed by the startup probe" 'failed startup probe' \
  "$(kubectl get events --field-selector involvedObject.name=short-1-0 -o jsonpath='{.items[*].message}')"
expect_eq "slow: not started yet" false "$(kubectl get pod slow-1-0 -o jsonpath='{.status.containerStatuses[0].started}')"

# Released, it starts and becomes Ready without ever having been restarted.
kubectl exec slow-1-0 -- rm -f "${PAUSE}"
expect_match "slow: Ready once it has started" 'condition met' \
  "$(kubectl wait --for=condition=Ready pod/slow-1-0 --timeout=180s)"
expect_eq "slow: never restarted" 0 "$(restarts slow)"
finish
