#!/usr/bin/env bash
# kubectl exec as on a cluster: the command runs in the chosen container
# (its env, hostname and processes), stdout and stderr stay apart, the exit
# code comes back, stdin flows with -i; the API server's and the kubelet's
# errors (unknown container, a container that does not run, a completed pod)
# and RBAC's 403 read as on a real one; python3-kubernetes' stream client
# (v4.channel.k8s.io) works too.
source "$(dirname "$0")/../testlib.bash"
start_cluster
wait_until 10 "the default service account exists" kubectl get serviceaccount default

cat > "${STATE_DIR}/pods.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: a
      image: kube-sim/host:latest
      command: ["/usr/bin/sleep", "infinity"]
      env: [{name: WHO, value: first}]
    - name: b
      image: kube-sim/host:latest
      command: ["/usr/bin/sleep", "infinity"]
      env: [{name: WHO, value: second}]
      securityContext: {runAsUser: 1000}
---
apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  containers:
    - {name: main, image: "example.invalid/nothing:1.0"}
---
apiVersion: v1
kind: Pod
metadata: {name: done}
spec:
  restartPolicy: Never
  containers:
    - {name: main, image: kube-sim/host:latest, command: ["/usr/bin/true"]}
YAML
kubectl apply -f "${STATE_DIR}/pods.yaml" >/dev/null
kubectl wait --for=condition=Ready pod/two --timeout=60s >/dev/null
pass "the two-container pod is Ready"

expect_eq "the output of a command" "hello first" "$(kubectl exec two -c a -- sh -c 'echo hello $WHO' 2>/dev/null)"
expect_eq "-c chooses the container (its env and user)" "second 1000" "$(kubectl exec two -c b -- sh -c 'echo $WHO $(id -u)')"
expect_eq "the container's hostname and PID namespace" "two sleep" "$(kubectl exec two -c a -- sh -c 'echo $(hostname) $(cat /proc/1/comm)')"
out="$(kubectl exec two -- echo defaulted 2>"${STATE_DIR}/err")"
expect_eq "no -c: the first container" "defaulted" "$out"
expect_match "kubectl says which container it chose" 'Defaulted container "a" out of: a, b' "$(cat "${STATE_DIR}/err")"

out="$(kubectl exec two -c a -- sh -c 'echo to-out; echo to-err >&2' 2>"${STATE_DIR}/err")"
expect_eq "stdout stays stdout" "to-out" "$out"
expect_eq "stderr stays stderr" "to-err" "$(cat "${STATE_DIR}/err")"

rc=0
kubectl exec two -c a -- sh -c 'echo partial; exit 3' >"${STATE_DIR}/out" 2>"${STATE_DIR}/err" || rc=$?
expect_eq "the exit code propagates" 3 "$rc"
expect_eq "output before a failure arrives" "partial" "$(cat "${STATE_DIR}/out")"
expect_match "kubectl reports it" 'command terminated with exit code 3' "$(cat "${STATE_DIR}/err")"
rc=0
kubectl exec two -c a -- sh -c 'kill -9 $$' 2>/dev/null || rc=$?
expect_eq "a command killed by a signal is 128 + its number" 137 "$rc"

expect_eq "stdin with -i, its end closes the command's stdin" "HI THERE|second" \
  "$(printf 'hi\nthere\n' | kubectl exec -i two -c b -- sh -c 'tr a-z A-Z | paste -sd " "; echo "|$WHO"' | paste -sd '')"
expect_eq "without -i the command's stdin is empty" "0" "$(echo ignored | kubectl exec two -c a -- sh -c 'wc -c')"
expect_eq "a large output arrives whole" "1000000" "$(kubectl exec two -c a -- sh -c 'head -c 1000000 /dev/zero' | wc -c)"

expect_fail "an unknown container is the API server's 400" \
  'Error from server \(BadRequest\): container nope is not valid for pod two' kubectl exec two -c nope -- true
wait_until 30 "the image-less pod is waiting" \
  bash -c "kubectl get pod noimage -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -Eq 'ErrImagePull|ImagePullBackOff'"
expect_fail "a container that does not run is the kubelet's error" \
  'error: unable to upgrade connection: container not found \("main"\)' kubectl exec noimage -- true
wait_until 30 "the one-shot pod has Succeeded" bash -c "kubectl get pod done -o jsonpath='{.status.phase}' | grep -qx Succeeded"
expect_fail "a completed pod is refused" 'cannot exec into a container in a completed pod; current phase is Succeeded' \
  kubectl exec done -- true
expect_fail "a missing pod is a 404" 'pods "ghost" not found' kubectl exec ghost -- true

# RBAC: reading pods is not exec; create on pods/exec is (kubectl's SPDY
# fallback asks for it when the WebSocket's "get" is refused).
kubectl create serviceaccount reader >/dev/null
kubectl create role pod-reader --verb=get,list --resource=pods >/dev/null
kubectl create rolebinding reader --role=pod-reader --serviceaccount=default:reader >/dev/null
kubectl create serviceaccount operator >/dev/null
kubectl create role pod-exec --verb=create --resource=pods/exec >/dev/null
kubectl create rolebinding operator-read --role=pod-reader --serviceaccount=default:operator >/dev/null
kubectl create rolebinding operator-exec --role=pod-exec --serviceaccount=default:operator >/dev/null
READER="$(kubectl create token reader)"
OPERATOR="$(kubectl create token operator)"
as_token() { local t="$1"; shift; command kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/kubectl-cache-sa" --token "$t" --user "" "$@"; }
expect_fail "a service account without pods/exec gets the 403" \
  'pods "two" is forbidden: User "system:serviceaccount:default:reader" cannot create resource "pods/exec" in API group "" in the namespace "default"' \
  as_token "$READER" exec two -c a -- true
expect_eq "one with create on pods/exec may exec" "allowed" "$(as_token "$OPERATOR" exec two -c a -- echo allowed)"
# (a request's log line is written when its connection closes)
LOG="${STATE_DIR}/kube-sim.log"
wait_until 5 "the access log has the refused WebSocket (GET)" \
  grep -Eq 'GET /api/v1/namespaces/default/pods/two/exec[^ ]* 403 [^ ]* system:serviceaccount:default:reader' "$LOG"
wait_until 5 "and the refused SPDY fallback (POST)" \
  grep -Eq 'POST /api/v1/namespaces/default/pods/two/exec[^ ]* 403 [^ ]* system:serviceaccount:default:reader' "$LOG"
wait_until 5 "the permitted one upgraded (101)" \
  grep -Eq 'GET /api/v1/namespaces/default/pods/two/exec[^ ]* 101 [^ ]* system:serviceaccount:default:operator' "$LOG"

# Another client of the protocol: python3-kubernetes speaks v4.channel.k8s.io.
out="$("${PY}" - "${KUBECONFIG}" <<'PY'
import sys
from kubernetes import client, config
from kubernetes.stream import stream
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
ws = stream(v1.connect_get_namespaced_pod_exec, "two", "default", container="b",
            command=["sh", "-c", "echo py $WHO; echo oops >&2; exit 5"],
            stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
ws.run_forever(timeout=20)
print("out=" + ws.read_stdout().strip(), "err=" + ws.read_stderr().strip(), "rc=" + str(ws.returncode))
PY
)"
expect_eq "python3-kubernetes' stream: output, stderr and exit code" "out=py second err=oops rc=5" "$out"

finish
