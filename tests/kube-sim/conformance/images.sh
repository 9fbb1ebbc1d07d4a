#!/usr/bin/env bash
# The image table: the ZooKeeper images have the official images' layout and
# environment (so rendered commands run unchanged), zkpilot's image runs the
# built binary as a non-root user, and an unknown image does not pull.
source "$(dirname "$0")/../testlib.bash"
start_cluster
wait_until 10 "the default service account exists" kubectl get serviceaccount default

layout_pod() { # NAME IMAGE
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: $2
      command: ["bash", "-c"]
      args: ['echo "dir=\$(pwd) conf=\$ZOO_CONF_DIR data=\$ZOO_DATA_DIR logs=\$ZOO_LOG_DIR uid=\$(id -u) server=\$(command -v zkServer.sh) user=\$(getent passwd 1000 | cut -d: -f1)"']
YAML
}
{ layout_pod zk380 zookeeper:3.8.0; echo ---; layout_pod zk393 docker.io/library/zookeeper:3.9.3; } > "${STATE_DIR}/layout.yaml"
cat >> "${STATE_DIR}/layout.yaml" <<'YAML'
---
apiVersion: v1
kind: Pod
metadata: {name: zkpilot}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true}
  containers:
    - name: main
      image: ghcr.io/zkpilot/zkpilot:0.1.0
      args: ["--version"]
YAML
kubectl apply -f "${STATE_DIR}/layout.yaml" >/dev/null
for p in zk380 zk393 zkpilot; do
  kubectl wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$p" --timeout=60s >/dev/null
done
expect_eq "zookeeper:3.8.0 has the official image's layout" \
  "dir=/apache-zookeeper-3.8.0-bin conf=/conf data=/data logs=/logs uid=0 server=/apache-zookeeper-3.8.0-bin/bin/zkServer.sh user=zookeeper" \
  "$(kubectl logs zk380)"
expect_eq "zookeeper:3.9.3 has the official image's layout" \
  "dir=/apache-zookeeper-3.9.3-bin conf=/conf data=/data logs=/logs uid=0 server=/apache-zookeeper-3.9.3-bin/bin/zkServer.sh user=zookeeper" \
  "$(kubectl logs zk393)"
expect_match "zkpilot's image runs the built binary as a non-root user" "^zkpilot $("${ZKPILOT}" --version | awk '{print $2}')$" "$(kubectl logs zkpilot)"
finish
