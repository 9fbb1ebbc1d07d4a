#!/usr/bin/env bash
# Watch with a second real client (Debian's python3-kubernetes): events from a
# resourceVersion in order, and 410 Gone for one older than the history.
source "$(dirname "$0")/../testlib.bash"
# A short watch history, so that the start-up writes already push RV 1 out.
KUBE_SIM_WATCH_HISTORY=20 start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default

out="$("$PY" - "${KUBECONFIG}" <<'PY'
import sys, threading, time
from kubernetes import client, config, watch
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
rv = v1.list_namespaced_config_map("default").metadata.resource_version
def writer():
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w"), data={"k": "1"})
    v1.create_namespaced_config_map("default", body)
    v1.patch_namespaced_config_map("w", "default", {"data": {"k": "2"}})
    v1.delete_namespaced_config_map("w", "default")
threading.Thread(target=writer).start()
seen = []
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=20):
    if ev["object"].metadata.name == "w":
        seen.append(ev["type"])
    if len(seen) == 3:
        w.stop()
print(",".join(seen))
try:
    for ev in watch.Watch().stream(v1.list_namespaced_config_map, "default", resource_version="1", timeout_seconds=5):
        if ev["type"] == "ERROR":
            print("error", ev["raw_object"]["code"])
            break
except client.exceptions.ApiException as e:
    print("error", e.status)
PY
)"
expect_match "watch sees ADDED, MODIFIED, DELETED in order" '^ADDED,MODIFIED,DELETED' "$out"
expect_match "a too-old resourceVersion is 410 Gone" 'error 410' "$out"

# kubectl get --watch prints a change as it happens.
kubectl create configmap kw >/dev/null
timeout 60 /usr/bin/kubectl --kubeconfig "${KUBECONFIG}" --cache-dir "${STATE_DIR}/kubectl-cache" \
  get configmap kw --watch --output-watch-events > "${STATE_DIR}/watch.out" 2>&1 &
watcher=$!
wait_until 10 "kubectl watch received the current object" grep -q '^ADDED *kw' "${STATE_DIR}/watch.out"
kubectl label configmap kw changed=yes >/dev/null
wait_until 10 "kubectl watch received the change" grep -q '^MODIFIED *kw' "${STATE_DIR}/watch.out"
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
finish
