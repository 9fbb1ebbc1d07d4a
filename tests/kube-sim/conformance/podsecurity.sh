#!/usr/bin/env bash
# Pod Security admission: in a namespace labelled
# pod-security.kubernetes.io/enforce=restricted a pod that breaks the
# restricted profile is refused with the real API server's 403 (to kubectl
# and, for a controller's pod, as a FailedCreate event), a compliant one runs,
# and a namespace without the label admits both. The compliant pod's root is
# read-only (readOnlyRootFilesystem) while its emptyDir is writable.
source "$(dirname "$0")/../testlib.bash"
start_cluster
kubectl create namespace locked >/dev/null
kubectl label namespace locked pod-security.kubernetes.io/enforce=restricted >/dev/null
kubectl create namespace open >/dev/null
wait_until 10 "the default service accounts exist" \
  bash -c 'kubectl get serviceaccount default -n locked && kubectl get serviceaccount default -n open'

loose_pod() { # NAME
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: kube-sim/host:1
      command: ["true"]
      ports: [{containerPort: 8080, hostPort: 8080}]
  volumes:
    - name: host
      hostPath: {path: /etc}
YAML
}

loose_pod loose > "${STATE_DIR}/loose.yaml"
expect_fail "a violating pod is refused with the API server's message" \
  '^Error from server \(Forbidden\): error when creating ".*/loose.yaml": pods "loose" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "main" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities \(container "main" must set securityContext.capabilities.drop=\["ALL"\]\), hostPort \(container "main" uses hostPort 8080\), restricted volume types \(volume "host" uses restricted volume type "hostPath"\), runAsNonRoot != true \(pod or container "main" must set securityContext.runAsNonRoot=true\), seccompProfile \(pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"\)$' \
  kubectl apply -n locked -f "${STATE_DIR}/loose.yaml"
absent pod loose -n locked && pass "nothing was stored"

kubectl apply -n open -f "${STATE_DIR}/loose.yaml" >/dev/null
pass "a namespace without the label admits the same pod"

# One container fixed, an init container not: the refusal names only it.
cat <<'YAML' | kubectl apply -n locked -f - >/dev/null 2>"${STATE_DIR}/init.err" && fail "a pod with a loose init container was admitted" || true
apiVersion: v1
kind: Pod
metadata: {name: loose-init}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  initContainers:
    - {name: setup, image: kube-sim/host:1, command: ["true"]}
  containers:
    - name: main
      image: kube-sim/host:1
      command: ["true"]
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: ["ALL"]}}
YAML
expect_match "an init container counts like any container" \
  'violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "setup" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities \(container "setup" must set securityContext.capabilities.drop=\["ALL"\]\)$' \
  "$(cat "${STATE_DIR}/init.err")"

# A Deployment is admitted; its ReplicaSet's pod is refused, as the
# ReplicaSet controller reports it.
cat <<'YAML' | kubectl apply -n locked -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: kube-sim/host:1, command: ["sleep", "600"]}
YAML
wait_until 30 "the controller's pod is refused: FailedCreate names the violation" \
  bash -c "kubectl get events -n locked --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' --kubeconfig '${KUBECONFIG}' | grep -q 'Error creating: pods \"web-[a-z0-9-]*\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false'"
expect_eq "no pod of the Deployment exists" "" "$(kubectl get pods -n locked -l app=web -o name)"

# A compliant pod runs, with a read-only root and a writable emptyDir.
cat <<'YAML' | kubectl apply -n locked -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: tight}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: main
      image: kube-sim/host:1
      command: ["bash", "-c", "touch /opt/x 2>/dev/null && echo root-writable || echo root-read-only; touch /scratch/x && echo scratch-writable"]
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {drop: ["ALL"]}
      volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes:
    - {name: scratch, emptyDir: {}}
YAML
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/tight -n locked --timeout=60s >/dev/null
expect_eq "a compliant pod runs with a read-only root and a writable emptyDir" \
  "root-read-only scratch-writable" "$(kubectl logs tight -n locked | tr '\n' ' ' | sed 's/ $//')"
finish
