#!/usr/bin/env python3
"""bench/kube: zkpilot on Kubernetes (the test cluster, tests/kube-sim) —
time from `zkpilot deploy --platform kubernetes` to a healthy ensemble
against applying the rendered manifests with kubectl and waiting for Ready,
and the operator's memory and CPU while idle and during a roll.

Per repetition, on a fresh test cluster (`kube-sim start`):

  operator  `zkpilot operator manifests packages/zookeeper` piped
            into `kubectl apply --server-side -f -`, timed until
            `kubectl rollout status deployment/zkpilot-operator` returns (the
            operator's pod runs the zkpilot binary under test).
  zkpilot   `zkpilot --platform kubernetes -n bench deploy bench
            packages/zookeeper --set replicas=N`, from spawn to exit: the
            command returns once the operator's deploy operation succeeded
            (every server following the leader, caught up; the deploy hooks
            run).
  idle      the operator process, sampled every 0.5 s for --idle seconds
            after the deploy: RSS (VmRSS of /proc/PID/status) and CPU
            (utime+stime of /proc/PID/stat over wall time, % of one core).
  roll      `zkpilot upgrade bench --version 3.9.3` (a leader-last roll of
            every server), from spawn to exit, sampling the operator likewise.
            Then `zkpilot delete bench --purge-data`.
  kubectl   what a user would otherwise run: `zkpilot render packages/zookeeper
            --set replicas=N -n baseline | kubectl apply --server-side -f -`,
            then `kubectl wait --for=condition=Ready pod -l
            app.kubernetes.io/component=server` once the N pods exist, timed
            from the render's spawn to the wait's exit (readiness is `srvr`
            reporting leader or follower).

The operator runs as a process of this machine inside its pod's namespaces;
it is found by scanning /proc for the `zkpilot operator` command line with
the pod's POD_NAME in its environment. Needs root (kube-sim). Every process
and directory is cleaned up, also on error. Python standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
KUBE_SIM = os.path.join(ROOT, "tests", "kube-sim", "kube-sim")
PACKAGE = os.path.join(ROOT, "packages", "zookeeper")
CLK_TCK = os.sysconf("SC_CLK_TCK")
NS = "bench"
BASELINE_NS = "baseline"
CLUSTER = "bench"


class Cluster:
    """A kube-sim cluster in a temporary state directory, with kubectl and
    zkpilot pointed at it."""

    def __init__(self, zkpilot: str):
        self.zkpilot = zkpilot
        self.state = tempfile.mkdtemp(prefix="bench-kube.")
        self.kubeconfig = os.path.join(self.state, "kubeconfig")
        self.env = dict(os.environ, ZKPILOT_BINARY=os.path.abspath(zkpilot), KUBECONFIG=self.kubeconfig)
        self.env.setdefault("KUBE_SIM_BACKOFF_BASE_MS", "300")

    def __enter__(self):
        subprocess.run([KUBE_SIM, "start", "--state-dir", self.state], check=True, env=self.env,
                       stdout=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc):
        subprocess.run([KUBE_SIM, "stop", "--state-dir", self.state], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.state, ignore_errors=True)

    def kubectl(self, *args, **kw):
        return subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, "--cache-dir",
                               os.path.join(self.state, "kubectl-cache"), *args],
                              check=True, capture_output=True, text=True, env=self.env, **kw).stdout

    def zkp(self, *args, timeout=900):
        """zkpilot --platform kubernetes -n bench ARGS; its output on failure."""
        argv = [self.zkpilot, "--platform", "kubernetes", "-n", NS, *args]
        p = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[1:])}: exit {p.returncode}: {(p.stderr or p.stdout)[-2000:]}"
                               f" (see {self.state}/kube-sim.log)")
        return p.stdout


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


# --- the operator process -------------------------------------------------------


def operator_pid(pod: str) -> int | None:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if len(argv) < 2 or not argv[0].endswith(b"zkpilot") or argv[1] != b"operator":
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                if f"POD_NAME={pod}".encode() in f.read().split(b"\0"):
                    return int(entry)
        except OSError:
            continue
    return None


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS")


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


class Sampler:
    """Samples a process's RSS and CPU time every `interval` seconds in a
    thread, between start() and stop()."""

    def __init__(self, pid: int, interval: float = 0.5):
        self.pid, self.interval = pid, interval
        self.rss: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.t0, self.ticks0 = time.monotonic(), cpu_ticks(self.pid)
        self.rss.append(rss_kib(self.pid))
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.rss.append(rss_kib(self.pid))
            except OSError:
                return

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        wall = time.monotonic() - self.t0
        cpu = (cpu_ticks(self.pid) - self.ticks0) / CLK_TCK
        return {"cpu_pct": 100.0 * cpu / wall, "rss_mib_mean": statistics.mean(self.rss) / 1024,
                "rss_mib_max": max(self.rss) / 1024, "seconds": wall}


# --- one repetition ------------------------------------------------------------


def server_pods(c: Cluster, ns: str) -> list[dict]:
    out = c.kubectl("-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=server", "-o", "json")
    return json.loads(out)["items"]


def baseline(c: Cluster, servers: int, timeout: float) -> float:
    """render | kubectl apply --server-side, then kubectl wait for Ready."""
    c.kubectl("create", "namespace", BASELINE_NS)
    t0 = time.monotonic()
    render = subprocess.Popen([c.zkpilot, "render", PACKAGE, "--set", f"replicas={servers}", "-n", BASELINE_NS],
                              stdout=subprocess.PIPE, env=c.env)
    subprocess.run(["kubectl", "--kubeconfig", c.kubeconfig, "--cache-dir", os.path.join(c.state, "kubectl-cache"),
                    "apply", "--server-side", "-f", "-"], stdin=render.stdout, check=True,
                   stdout=subprocess.DEVNULL, env=c.env)
    render.stdout.close()
    if render.wait() != 0:
        raise RuntimeError("zkpilot render failed")
    deadline = t0 + timeout
    while len(server_pods(c, BASELINE_NS)) < servers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{servers} server pods not created within {timeout} s")
        time.sleep(0.1)
    c.kubectl("-n", BASELINE_NS, "wait", "--for=condition=Ready", "pod", "-l", "app.kubernetes.io/component=server",
              f"--timeout={int(max(1, deadline - time.monotonic()))}s")
    return time.monotonic() - t0


def one_run(zkpilot: str, servers: int, idle: float, timeout: float, baseline_first: bool) -> dict:
    r = {}
    with Cluster(zkpilot) as c:
        if baseline_first:
            r["kubectl"] = baseline(c, servers, timeout)
            c.kubectl("delete", "namespace", BASELINE_NS, "--wait=true", f"--timeout={int(timeout)}s")

        def install():
            manifests = subprocess.run([zkpilot, "operator", "manifests", PACKAGE],
                                       check=True, capture_output=True, text=True, env=c.env).stdout
            c.kubectl("apply", "--server-side", "-f", "-", input=manifests)
            c.kubectl("-n", "zkpilot-system", "rollout", "status", "deployment/zkpilot-operator",
                      f"--timeout={int(timeout)}s")
        r["operator"] = timed(install)
        pod = json.loads(c.kubectl("-n", "zkpilot-system", "get", "pods", "-l",
                                   "app.kubernetes.io/name=zkpilot-operator", "-o", "json"))["items"][0]["metadata"]["name"]
        pid = operator_pid(pod)
        if pid is None:
            raise RuntimeError(f"no `zkpilot operator` process with POD_NAME={pod} found in /proc")
        c.kubectl("create", "namespace", NS)

        r["zkpilot"] = timed(lambda: c.zkp("deploy", CLUSTER, PACKAGE, "--set", f"replicas={servers}",
                                           "--set", "version=3.8.0", "--set", "tls.enabled=false",
                                           "--timeout", str(int(timeout))))
        sampler = Sampler(pid).start()
        time.sleep(idle)  # the measurement window itself, not a wait for a condition
        r["idle"] = sampler.stop()
        sampler = Sampler(pid).start()
        r["roll"] = timed(lambda: c.zkp("upgrade", CLUSTER, "--version", "3.9.3", "--timeout", str(int(timeout))))
        r["busy"] = sampler.stop()
        c.zkp("delete", CLUSTER, "--purge-data", "--timeout", str(int(timeout)))

        if not baseline_first:
            r["kubectl"] = baseline(c, servers, timeout)
    return r


def row(name, values, unit):
    return (f"| {name:<58} | {statistics.median(values):8.2f} | {min(values):8.2f} | "
            f"{max(values):8.2f} | {unit:<7} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zkpilot", default=os.path.join(ROOT, "build", "zkpilot"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of idle sampling after the deploy")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--json", help="also write every run's numbers to this file")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/kube: needs root (the test cluster uses network namespaces)")
    runs = []
    for i in range(args.runs):
        r = one_run(args.zkpilot, args.servers, args.idle, args.timeout, baseline_first=(i % 2 == 1))
        runs.append(r)
        print(f"run {i + 1}/{args.runs}: deploy {r['zkpilot']:.2f} s, kubectl apply+wait {r['kubectl']:.2f} s, "
              f"operator install {r['operator']:.2f} s, roll {r['roll']:.2f} s, "
              f"operator idle {r['idle']['rss_mib_max']:.1f} MiB {r['idle']['cpu_pct']:.2f} %, "
              f"roll {r['busy']['rss_mib_max']:.1f} MiB {r['busy']['cpu_pct']:.2f} %", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=2)
    n = args.servers
    col = lambda key, sub=None: [r[key][sub] if sub else r[key] for r in runs]  # noqa: E731
    print(f"bench/kube: {args.runs} runs, {n} servers, test cluster (tests/kube-sim), {os.cpu_count()} cores")
    print(f"| {'what':<58} | {'median':>8} | {'min':>8} | {'max':>8} | {'unit':<7} |")
    print(f"|{'-' * 60}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 9}|")
    print(row(f"zkpilot deploy --platform kubernetes to healthy ({n} servers)", col("zkpilot"), "s"))
    print(row(f"render, kubectl apply --server-side, wait Ready ({n} pods)", col("kubectl"), "s"))
    print(row("operator install: manifests applied to rollout complete", col("operator"), "s"))
    print(row(f"zkpilot upgrade 3.8.0 -> 3.9.3 (roll of {n} servers)", col("roll"), "s"))
    print(row(f"operator RSS, idle ({args.idle:.0f} s after the deploy), mean", col("idle", "rss_mib_mean"), "MiB"))
    print(row("operator RSS, during the roll, peak", col("busy", "rss_mib_max"), "MiB"))
    print(row("operator CPU, idle", col("idle", "cpu_pct"), "% core"))
    print(row("operator CPU, during the roll", col("busy", "cpu_pct"), "% core"))


if __name__ == "__main__":
    main()
