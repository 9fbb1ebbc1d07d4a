#!/usr/bin/env python3
"""bench/stop_signal: how a ZooKeeper server stops on SIGTERM and on SIGKILL.

For each ZooKeeper version (3.8.0 and 3.9.3 by default), the servers' exact
command lines and configuration are captured once from an untimed
`zkpilot deploy` of 3 servers (conf/launch.json, zoo.cfg, logging files,
myid; the same capture as bench/deploy.py) and moved to a fresh directory and
port region. Each measurement then:

  1. starts the 3 JVMs by hand (children of this script, no supervisor that
     would restart them) and waits until `srvr` shows one leader and two
     followers caught up;
  2. picks the server with the role being measured (follower or leader),
     records its data directories (every file's name, size and mtime) and
     the length of its log;
  3. sends the signal and, until the process has exited, polls `srvr` on its
     client port in a tight loop (connect timeout 50 ms);
  4. records the time from kill(2) to the exit (a pidfd becoming readable),
     how the process ended (waitpid status), whether any poll got an answer,
     what the log gained after the signal and whether any data file changed.

Printed: a table version x role x signal with the median / min / max exit
time, whether the port answered while stopping, the exit status, and
whether the log or the data directory changed. Every process started here is
killed by PID, every temporary directory removed.

Only the Python standard library is used (and bench/deploy.py beside it).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deploy  # noqa: E402  (bench/deploy.py: capture, ports, srvr, cleanup)

SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


def data_dirs_of(spec: dict) -> list[Path]:
    cfg = (spec["dir"] / "conf" / "zoo.cfg").read_text()
    dirs = []
    for line in cfg.splitlines():
        k, _, v = line.partition("=")
        if k.strip() in ("dataDir", "dataLogDir") and v.strip():
            dirs.append(Path(v.strip()))
    return dirs


def snapshot(dirs: list[Path]) -> dict[str, tuple[int, int]]:
    out = {}
    for root in dirs:
        for dirpath, _, names in os.walk(root):
            for n in names:
                p = Path(dirpath, n)
                try:
                    st = p.stat()
                except OSError:
                    continue
                out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


class StopBench:
    def __init__(self, args, reg: deploy.Registry, bench: deploy.Bench):
        self.args = args
        self.reg = reg
        self.bench = bench

    def start_ensemble(self, tmpl: dict, root: Path):
        base = self.bench.ports.region(3)
        specs = self.bench.materialize(tmpl, root, base)
        env = dict(self.reg.env)
        for kv in specs[0]["env"]:
            k, _, v = kv.partition("=")
            env[k] = v
        procs = []
        for s in specs:
            with open(s["log"], "ab") as logf:
                p = subprocess.Popen(s["argv"], cwd=s["dir"], env=env, stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
            procs.append(p)
            self.reg.track(p)
        deadline = time.monotonic() + self.args.timeout
        with ThreadPoolExecutor(max_workers=len(specs)) as pool:
            while True:
                replies = list(pool.map(lambda port: deploy.srvr(port, 1.0), [s["client_port"] for s in specs]))
                if deploy.ensemble_healthy(replies):
                    break
                for s, p in zip(specs, procs):
                    if p.poll() is not None:
                        raise deploy.BenchError(f"server {s['id']} exited with {p.returncode}:\n{deploy.tail(s['log'])}")
                if time.monotonic() >= deadline:
                    raise deploy.BenchError(f"ensemble not healthy after {self.args.timeout:.0f}s: "
                                            f"{deploy.describe(replies)}")
                time.sleep(deploy.POLL_S)
        return specs, procs, replies

    def stop_one(self, spec: dict, proc: subprocess.Popen, sig: signal.Signals) -> dict:
        dirs = data_dirs_of(spec)
        before = snapshot(dirs)
        log_size = spec["log"].stat().st_size
        answers: list[str] = []
        polls = [0]
        done = threading.Event()
        killed_at = [float("inf")]

        def poll():
            # Only polls that begin after kill(2) count: a reply in flight at
            # the signal says nothing about the stopping server.
            while not done.is_set():
                began = time.monotonic()
                r = deploy.srvr(spec["client_port"], 0.05)
                if began >= killed_at[0]:
                    polls[0] += 1
                    if r is not None:
                        answers.append(f"{r['mode']}@{(began - killed_at[0]) * 1000:.0f}ms")
                time.sleep(0.002)

        fd = os.pidfd_open(proc.pid)
        poller = threading.Thread(target=poll, daemon=True)
        try:
            poller.start()
            time.sleep(0.02)  # the poller is running
            t0 = killed_at[0] = time.monotonic()
            os.kill(proc.pid, sig)
            ready, _, _ = select.select([fd], [], [], self.args.timeout)
            exit_ms = (time.monotonic() - t0) * 1000
        finally:
            done.set()
            poller.join()
            os.close(fd)
        if not ready:
            raise deploy.BenchError(f"server {spec['id']} still running {self.args.timeout:.0f}s after {sig.name}")
        _, status = os.waitpid(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.reg.untrack(proc)
        ended = (f"signal {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
                 else f"exit {os.WEXITSTATUS(status)}")
        with open(spec["log"], "rb") as f:
            f.seek(log_size)
            gained = [l for l in f.read().decode("utf-8", "replace").splitlines()
                      if "Processing srvr command" not in l]
        after = snapshot(dirs)
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        return {"exit_ms": exit_ms, "ended": ended, "answered": answers, "polls": polls[0],
                "log_after_signal": gained, "data_changed": changed}

    def measure(self, tmpl: dict, version: str, role: str, sig_name: str, run: int) -> dict:
        root = self.reg.root / f"{version}-{role}-{sig_name}-{run}"
        specs, procs = [], []
        try:
            specs, procs, replies = self.start_ensemble(tmpl, root)
            idx = next(i for i, r in enumerate(replies) if r and r["mode"] == role)
            return self.stop_one(specs[idx], procs[idx], SIGNALS[sig_name])
        finally:
            self.reg.kill_children(procs)
            shutil.rmtree(root, ignore_errors=True)


def report(results: dict, runs: int, load: tuple[float, float]) -> str:
    rows = [["version", "role", "signal", "exit ms median", "min", "max", "answered while stopping (runs)",
             "ended by", "log lines after signal", "data files changed"]]
    for (version, role, sig), rs in results.items():
        xs = [r["exit_ms"] for r in rs]
        rows.append([version, role, sig, f"{statistics.median(xs):.0f}", f"{min(xs):.0f}", f"{max(xs):.0f}",
                     (f"yes ({sum(1 for r in rs if r['answered'])}/{len(rs)}), last poll begun "
                      f"{max(int(a.rsplit('@', 1)[1][:-2]) for r in rs for a in r['answered'])} ms after the signal"
                      if any(r["answered"] for r in rs) else "no"),
                     ", ".join(sorted({r["ended"] for r in rs})),
                     "/".join(str(len(r["log_after_signal"])) for r in rs),
                     "/".join(str(len(r["data_changed"])) for r in rs)])
    return "\n".join([f"bench/stop_signal: kill(2) to process exit, {runs} runs each, 3-server ensembles "
                      "started by hand with zkpilot's command lines", "", deploy.table(rows), "",
                      f"load average {load[0]:.1f} at start, {load[1]:.1f} at end"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zkpilot", default=str(deploy.REPO_ROOT / "build" / "zkpilot"), help="zkpilot binary")
    ap.add_argument("--package", default=str(deploy.REPO_ROOT / "packages" / "zookeeper"), help="package directory")
    ap.add_argument("--versions", default="3.8.0,3.9.3", help="comma-separated ZooKeeper versions")
    ap.add_argument("--runs", type=int, default=5, help="repetitions per cell (default 5)")
    ap.add_argument("--timeout", type=float, default=120.0, help="deadline of every wait, seconds")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra parameter for the capturing deploy (repeatable)")
    ap.add_argument("--json", metavar="FILE", help="also write the raw results (with the log lines) to FILE")
    args = ap.parse_args()
    args.zkpilot = str(Path(args.zkpilot).resolve())
    args.package = str(Path(args.package).resolve())
    if not os.access(args.zkpilot, os.X_OK):
        ap.error(f"{args.zkpilot} is not an executable")

    env = dict(os.environ)
    env.setdefault("ZKPILOT_DISTRIBUTIONS", str(Path.home() / ".local/state/zkpilot/distributions"))

    root = Path(tempfile.mkdtemp(prefix="zkpilot-bench-stop-"))
    reg = deploy.Registry(root, args.zkpilot, env, args.timeout)
    load0 = os.getloadavg()[0]
    results: dict[tuple[str, str, str], list[dict]] = {}

    def body() -> int:
        for version in [v.strip() for v in args.versions.split(",") if v.strip()]:
            bargs = argparse.Namespace(zkpilot=args.zkpilot, package=args.package, timeout=args.timeout,
                                       set=args.set + [f"version={version}"])
            bench = deploy.Bench(bargs, reg, env)
            deploy.log(f"{version}: capturing the servers' configuration (untimed deploy)")
            tmpl = bench.capture(3)
            sb = StopBench(args, reg, bench)
            for run in range(1, args.runs + 1):
                # Interleaved, so that a change of load hits every cell alike.
                for role in ("follower", "leader"):
                    for sig in SIGNALS:
                        r = sb.measure(tmpl, version, role, sig, run)
                        results.setdefault((version, role, sig), []).append(r)
                        deploy.log(f"{version} {role} {sig} run {run}: exit after {r['exit_ms']:.0f} ms, "
                                   f"{r['ended']}, answered {r['answered'] or 'nothing'} in {r['polls']} polls, "
                                   f"{len(r['log_after_signal'])} log lines, data changed {r['data_changed']}")
        print(report(results, args.runs, (load0, os.getloadavg()[0])), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps({" ".join(k): v for k, v in results.items()}, indent=2) + "\n")
        return 0

    return deploy.run_guarded(reg, body)


if __name__ == "__main__":
    sys.exit(main())
