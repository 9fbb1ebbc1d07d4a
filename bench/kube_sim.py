#!/usr/bin/env python3
"""bench/kube-sim: the Kubernetes test cluster's start-up and time to a Ready
ZooKeeper ensemble, against the local platform's deploy of the same ensemble.

Per repetition (alternating, so that both see the same machine state):

  start     `kube-sim start --state-dir DIR` from spawn to exit (it returns once
            the API answers /readyz with the admin token); then
  apply     `zkpilot render packages/zookeeper --set replicas=N` piped into
            `kubectl apply --server-side -f -`, timed from the render's spawn
            until every server pod's Ready condition is True (kubectl get, polled
            every 100 ms) — the cluster then has a quorum, since readiness is
            `srvr` saying leader or follower; then
  stop      `kube-sim stop`, from spawn to exit (every JVM and namespace gone).
  local     `zkpilot deploy NAME packages/zookeeper --set replicas=N
            --set clientPort=BASE` in a fresh ZKPILOT_HOME, from spawn to exit
            (it returns once the ensemble is healthy), then
            `zkpilot delete NAME --purge-data`. This is what a user of the local
            platform runs for the same ensemble.

Needs root (kube-sim). Every process is ended and every directory removed, also
on error. Uses only the Python standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
KUBE_SIM = os.path.join(ROOT, "tests", "kube-sim", "kube-sim")


def timed(argv, **kw):
    t0 = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.monotonic() - t0


def ready_pods(kubeconfig):
    out = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "--cache-dir", os.path.join(os.path.dirname(kubeconfig), "kubectl-cache"),
         "get", "pods", "-l",
         "app.kubernetes.io/component=server", "-o", "json"],
        check=True, capture_output=True, text=True).stdout
    n = 0
    for pod in json.loads(out)["items"]:
        for c in (pod.get("status") or {}).get("conditions") or []:
            if c["type"] == "Ready" and c["status"] == "True":
                n += 1
    return n


def kube_sim_run(zkpilot, servers, timeout):
    state = tempfile.mkdtemp(prefix="bench-kube-sim.")
    try:
        start = timed([KUBE_SIM, "start", "--state-dir", state])
        kubeconfig = os.path.join(state, "kubeconfig")
        t0 = time.monotonic()
        render = subprocess.Popen([zkpilot, "render", os.path.join(ROOT, "packages", "zookeeper"),
                                   "--set", f"replicas={servers}"], stdout=subprocess.PIPE)
        subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "--cache-dir", os.path.join(state, "kubectl-cache"),
                        "apply", "--server-side", "-f", "-"],
                       stdin=render.stdout, check=True, stdout=subprocess.DEVNULL)
        render.stdout.close()
        if render.wait() != 0:
            raise RuntimeError("zkpilot render failed")
        deadline = t0 + timeout
        while ready_pods(kubeconfig) < servers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no Ready ensemble within {timeout} s (see {state}/kube-sim.log)")
            time.sleep(0.1)
        apply = time.monotonic() - t0
        stop = timed([KUBE_SIM, "stop", "--state-dir", state])
        return start, apply, stop
    finally:
        subprocess.run([KUBE_SIM, "stop", "--state-dir", state], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(state, ignore_errors=True)


def free_port_block(size):
    """A base port whose next `size` ports are free on 127.0.0.1."""
    for base in range(21000, 60000, 100):
        ok = True
        for p in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port block")


def local_run(zkpilot, servers, timeout):
    home = tempfile.mkdtemp(prefix="bench-kube-sim-local.")
    env = dict(os.environ, ZKPILOT_HOME=home)
    env.setdefault("ZKPILOT_DISTRIBUTIONS", os.path.expanduser("~/.local/state/zkpilot/distributions"))
    name = "bench"
    try:
        base = free_port_block(10 * servers + 10)
        return timed([zkpilot, "deploy", name, os.path.join(ROOT, "packages", "zookeeper"),
                      "--set", f"replicas={servers}", "--set", f"clientPort={base}",
                      "--set", "tls.enabled=false", "--set", "auth.enabled=false",
                      "--timeout", str(timeout)], env=env, stderr=subprocess.DEVNULL)
    finally:
        subprocess.run([zkpilot, "delete", name, "--purge-data"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(home, ignore_errors=True)


def row(name, values):
    return (f"| {name:<44} | {statistics.median(values):8.2f} | {min(values):8.2f} | "
            f"{max(values):8.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zkpilot", default=os.path.join(ROOT, "build", "zkpilot"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/kube-sim: needs root (kube-sim uses network namespaces)")
    starts, applies, stops, locals_ = [], [], [], []
    for i in range(args.runs):
        s, a, t = kube_sim_run(args.zkpilot, args.servers, args.timeout)
        starts.append(s)
        applies.append(a)
        stops.append(t)
        locals_.append(local_run(args.zkpilot, args.servers, args.timeout))
        print(f"run {i + 1}/{args.runs}: start {s:.2f} s, apply to Ready {a:.2f} s, stop {t:.2f} s, "
              f"local deploy {locals_[-1]:.2f} s", file=sys.stderr)
    n = args.servers
    print(f"bench/kube-sim: {args.runs} runs, {n} servers, {os.cpu_count()} cores (seconds)")
    print(f"| {'what':<44} | {'median':>8} | {'min':>8} | {'max':>8} |")
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    print(row("kube-sim start to API ready", starts))
    print(row(f"render | kubectl apply to {n} Ready pods", applies))
    print(row(f"zkpilot deploy (local platform), {n} servers", locals_))
    print(row("kube-sim stop (pods terminated, all removed)", stops))


if __name__ == "__main__":
    main()
