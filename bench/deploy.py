#!/usr/bin/env python3
"""bench/deploy: time from command to healthy ensemble, against a hand-started floor.

For each ensemble size (3 and 5 servers by default) and each repetition, two
runs alternate:

  zkpilot   `zkpilot deploy NAME PACKAGE --set replicas=N --set clientPort=BASE`
            in a fresh ZKPILOT_HOME, timed from spawn to exit (the command
            returns only once the ensemble is healthy). Also recorded: the
            command's peak RSS (its own rusage, from wait4) and the
            supervisor's peak RSS (VmHWM), when each JVM was started (from
            /proc/PID/stat), and the step timings zkpilot prints on stderr.
            Then `zkpilot delete NAME --purge-data`.

  baseline  the same JVMs with the same configuration, started by hand with
            the JVM's default settings: every server's command line
            (conf/launch.json), zoo.cfg, log4j.properties, logback.xml and
            myid, captured once per size from an untimed zkpilot deployment
            and moved to a fresh directory and a fresh port region. zkpilot's
            start-up flags are stripped from the command line (class-data
            sharing: -Xshare:*, -XX:SharedArchiveFile, -XX:ArchiveClassesAtExit;
            launch.json does not name them, the supervisor adds the archive at
            each start, but a launch file from elsewhere might), so the
            baseline is what a person running the server by hand gets; the
            user's own jvmFlags stay. Timed from spawning the first JVM until
            `srvr` on the client ports reports exactly one leader and every
            other server following with its zxid caught up (equal to the
            leader's, or the leader has no transaction yet in its epoch), polled
            every 50 ms. This is the floor: nothing but the JVMs and the poll.

Class-data sharing: zkpilot's supervisor starts servers with a per-JVM and
per-distribution AppCDS archive (docs/server-start.md), kept next to the
distribution store ($ZKPILOT_DISTRIBUTIONS/../cds, shared by every run), so
the untimed capture deployment creates it if it does not exist yet and every
timed run uses it, as a user's second and later deployments do. Run with
ZKPILOT_CDS=0 in the environment to time zkpilot without archives. The
column "servers with archive" counts the zkpilot servers that mapped one
(/proc/PID/maps). The target is zkpilot/baseline <= 0.85 (medians).

zkpilot's own health check accepts a follower up to 100 transactions behind;
on a fresh ensemble, before the deploy hooks write anything, the two criteria
are the same.

Only the Python standard library is used. Every process started here is
killed by PID on error or Ctrl-C, and every temporary directory is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

POLL_S = 0.050
CLUSTER = "bench"
PORT_STRIDE = 10
REPO_ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    pass


class Interrupted(BaseException):
    pass


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def tail(path: Path | str, lines: int = 20) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"(cannot read {path}: {e})"
    # The 50 ms `srvr` polls would fill the tail with "Processing srvr command".
    out = [line for line in text.splitlines() if "Processing srvr command" not in line][-lines:]
    return "\n".join("    " + line for line in out) if out else "    (empty)"


# --------------------------------------------------------------------------
# processes: everything started here is tracked and killed by PID


def proc_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def proc_state(pid: int) -> str:
    """One-letter state, '' when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            line = f.read()
    except OSError:
        return ""
    return line[line.rfind(")") + 2]


def proc_alive(pid: int) -> bool:
    return proc_state(pid) not in ("", "Z", "X")


def proc_start_boottime(pid: int) -> float | None:
    """Start time of a process in seconds of CLOCK_BOOTTIME (10 ms resolution)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            line = f.read()
    except OSError:
        return None
    fields = line[line.rfind(")") + 2:].split()
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")


def vm_hwm_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def maps_archive(pid: int) -> bool:
    """Whether the process maps a class-data archive of zkpilot's (.../cds/.../classes.jsa)."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            return any("/cds/" in line and line.rstrip().endswith("/classes.jsa") for line in f)
    except OSError:
        return False


CDS_FLAGS = re.compile(r"^(-Xshare:.*|-XX:SharedArchiveFile=.*|-XX:ArchiveClassesAtExit=.*|-XX:[+-]AutoCreateSharedArchive)$")


def default_jvm_argv(argv: list[str]) -> list[str]:
    """The command line without zkpilot's start-up flags (class-data sharing), up to -cp."""
    out, in_options = [], True
    for a in argv:
        if a in ("-cp", "-classpath", "--class-path"):
            in_options = False
        if in_options and CDS_FLAGS.match(a):
            continue
        out.append(a)
    return out


def mentions(pid: int, path: str) -> bool:
    """Whether the command line of `pid` names `path` itself or something under it."""
    return re.search(re.escape(path) + r"(?=/|\s|$)", proc_cmdline(pid)) is not None


def pids_mentioning(path: str) -> list[int]:
    """PIDs whose command line names `path` (a directory this run created)."""
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) != os.getpid() and mentions(int(e), path)]


def kill_pids(pids: list[int], marker: str, timeout: float) -> None:
    """SIGKILL each PID whose command line still names `marker`; wait until gone."""
    targets = [p for p in pids if proc_alive(p) and mentions(p, marker)]
    for pid in targets:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    for pid in targets:
        while proc_alive(pid):
            try:  # reap it if it is our child
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if time.monotonic() >= deadline:
                raise BenchError(f"process {pid} survived SIGKILL for {timeout:.0f}s")
            time.sleep(0.01)


def wait_child(proc: subprocess.Popen, timeout: float):
    """Wait for a child with a deadline; returns (exit code, rusage), or None on timeout."""
    fd = os.pidfd_open(proc.pid)
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        os.close(fd)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage


class Registry:
    """What this run created: temp dirs, zkpilot homes, children. Cleaned up on any exit."""

    def __init__(self, root: Path, zkpilot: str, env: dict, timeout: float):
        self.root = root
        self.zkpilot = zkpilot
        self.env = env
        self.timeout = timeout
        self.homes: set[Path] = set()
        self.children: dict[int, subprocess.Popen] = {}

    def track(self, proc: subprocess.Popen) -> None:
        self.children[proc.pid] = proc

    def untrack(self, proc: subprocess.Popen) -> None:
        self.children.pop(proc.pid, None)

    def kill_children(self, procs: list[subprocess.Popen]) -> None:
        """SIGKILL the children that still run, reap and untrack them all."""
        for p in procs:
            if p.returncode is None:
                p.kill()
        for p in procs:
            try:
                p.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                raise BenchError(f"JVM {p.pid} survived SIGKILL for {self.timeout:.0f}s")
            self.untrack(p)

    def kill_home(self, home: Path) -> None:
        """Stop a zkpilot home's supervisor first (it would restart servers), then its servers."""
        marker = str(home)
        lock = home / "clusters" / CLUSTER / "supervisor.lock"
        sup = []
        try:
            sup = [int(lock.read_text().split()[0])]
        except (OSError, ValueError, IndexError):
            pass
        sup += [p for p in pids_mentioning(marker) if " supervise " in proc_cmdline(p)]
        kill_pids(sup, marker, self.timeout)
        kill_pids(pids_mentioning(marker), marker, self.timeout)

    def delete_cluster(self, home: Path) -> None:
        """`zkpilot delete --purge-data`, then make sure nothing of the home is left running."""
        env = dict(self.env, ZKPILOT_HOME=str(home))
        try:
            r = subprocess.run([self.zkpilot, "delete", CLUSTER, "--purge-data"], env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=self.timeout)
            if r.returncode != 0:
                log(f"warning: zkpilot delete exited {r.returncode}:\n{r.stderr.strip()}")
        except subprocess.TimeoutExpired:
            log(f"warning: zkpilot delete did not finish within {self.timeout:.0f}s; killing by PID")
        left = pids_mentioning(str(home))
        if left:
            log(f"warning: processes left after delete: {left}; killing")
            self.kill_home(home)
        self.homes.discard(home)
        shutil.rmtree(home, ignore_errors=True)

    def cleanup(self) -> None:
        for proc in list(self.children.values()):
            if proc.returncode is None:
                try:
                    proc.kill()
                    proc.wait(timeout=self.timeout)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        self.children.clear()
        for home in list(self.homes):
            try:
                self.kill_home(home)
            except BenchError as e:
                log(f"warning: {e}")
        self.homes.clear()
        # Anything else still running out of our directory (baseline JVMs).
        try:
            kill_pids(pids_mentioning(str(self.root)), str(self.root), self.timeout)
        except BenchError as e:
            log(f"warning: {e}")
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------
# ports


def port_binds(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Ports:
    """Free port regions below the ephemeral range, never the same twice in one run."""

    def __init__(self):
        try:
            low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            low = 32768
        self.high = min(low, 65536) - 1
        self.used: list[tuple[int, int]] = []

    def region(self, servers: int) -> int:
        span = servers * PORT_STRIDE
        for _ in range(1000):
            base = random.randrange(10000, self.high - span) // PORT_STRIDE * PORT_STRIDE + 1
            if any(base <= hi and lo <= base + span for lo, hi in self.used):
                continue
            if all(port_binds(p) for p in range(base, base + span + 1)):
                self.used.append((base, base + span))
                return base
        raise BenchError(f"no free region of {span + 1} ports on 127.0.0.1 below {self.high}")


# --------------------------------------------------------------------------
# srvr


def srvr(port: int, timeout: float) -> dict | None:
    """Mode, zxid and version from `srvr`, or None when the server does not answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"srvr")
            chunks = []
            while True:
                b = s.recv(4096)
                if not b:
                    break
                chunks.append(b)
    except OSError:
        return None
    text = b"".join(chunks).decode("utf-8", "replace")
    if text.strip().startswith("This ZooKeeper instance is not currently serving requests"):
        return {"mode": "not-serving", "zxid": None, "version": None}
    info = {"mode": None, "zxid": None, "version": None}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        value = value.strip()
        if key == "Mode":
            info["mode"] = value
        elif key == "Zxid":
            try:
                info["zxid"] = int(value, 16)
            except ValueError:
                pass
        elif key == "Zookeeper version":
            info["version"] = value
    return info if info["mode"] else None


def ensemble_healthy(replies: list[dict | None]) -> bool:
    """One leader; every other server a follower whose zxid has caught up with the leader's."""
    leaders = [r for r in replies if r and r["mode"] == "leader"]
    if len(leaders) != 1 or leaders[0]["zxid"] is None:
        return False
    lz = leaders[0]["zxid"]
    for r in replies:
        if r is leaders[0]:
            continue
        if not r or r["mode"] != "follower" or r["zxid"] is None:
            return False
        fz = r["zxid"]
        if fz >> 32 == lz >> 32:
            if fz < lz:
                return False
        elif fz >> 32 > lz >> 32 or (lz & 0xFFFFFFFF) != 0:
            return False
    return True


def describe(replies: list[dict | None]) -> str:
    return ", ".join(
        f"port {i}: " + ("down" if r is None else f"{r['mode']} zxid={hex(r['zxid']) if r['zxid'] is not None else '?'}")
        for i, r in enumerate(replies, 1))


# --------------------------------------------------------------------------
# zkpilot runs

STEP_START = re.compile(r"^\[(\d+)/(\d+)\] (.*) \.\.\.$")
STEP_DONE = re.compile(r"^\[(\d+)/(\d+)\] done in ([0-9.]+)s")


def parse_steps(lines: list[tuple[float, str]]) -> list[dict]:
    """zkpilot's steps from its stderr lines, each with the time (s after spawn) it arrived."""
    started, steps = {}, []
    for t, line in lines:
        m = STEP_START.match(line)
        if m:
            started[m.group(1)] = (t, m.group(3))
            continue
        m = STEP_DONE.match(line)
        if m:
            t0, title = started.get(m.group(1), (None, "?"))
            steps.append({"step": title, "printed_s": float(m.group(3)), "start_at": t0, "done_at": t})
    return steps


def read_lines(stream, sink, t0: float, into: list) -> None:
    """Copy a child's stream to `sink`, remembering when each line arrived."""
    for raw in iter(stream.readline, b""):
        into.append((time.monotonic() - t0, raw.decode("utf-8", "replace").rstrip("\n")))
        sink.write(raw)
        sink.flush()


class Bench:
    def __init__(self, args, reg: Registry, env: dict):
        self.args = args
        self.reg = reg
        self.env = env
        self.ports = Ports()
        self.zk_version = None
        self.load_start = os.getloadavg()[0]
        self.java = None

    def zk_env(self, home: Path) -> dict:
        return dict(self.env, ZKPILOT_HOME=str(home))

    def status_json(self, home: Path) -> dict:
        r = subprocess.run([self.args.zkpilot, "status", CLUSTER, "-o", "json"], env=self.zk_env(home),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=self.args.timeout)
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError:
            raise BenchError(f"zkpilot status -o json exited {r.returncode} with no JSON:\n{r.stderr.strip()}")

    def deploy(self, home: Path, servers: int, base: int) -> dict:
        """Run `zkpilot deploy` in `home`; returns timings and rusage. The cluster stays up."""
        home.mkdir(parents=True)
        self.reg.homes.add(home)
        out_path, err_path = home.parent / f"{home.name}.stdout", home.parent / f"{home.name}.stderr"
        argv = [self.args.zkpilot, "deploy", CLUSTER, str(self.args.package),
                "--set", f"replicas={servers}", "--set", f"clientPort={base}",
                # plaintext, as the baseline's servers (new clusters default to TLS)
                "--set", "tls.enabled=false", "--set", "auth.enabled=false",
                "--timeout", f"{self.args.timeout:g}"]
        for kv in self.args.set:
            argv += ["--set", kv]
        lines: list[tuple[float, str]] = []
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            boot0 = time.clock_gettime(time.CLOCK_BOOTTIME)
            t0 = time.monotonic()
            proc = subprocess.Popen(argv, env=self.zk_env(home), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.PIPE)
            self.reg.track(proc)
            reader = threading.Thread(target=read_lines, args=(proc.stderr, err, t0, lines), daemon=True)
            reader.start()
            # zkpilot enforces --timeout itself; the extra margin lets it report why.
            waited = wait_child(proc, self.args.timeout + 30)
            elapsed = time.monotonic() - t0
            if waited is None:
                proc.kill()
                proc.wait()
            # EOF comes when zkpilot exits, unless something it started kept the pipe.
            reader.join(self.args.timeout)
            if reader.is_alive():
                raise BenchError(f"zkpilot deploy's stderr stayed open {self.args.timeout:.0f}s after it exited")
            proc.stderr.close()
        self.reg.untrack(proc)
        if waited is None:
            raise BenchError(f"zkpilot deploy ({servers} servers) did not return within {self.args.timeout + 30:.0f}s; "
                             f"its stderr:\n{tail(err_path)}\n{self.node_log_tails(home)}")
        code, usage = waited
        if code != 0:
            raise BenchError(f"zkpilot deploy ({servers} servers) exited {code} after {elapsed:.2f}s; its output:\n"
                             f"{tail(out_path)}\n{tail(err_path, 40)}\n{self.node_log_tails(home)}")
        st = self.status_json(home)
        sup_pid = st.get("supervisor", {}).get("pid") or 0
        with_archive = sum(1 for n in st.get("nodes", []) if n.get("pid") and maps_archive(n["pid"]))
        jvm_starts = sorted(s - boot0 for s in (proc_start_boottime(n["pid"]) for n in st.get("nodes", []) if n.get("pid"))
                            if s is not None)
        return {
            "deploy_s": elapsed,
            "zkpilot_maxrss_kib": usage.ru_maxrss,
            "zkpilot_cpu_s": usage.ru_utime + usage.ru_stime,
            "supervisor_hwm_kib": vm_hwm_kib(sup_pid) if sup_pid else None,
            "first_jvm_s": jvm_starts[0] if jvm_starts else None,
            "last_jvm_s": jvm_starts[-1] if jvm_starts else None,
            "steps": parse_steps(lines),
            "healthy": st.get("healthy"),
            "servers_with_archive": with_archive,
        }

    def node_log_tails(self, home: Path) -> str:
        nodes = home / "clusters" / CLUSTER / "nodes"
        parts = []
        sup = home / "clusters" / CLUSTER / "supervisor.log"
        if sup.exists():
            parts.append(f"end of {sup}:\n{tail(sup, 10)}")
        for d in sorted(nodes.glob("*")) if nodes.exists() else []:
            parts.append(f"end of {d / 'zookeeper.log'}:\n{tail(d / 'zookeeper.log', 10)}")
        return "\n".join(parts)

    def zkpilot_run(self, servers: int, run: int) -> dict:
        base = self.ports.region(servers)
        home = self.reg.root / f"zk-{servers}-{run}"
        try:
            res = self.deploy(home, servers, base)
        except Exception:
            self.reg.delete_cluster(home)
            raise
        # On Ctrl-C nothing is deleted politely: Registry.cleanup kills by PID.
        self.reg.delete_cluster(home)
        res["base_port"] = base
        return res

    # ----------------------------------------------------------------------
    # baseline

    def capture(self, servers: int) -> dict:
        """Deploy once (untimed) and keep every server's launch command, configuration and myid."""
        base = self.ports.region(servers)
        home = self.reg.root / f"prep-{servers}"
        try:
            self.deploy(home, servers, base)
            cluster_dir = home / "clusters" / CLUSTER
            nodes = {}
            for node_dir in sorted((cluster_dir / "nodes").iterdir(), key=lambda p: int(p.name)):
                conf = node_dir / "conf"
                launch = json.loads((conf / "launch.json").read_text())
                files = {}
                for name in ("log4j.properties", "logback.xml"):
                    if (conf / name).exists():
                        files[name] = (conf / name).read_text()
                # A server with reconfigEnabled moves its membership to zoo.cfg.dynamic.*
                # on first start and keeps the file it was given as zoo.cfg.bak.
                cfg = (conf / "zoo.cfg").read_text()
                if "dynamicConfigFile=" in cfg:
                    if not (conf / "zoo.cfg.bak").exists():
                        raise BenchError(f"{conf}/zoo.cfg was rewritten by ZooKeeper and there is no zoo.cfg.bak")
                    cfg = (conf / "zoo.cfg.bak").read_text()
                files["zoo.cfg"] = cfg
                nodes[int(node_dir.name)] = {
                    "argv": default_jvm_argv(launch["argv"]),
                    "env": launch.get("env") or [],
                    "files": files,
                    "myid": (node_dir / "data" / "myid").read_text(),
                }
            if len(nodes) != servers:
                raise BenchError(f"expected {servers} servers in {cluster_dir}/nodes, found {len(nodes)}")
            java = nodes[1]["argv"][0]
            if self.java is None:
                try:
                    r = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=self.args.timeout)
                    self.java = (r.stderr or r.stdout).splitlines()[0].strip()
                except (OSError, subprocess.TimeoutExpired, IndexError):
                    self.java = "?"
        except Exception:
            self.reg.delete_cluster(home)
            raise
        self.reg.delete_cluster(home)
        return {"old_dir": str(cluster_dir), "old_base": base, "servers": servers, "nodes": nodes}

    @staticmethod
    def shift_ports(text: str, old_base: int, new_base: int, servers: int) -> str:
        lo, hi = old_base, old_base + servers * PORT_STRIDE

        def shift(m):
            p = int(m.group(0))
            return str(p - old_base + new_base) if lo <= p <= hi else m.group(0)

        out = []
        for line in text.splitlines(keepends=True):
            key = line.split("=", 1)[0].strip()
            if not line.lstrip().startswith("#") and "=" in line and (
                    key.startswith("server.") or key.lower().endswith("port")):
                k, v = line.split("=", 1)
                line = k + "=" + re.sub(r"\b\d{2,5}\b", shift, v)
            out.append(line)
        return "".join(out)

    def materialize(self, tmpl: dict, root: Path, base: int) -> list[dict]:
        """Write the captured servers under `root`, paths and ports moved; returns launch specs."""
        old_dir, old_base, servers = tmpl["old_dir"], tmpl["old_base"], tmpl["servers"]
        new_dir = str(root)

        def move(s: str) -> str:
            return s.replace(old_dir, new_dir)

        specs = []
        for node_id, node in tmpl["nodes"].items():
            node_dir = root / "nodes" / str(node_id)
            (node_dir / "conf").mkdir(parents=True)
            (node_dir / "data").mkdir()
            (node_dir / "data" / "myid").write_text(node["myid"])
            for name, text in node["files"].items():
                text = move(text)
                if name == "zoo.cfg":
                    text = self.shift_ports(text, old_base, base, servers)
                (node_dir / "conf" / name).write_text(text)
            argv = [move(a) for a in node["argv"]]
            argv = [re.sub(r"^(-D[^=]*[Pp]ort=)(\d+)$",
                           lambda m: m.group(1) + self.shift_ports("p=" + m.group(2), old_base, base, servers)[2:], a)
                    for a in argv]
            leftovers = [a for a in argv if old_dir in a]
            if leftovers:
                raise BenchError(f"server {node_id}: old paths left in its command line: {leftovers}")
            specs.append({"id": node_id, "dir": node_dir, "argv": argv, "env": node["env"],
                          "log": node_dir / "zookeeper.log",
                          "client_port": base + (node_id - 1) * PORT_STRIDE})
        # The rewritten membership must name the new ports, every server the same way.
        cfg = (root / "nodes" / "1" / "conf" / "zoo.cfg").read_text()
        for s in specs:
            p = s["client_port"]
            want = f"server.{s['id']}=127.0.0.1:{p + 1}:{p + 2}"
            if want not in cfg:
                raise BenchError(f"rewritten zoo.cfg lacks '{want}':\n{cfg}")
        return specs

    def baseline_run(self, tmpl: dict, servers: int, run: int) -> dict:
        base = self.ports.region(servers)
        root = self.reg.root / f"base-{servers}-{run}"
        specs = self.materialize(tmpl, root, base)
        procs: list[subprocess.Popen] = []
        logs = []
        pool = ThreadPoolExecutor(max_workers=len(specs))
        try:
            for s in specs:
                logs.append(open(s["log"], "ab"))
            env = dict(self.env)
            for kv in specs[0]["env"]:
                k, _, v = kv.partition("=")
                env[k] = v
            t0 = time.monotonic()
            for s, logf in zip(specs, logs):
                p = subprocess.Popen(s["argv"], cwd=s["dir"], env=env, stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
                procs.append(p)
                self.reg.track(p)
            spawned = time.monotonic() - t0
            deadline = t0 + self.args.timeout
            polls = 0
            while True:
                # All servers at once, so that one slow answer does not delay the others.
                wait = max(0.05, min(1.0, deadline - time.monotonic()))
                replies = list(pool.map(lambda port: srvr(port, wait), [s["client_port"] for s in specs]))
                polls += 1
                if ensemble_healthy(replies):
                    elapsed = time.monotonic() - t0
                    break
                for s, p in zip(specs, procs):
                    if p.poll() is not None:
                        raise BenchError(f"baseline server {s['id']} exited with {p.returncode}; "
                                         f"end of {s['log']}:\n{tail(s['log'])}")
                if time.monotonic() >= deadline:
                    raise BenchError(f"baseline ({servers} servers) not healthy after {self.args.timeout:.0f}s: "
                                     f"{describe(replies)}\n" +
                                     "\n".join(f"end of {s['log']}:\n{tail(s['log'], 10)}" for s in specs))
                time.sleep(POLL_S)
            if self.zk_version is None:
                self.zk_version = next((r["version"] for r in replies if r and r["version"]), None)
            return {"baseline_s": elapsed, "spawn_s": spawned, "polls": polls, "base_port": base}
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            self.reg.kill_children(procs)
            for f in logs:
                f.close()
            shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------
# running a benchmark


def run_guarded(reg: Registry, body) -> int:
    """Runs body() (returns an exit code); on Ctrl-C, SIGTERM, SIGHUP or a BenchError
    says why, and in every case stops and removes everything `reg` holds."""

    def on_signal(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        return body()
    except (KeyboardInterrupt, Interrupted) as e:
        log(f"interrupted ({str(e) or 'SIGINT'}); stopping everything this run started")
        return 130
    except BenchError as e:
        log(f"error: {e}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        reg.cleanup()


# --------------------------------------------------------------------------
# report


def med_min(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None
    return statistics.median(xs), min(xs)


def cell(pair, fmt):
    m, n = pair
    if m is None:
        return "-"
    return f"{m:{fmt}} / {n:{fmt}}"


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for j, r in enumerate(rows):
        out.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def machine_facts(bench: Bench) -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "loadavg_start": bench.load_start, "loadavg_end": os.getloadavg()[0], "cpu": cpu, "mem_gib": mem_gib, "kernel": platform.release(),
            "zookeeper": bench.zk_version or "?", "java": bench.java or "?"}


def short_version(v: str) -> str:
    m = re.match(r"\d+(\.\d+)+", v)
    return m.group(0) if m else v


def report(results: dict, facts: dict, runs: int) -> str:
    rows = [["servers", "zkpilot deploy s", "baseline s", "zkpilot/baseline", "overhead s",
             "servers with archive", "zkpilot peak RSS MiB", "supervisor peak RSS MiB"]]
    for n, res in results.items():
        z = [r["deploy_s"] for r in res["zkpilot"]]
        b = [r["baseline_s"] for r in res["baseline"]]
        zm, zn = med_min(z)
        bm, bn = med_min(b)
        rows.append([
            str(n), cell((zm, zn), ".2f"), cell((bm, bn), ".2f"),
            f"{zm / bm:.2f} / {zn / bn:.2f}", f"{zm - bm:.2f} / {zn - bn:.2f}",
            "/".join(str(r.get("servers_with_archive", 0)) for r in res["zkpilot"]),
            cell(med_min([r["zkpilot_maxrss_kib"] / 1024 for r in res["zkpilot"]]), ".1f"),
            cell(med_min([r["supervisor_hwm_kib"] / 1024 if r["supervisor_hwm_kib"] else None
                          for r in res["zkpilot"]]), ".1f"),
        ])
    out = [f"bench/deploy: command to healthy ensemble, {runs} runs each; cells are median / min "
           "(zkpilot/baseline and overhead: of the medians / of the mins; target zkpilot/baseline <= 0.85); "
           "baseline: the same servers by hand, default JVM settings", "", table(rows), ""]

    rows = [["servers", "1st JVM forked", "last JVM forked", "wait-healthy begins", "healthy seen",
             "last step done", "exit", "zkpilot CPU s", "baseline: JVMs spawned", "baseline: healthy"]]
    for n, res in results.items():
        def med(runs, key_fn):
            xs = [key_fn(r) for r in runs]
            xs = [x for x in xs if x is not None]
            return f"{statistics.median(xs):.2f}" if xs else "-"

        def step_at(r, prefix, key):
            for st in r["steps"]:
                if st["step"].startswith(prefix):
                    return st[key]
            return None

        zs, bs = res["zkpilot"], res["baseline"]
        rows.append([
            str(n), med(zs, lambda r: r["first_jvm_s"]), med(zs, lambda r: r["last_jvm_s"]),
            med(zs, lambda r: step_at(r, "wait until healthy", "start_at")),
            med(zs, lambda r: step_at(r, "wait until healthy", "done_at")),
            med(zs, lambda r: r["steps"][-1]["done_at"] if r["steps"] else None),
            med(zs, lambda r: r["deploy_s"]), med(zs, lambda r: r["zkpilot_cpu_s"]),
            med(bs, lambda r: r["spawn_s"]), med(bs, lambda r: r["baseline_s"]),
        ])
    out += ["timeline, median s after spawning zkpilot (JVM fork times from /proc/PID/stat, 10 ms resolution; "
            "steps by when zkpilot printed them on stderr) and after spawning the baseline's first JVM:",
            "", table(rows), ""]
    mem = f"{facts['mem_gib']:.0f} GiB" if facts["mem_gib"] else "?"
    out.append(f"machine: nproc {facts['nproc']}, {facts['cpu']}, {mem} RAM, Linux {facts['kernel']}; "
               f"load average {facts['loadavg_start']:.1f} at start, {facts['loadavg_end']:.1f} at end; "
               f"ZooKeeper {short_version(facts['zookeeper'])}; {facts['java']}")
    return "\n".join(out)


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Prints a table on stdout; progress on stderr.")
    ap.add_argument("--zkpilot", default=str(REPO_ROOT / "build" / "zkpilot"), help="zkpilot binary")
    ap.add_argument("--package", default=str(REPO_ROOT / "packages" / "zookeeper"), help="package directory")
    ap.add_argument("--runs", type=int, default=3, help="repetitions per size (default 3)")
    ap.add_argument("--servers", default="3,5", help="comma-separated ensemble sizes (default 3,5)")
    ap.add_argument("--timeout", type=float, default=120.0, help="deadline of every wait, seconds (default 120)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra parameter for zkpilot deploy, e.g. version=3.9.3 (repeatable; the baseline "
                         "uses the configuration it produces)")
    ap.add_argument("--json", metavar="FILE", help="also write the raw numbers to FILE")
    args = ap.parse_args()

    args.zkpilot = str(Path(args.zkpilot).resolve())
    args.package = str(Path(args.package).resolve())
    if not os.access(args.zkpilot, os.X_OK):
        ap.error(f"{args.zkpilot} is not an executable")
    if not Path(args.package, "package.yaml").exists():
        ap.error(f"{args.package} is not a package directory (no package.yaml)")
    for kv in args.set:
        if kv.split("=", 1)[0] in ("replicas", "clientPort") or "=" not in kv:
            ap.error(f"--set {kv}: replicas and clientPort are set by the benchmark; KEY=VALUE otherwise")
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    try:
        sizes = [int(s) for s in args.servers.split(",") if s.strip()]
    except ValueError:
        ap.error("--servers takes comma-separated integers")

    env = dict(os.environ)
    env.setdefault("ZKPILOT_DISTRIBUTIONS", str(Path.home() / ".local/state/zkpilot/distributions"))

    root = Path(tempfile.mkdtemp(prefix="zkpilot-bench-deploy-"))
    reg = Registry(root, args.zkpilot, env, args.timeout)
    bench = Bench(args, reg, env)
    results: dict[int, dict] = {}

    def body() -> int:
        for n in sizes:
            log(f"{n} servers: capturing the servers' configuration for the baseline (untimed deploy)")
            tmpl = bench.capture(n)
            results[n] = {"zkpilot": [], "baseline": []}
            for run in range(1, args.runs + 1):
                z = bench.zkpilot_run(n, run)
                results[n]["zkpilot"].append(z)
                log(f"{n} servers, run {run}: zkpilot {z['deploy_s']:.3f}s "
                    f"(peak RSS {z['zkpilot_maxrss_kib'] / 1024:.1f} MiB, supervisor "
                    f"{(z['supervisor_hwm_kib'] or 0) / 1024:.1f} MiB)")
                b = bench.baseline_run(tmpl, n, run)
                results[n]["baseline"].append(b)
                log(f"{n} servers, run {run}: baseline {b['baseline_s']:.3f}s ({b['polls']} polls)")
        facts = machine_facts(bench)
        print(report(results, facts, args.runs), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": facts, "runs": args.runs, "set": args.set,
                                                   "results": results},
                                                  indent=2) + "\n")
        return 0

    return run_guarded(reg, body)


if __name__ == "__main__":
    sys.exit(main())
