#!/usr/bin/env python3
"""bench/server_start: one ZooKeeper JVM's start, default JVM settings vs. zkpilot's class-data archive.

For each ZooKeeper version (3.8.0 and 3.9.3 by default) a 3-server
ensemble is deployed once with zkpilot (untimed; bench/deploy.py's capture).
Kept: server 1's launch command (conf/launch.json, default JVM settings) and
the command line zkpilot's supervisor actually started it with
(/proc/PID/cmdline: the same plus -XX:SharedArchiveFile and the jars before
the conf directory on the classpath). Then, alternating, server 1 alone is
started by hand in a fresh directory and port region with one command line
or the other, and timed from the spawn until `srvr` on its client port
answers at all (alone it answers "not currently serving": the JVM is up and
ZooKeeper listens), polled every 10 ms; the JVM is then killed.

Printed: version x command line, median / min / max seconds, and how many
runs mapped the archive (/proc/PID/maps). Only the Python standard library is
used (and bench/deploy.py beside it); every process is killed by PID and
every temporary directory removed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deploy  # noqa: E402


def proc_argv(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]


class CapturingBench(deploy.Bench):
    """bench/deploy.py's Bench that also keeps the running servers' command lines."""

    running: dict[int, list[str]] = {}

    def deploy(self, home, servers, base):
        res = super().deploy(home, servers, base)
        st = self.status_json(home)
        self.running = {n["id"]: proc_argv(n["pid"]) for n in st.get("nodes", []) if n.get("pid")}
        return res


def time_start(bench: CapturingBench, reg: deploy.Registry, tmpl: dict, root: Path, timeout: float):
    specs = bench.materialize(tmpl, root, bench.ports.region(3))
    s = specs[0]
    with open(s["log"], "ab") as logf:
        t0 = time.monotonic()
        p = subprocess.Popen(s["argv"], cwd=s["dir"], stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=subprocess.STDOUT, start_new_session=True, env=reg.env)
    reg.track(p)
    try:
        while deploy.srvr(s["client_port"], 0.5) is None:
            if p.poll() is not None:
                raise deploy.BenchError(f"server exited with {p.returncode}:\n{deploy.tail(s['log'])}")
            if time.monotonic() - t0 > timeout:
                raise deploy.BenchError(f"no srvr answer after {timeout:.0f}s:\n{deploy.tail(s['log'])}")
            time.sleep(0.01)
        elapsed = time.monotonic() - t0
        mapped = deploy.maps_archive(p.pid)
    finally:
        reg.kill_children([p])
        shutil.rmtree(root, ignore_errors=True)
    return elapsed, mapped


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zkpilot", default=str(deploy.REPO_ROOT / "build" / "zkpilot"))
    ap.add_argument("--package", default=str(deploy.REPO_ROOT / "packages" / "zookeeper"))
    ap.add_argument("--versions", default="3.8.0,3.9.3")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    args.zkpilot = str(Path(args.zkpilot).resolve())
    env = dict(os.environ)
    env.setdefault("ZKPILOT_DISTRIBUTIONS", str(Path.home() / ".local/state/zkpilot/distributions"))

    root = Path(tempfile.mkdtemp(prefix="zkpilot-bench-start-"))
    reg = deploy.Registry(root, args.zkpilot, env, args.timeout)
    load0 = os.getloadavg()[0]
    rows = [["version", "command line", "median s", "min s", "max s", "runs mapping the archive"]]

    def body() -> int:
        for version in [v for v in args.versions.split(",") if v]:
            bench = CapturingBench(argparse.Namespace(zkpilot=args.zkpilot, package=args.package,
                                                      timeout=args.timeout, set=[f"version={version}"]), reg, env)
            deploy.log(f"{version}: capturing (untimed deploy)")
            tmpl = bench.capture(3)
            with_cds = {**tmpl, "nodes": {**tmpl["nodes"], 1: {**tmpl["nodes"][1], "argv": bench.running[1]}}}
            if not any(a.startswith("-XX:SharedArchiveFile=") for a in bench.running[1]):
                deploy.log(f"warning: zkpilot started server 1 without an archive: {bench.running[1]}")
            results = {"default JVM settings": [], "zkpilot (archive)": []}
            for run in range(args.runs):
                for name, t in (("default JVM settings", tmpl), ("zkpilot (archive)", with_cds)):
                    r = time_start(bench, reg, t, root / f"{version}-{run}-{len(results[name])}-{name[:3]}",
                                   args.timeout)
                    results[name].append(r)
                    deploy.log(f"{version} {name} run {run + 1}: {r[0]:.3f}s, archive mapped: {r[1]}")
            for name, rs in results.items():
                xs = [r[0] for r in rs]
                rows.append([version, name, f"{statistics.median(xs):.3f}", f"{min(xs):.3f}", f"{max(xs):.3f}",
                             str(sum(1 for r in rs if r[1]))])
        print(f"bench/server_start: spawn to first srvr answer of one server, {args.runs} runs each\n")
        print(deploy.table(rows))
        print(f"\nload average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end")
        return 0

    return deploy.run_guarded(reg, body)


if __name__ == "__main__":
    sys.exit(main())
