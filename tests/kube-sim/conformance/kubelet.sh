#!/usr/bin/env bash
# The kubelet as a pod sees it: a ConfigMap change reaches a running pod's
# files; a failing liveness probe restarts the container; a crashing one backs
# off (CrashLoopBackOff); runAsNonRoot with a root image user is refused;
# runAsUser, fsGroup, a read-only root and the service-account token are as
# on a cluster; an unknown image fails to pull.
source "$(dirname "$0")/../testlib.bash"
KUBE_SIM_BACKOFF_BASE_MS=500 start_cluster
wait_until 10 "the default service account exists" kubectl get serviceaccount default

cat > "${STATE_DIR}/pods.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {setting: "one"}
---
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  terminationGracePeriodSeconds: 3
  securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000}
  containers:
    - name: main
      image: kube-sim/host:latest
      command: ["/usr/bin/bash", "-c", "trap 'echo got TERM > /keep/term; exit 0' TERM; while true; do echo \"setting=$(cat /cfg/setting)\"; sleep 0.2; done"]
      securityContext: {readOnlyRootFilesystem: true}
      volumeMounts:
        - {name: cfg, mountPath: /cfg}
        - {name: keep, mountPath: /keep}
  volumes:
    - {name: cfg, configMap: {name: cfg}}
    - {name: keep, persistentVolumeClaim: {claimName: keep}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: keep}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: unhealthy}
spec:
  containers:
    - name: main
      image: kube-sim/host:latest
      command: ["/usr/bin/bash", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep infinity"]
      livenessProbe:
        exec: {command: ["/usr/bin/test", "-e", "/tmp/healthy"]}
        periodSeconds: 1
        failureThreshold: 2
---
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
    - name: main
      image: kube-sim/host:latest
      command: ["/usr/bin/bash", "-c", "echo crashing; exit 3"]
---
apiVersion: v1
kind: Pod
metadata: {name: rootless}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
    - name: main
      image: kube-sim/host:latest
      command: ["/usr/bin/sleep", "infinity"]
---
apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  containers:
    - {name: main, image: "example.invalid/nothing:1.0"}
YAML
kubectl apply -f "${STATE_DIR}/pods.yaml" >/dev/null
expect_match "the reader pod is Ready" 'condition met' "$(kubectl wait --for=condition=Ready pod/reader --timeout=60s)"
# Exec is not served by the double: read the pod's view through its log instead.
cat > "${STATE_DIR}/probe.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: whoami}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000}
  restartPolicy: Never
  containers:
    - name: main
      image: kube-sim/host:latest
      command: ["/usr/bin/bash", "-c"]
      args:
        - |
          echo "id=$(id -u):$(id -g) groups=$(id -G)"
          touch /rootfile 2>/dev/null && echo "root=writable" || echo "root=readonly"
          touch /scratch/f && echo "scratch=writable"
          touch /sub/f && echo "subpath=writable"
          echo "scratch-group=$(stat -c %g /scratch)"
          echo "ns=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)"
          test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo token=present
          echo "hostname=$(hostname)"
      securityContext: {readOnlyRootFilesystem: true}
      volumeMounts:
        - {name: scratch, mountPath: /scratch}
        - {name: scratch, mountPath: /sub, subPath: made/by/kubelet}
  volumes: [{name: scratch, emptyDir: {}}]
YAML
kubectl apply -f "${STATE_DIR}/probe.yaml" >/dev/null
expect_match "a run-once pod succeeds" 'condition met' \
  "$(kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/whoami --timeout=60s)"
log="$(kubectl logs whoami)"
expect_match "runAsUser/runAsGroup and fsGroup as a supplementary group" 'id=1000:1000 groups=1000 2000' "$log"
expect_match "readOnlyRootFilesystem" 'root=readonly' "$log"
expect_match "an emptyDir is writable" 'scratch=writable' "$log"
expect_match "volumes belong to the fsGroup" 'scratch-group=2000' "$log"
expect_match "a missing subPath is created, writable by the fsGroup" 'subpath=writable' "$log"
expect_match "the service-account token is mounted" 'ns=default.*token=present' "$(tr '\n' ' ' <<<"$log")"
expect_match "the hostname is the pod's name" 'hostname=whoami' "$log"

# Logs follow a running container: three new lines arrive after the last one.
followed="$(timeout 30 /usr/bin/kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/kubectl-cache" \
  logs -f --tail=1 reader | head -n 4 || true)"
expect_eq "logs -f --tail=1 streams new lines" 4 "$(grep -c '^setting=one$' <<<"$followed")"

# A ConfigMap change reaches the running pod's mounted file.
kubectl patch configmap cfg --type merge -p '{"data":{"setting":"two"}}' >/dev/null
sees_two() { [[ "$(kubectl logs reader --tail=1)" == "setting=two" ]]; }
wait_until 90 "the ConfigMap change reaches the running pod's file" sees_two

# Liveness: the container is restarted.
restarted() { [[ "$(kubectl get pod unhealthy -o jsonpath='{.status.containerStatuses[0].restartCount}')" -ge 1 ]]; }
wait_until 60 "a failing liveness probe restarts the container" restarted
expect_match "the event says why" 'Liveness probe failed' "$(kubectl get events --field-selector involvedObject.name=unhealthy -o jsonpath='{.items[*].message}')"

# Crash loop.
backoff() { [[ "$(kubectl get pod crasher -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}')" == CrashLoopBackOff ]]; }
wait_until 60 "a crashing container goes to CrashLoopBackOff" backoff
expect_eq "with the exit code in lastState" 3 "$(kubectl get pod crasher -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode}')"
expect_match "logs -p shows the previous run" 'crashing' "$(kubectl logs crasher -p)"

# runAsNonRoot with an image whose user is root.
refused() { [[ "$(kubectl get pod rootless -o jsonpath='{.status.containerStatuses[0].state.waiting.message}')" == *"runAsNonRoot and image will run as root"* ]]; }
wait_until 30 "runAsNonRoot with a root image user is refused" refused
pull() { [[ "$(kubectl get pod noimage -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}')" =~ ErrImagePull|ImagePullBackOff ]]; }
wait_until 30 "an unknown image fails to pull" pull

# Graceful termination: the container's TERM trap runs (it writes to the claim,
# which a second pod then reads).
kubectl delete pod reader --timeout=30s >/dev/null
cat > "${STATE_DIR}/after.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: after}
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: kube-sim/host:latest
      command: ["/usr/bin/cat", "/keep/term"]
      volumeMounts: [{name: keep, mountPath: /keep}]
  volumes: [{name: keep, persistentVolumeClaim: {claimName: keep}}]
YAML
kubectl apply -f "${STATE_DIR}/after.yaml" >/dev/null
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/after --timeout=60s >/dev/null
expect_match "SIGTERM reached the container, and the claim outlived the pod" 'got TERM' "$(kubectl logs after)"
pv_dir="$(kubectl get pv "$(kubectl get pvc keep -o jsonpath='{.spec.volumeName}')" -o jsonpath='{.spec.hostPath.path}')"
[[ -d "$pv_dir" ]] || fail "the claim's directory ${pv_dir} does not exist"
kubectl delete pod after >/dev/null
kubectl delete pvc keep --timeout=60s >/dev/null
dir_gone() { [[ ! -e "$pv_dir" ]]; }
wait_until 30 "a deleted claim's directory is removed" dir_gone
finish
