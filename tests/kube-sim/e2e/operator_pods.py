"""The server pods of a ZooKeeperCluster as the API reports them, for the
operator_*.sh scenarios: a watch that records every change, and the analysis
of a window of that record (which servers were replaced, in which order,
whether one at a time). Runs on the host with the cluster's kubeconfig
(Debian's python3-kubernetes).

  operator_pods.py watch KUBECONFIG NAMESPACE CLUSTER OUT
      appends one JSON line per watch event of the cluster's server pods to
      OUT until killed: {"type", "name", "uid", "server", "ready", "deleting",
      "restarts", "version", "rv"}. The first line of every (re)connection is
      {"type": "SYNCED"} once the initial list has been replayed.
  operator_pods.py replaced OUT FROM_LINE
      analyses the lines after FROM_LINE (0-based count of lines to skip) and
      prints one JSON object:
        order      server ids in the order their pods started to go (a
                   deletionTimestamp set, or DELETED without one)
        per_server {id: pods of that server that went}
        overlap    deletions that began while another server's pod was absent,
                   not Ready, or going: ["server 2 went while server 1 was not ready", ...]
        created    server ids whose first pod appeared in the window
"""
import json
import sys
import time


def pod_record(event_type, pod):
    meta = pod.metadata
    status = pod.status
    ready = False
    for c in (status.conditions or []) if status else []:
        if c.type == "Ready" and c.status == "True":
            ready = True
    restarts = 0
    for cs in (status.container_statuses or []) if status else []:
        restarts += cs.restart_count or 0
    labels = meta.labels or {}
    return {
        "t": round(time.time(), 3),
        "type": event_type,
        "name": meta.name,
        "uid": meta.uid,
        "server": int(labels.get("zkpilot.io/server-id", "0") or 0),
        "version": labels.get("app.kubernetes.io/version", ""),
        "ready": ready,
        "deleting": meta.deletion_timestamp is not None,
        "restarts": restarts,
        "rv": meta.resource_version,
    }


def watch(kubeconfig, namespace, cluster, out_path):
    from kubernetes import client, config, watch as kwatch

    config.load_kube_config(config_file=kubeconfig)
    api = client.CoreV1Api()
    selector = f"app.kubernetes.io/instance={cluster},app.kubernetes.io/component=server"
    with open(out_path, "a", buffering=1) as out:
        while True:
            try:
                pods = api.list_namespaced_pod(namespace, label_selector=selector)
                for pod in pods.items:
                    out.write(json.dumps(pod_record("LISTED", pod)) + "\n")
                out.write(json.dumps({"type": "SYNCED", "t": round(time.time(), 3)}) + "\n")
                rv = pods.metadata.resource_version
                w = kwatch.Watch()
                for event in w.stream(api.list_namespaced_pod, namespace, label_selector=selector,
                                      resource_version=rv, timeout_seconds=60):
                    out.write(json.dumps(pod_record(event["type"], event["object"])) + "\n")
            except Exception as e:  # a broken stream or 410 Gone: list again
                out.write(json.dumps({"type": "ERROR", "message": str(e)[:200], "t": round(time.time(), 3)}) + "\n")
                time.sleep(0.5)


def replaced(path, from_line):
    with open(path) as f:
        lines = f.readlines()
    state = {}  # server -> {uid, ready, deleting}; what the record says before the window
    for line in lines[:from_line]:
        r = json.loads(line)
        if "server" not in r:
            continue
        if r["type"] == "DELETED":
            if state.get(r["server"], {}).get("uid") == r["uid"]:
                del state[r["server"]]
        else:
            state[r["server"]] = r
    order, per_server, overlap, created = [], {}, [], []
    gone = set()  # uids already counted
    known_servers = set(state)
    for line in lines[from_line:]:
        r = json.loads(line)
        if "server" not in r:
            continue
        s = r["server"]
        starts_going = r["uid"] not in gone and (r["deleting"] or r["type"] == "DELETED")
        if starts_going:
            gone.add(r["uid"])
            order.append(s)
            per_server[str(s)] = per_server.get(str(s), 0) + 1
            for other in sorted(known_servers - {s}):
                o = state.get(other)
                if o is None or not o["ready"] or o["deleting"]:
                    what = "absent" if o is None else "going" if o["deleting"] else "not ready"
                    overlap.append(f"server {s} went while server {other} was {what}")
        if r["type"] == "DELETED":
            if state.get(s, {}).get("uid") == r["uid"]:
                del state[s]
        else:
            if s not in known_servers:
                known_servers.add(s)
                created.append(s)
            state[s] = r
    print(json.dumps({"order": order, "per_server": per_server, "overlap": overlap, "created": created}))


def main(argv):
    if len(argv) >= 2 and argv[1] == "watch" and len(argv) == 6:
        watch(argv[2], argv[3], argv[4], argv[5])
    elif len(argv) >= 2 and argv[1] == "replaced" and len(argv) == 4:
        replaced(argv[2], int(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
