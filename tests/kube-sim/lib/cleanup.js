'use strict';
// Removes whatever a cluster of a state directory left on the machine, whether
// it stopped cleanly or was killed: every process inside its network
// namespaces (pods, DNS), the namespaces themselves, and mounts under the
// state directory. Idempotent. Returns what it removed.

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { prefixFor } = require('./state');

function sh(cmd, args) {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { return ''; }
}

function ourNamespaces(prefix) {
  return sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(prefix + '-'));
}

// Processes inside our network namespaces: every pod's processes, the
// cluster DNS and the API forwarder live in one.
function ourProcesses(namespaces) {
  const pids = new Set();
  for (const ns of namespaces) {
    for (const p of sh('ip', ['netns', 'pids', ns]).split('\n')) if (/^\d+$/.test(p.trim())) pids.add(Number(p));
  }
  pids.delete(process.pid);
  return [...pids];
}

function mountsUnder(dir) {
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const points = lines.map((l) => l.split(' ')[4]).filter((p) => p && (p === dir || p.startsWith(dir + '/')));
  return points.sort((a, b) => b.length - a.length); // deepest first
}

async function cleanup(stateDir) {
  const dir = path.resolve(stateDir);
  const prefix = prefixFor(dir);
  const removed = [];
  const namespaces = ourNamespaces(prefix);
  const pids = ourProcesses(namespaces);
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); removed.push(`process ${pid}`); } catch { /* already gone */ }
  }
  // Wait (bounded) for the kernel to reap them, so their namespaces can go.
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && pids.some((p) => fs.existsSync(`/proc/${p}`) && !isZombie(p))) {
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const ns of namespaces) {
    sh('ip', ['netns', 'del', ns]);
    fs.rmSync(path.join('/etc/netns', ns), { recursive: true, force: true });
    removed.push(`netns ${ns}`);
  }
  for (const m of mountsUnder(dir)) {
    sh('umount', ['-l', m]);
    removed.push(`mount ${m}`);
  }
  return removed;
}

function isZombie(pid) {
  try { return / Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')')); } catch { return true; }
}

module.exports = { cleanup, ourNamespaces };
