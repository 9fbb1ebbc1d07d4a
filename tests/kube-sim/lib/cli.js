'use strict';
// The kube-sim commands: start the cluster daemon in the background and wait
// until its API answers, stop it and everything it left, run a command inside
// the cluster network.

const fs = require('fs');
const path = require('path');
const https = require('https');
const { spawn } = require('child_process');
const state = require('./state');

const DAEMON = path.join(__dirname, 'daemon.js');

function alive(pid) {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// GET /readyz with the cluster's admin credentials.
function readyz(stateDir) {
  return new Promise((resolve) => {
    let s;
    try { s = state.read(stateDir); } catch { resolve(false); return; }
    if (!s || !s.apiPort) { resolve(false); return; }
    const req = https.get({
      host: '127.0.0.1', port: s.apiPort, path: '/readyz', timeout: 1000,
      ca: fs.readFileSync(path.join(stateDir, 'pki', 'ca.crt')),
      headers: { Authorization: `Bearer ${s.adminToken}` },
    }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

function logTail(stateDir, lines = 30) {
  try {
    const text = fs.readFileSync(path.join(stateDir, 'kube-sim.log'), 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch { return '(no log)'; }
}

async function start(stateDir, opts) {
  fs.mkdirSync(stateDir, { recursive: true });
  const previous = state.read(stateDir);
  if (previous && alive(previous.pid)) {
    if (await readyz(stateDir)) {
      console.error(`kube-sim: already running (pid ${previous.pid})`);
      console.log(path.join(stateDir, 'kubeconfig'));
      return 0;
    }
    throw new Error(`a daemon (pid ${previous.pid}) runs for ${stateDir} but does not answer; run kube-sim stop first`);
  }
  // A crashed run may have left namespaces and processes: clear them first.
  await require('./cleanup').cleanup(stateDir);
  state.remove(stateDir);
  const log = fs.openSync(path.join(stateDir, 'kube-sim.log'), 'a');
  const child = spawn(process.execPath, [DAEMON, '--state-dir', stateDir], {
    detached: true, stdio: ['ignore', log, log], env: process.env,
  });
  child.unref();
  const deadline = Date.now() + (opts.timeout || 30) * 1000;
  while (Date.now() < deadline) {
    if (!alive(child.pid)) {
      throw new Error(`the cluster daemon exited during start; its log (${path.join(stateDir, 'kube-sim.log')}):\n${logTail(stateDir)}`);
    }
    if (await readyz(stateDir)) {
      console.log(path.join(stateDir, 'kubeconfig'));
      return 0;
    }
    await sleep(50);
  }
  throw new Error(`the API did not answer within ${opts.timeout || 30} s; log:\n${logTail(stateDir)}`);
}

async function stop(stateDir, opts) {
  const s = state.read(stateDir);
  if (s && alive(s.pid)) {
    process.kill(s.pid, 'SIGTERM');
    const deadline = Date.now() + (opts.timeout || 90) * 1000;
    while (alive(s.pid) && Date.now() < deadline) await sleep(50);
    if (alive(s.pid)) {
      console.error(`kube-sim: the daemon (pid ${s.pid}) did not stop in time; killing it`);
      process.kill(s.pid, 'SIGKILL');
      while (alive(s.pid)) await sleep(20);
    }
  }
  const left = await require('./cleanup').cleanup(stateDir);
  if (left.length) console.error(`kube-sim: removed leftovers: ${left.join(', ')}`);
  state.remove(stateDir);
  return 0;
}

async function status(stateDir) {
  const s = state.read(stateDir);
  if (s && alive(s.pid) && await readyz(stateDir)) {
    console.log(`running (pid ${s.pid}), API https://127.0.0.1:${s.apiPort}, kubeconfig ${path.join(stateDir, 'kubeconfig')}`);
    return 0;
  }
  console.log('not running');
  return 3;
}

async function run(stateDir, opts) {
  const s = state.read(stateDir);
  if (!s || !alive(s.pid)) throw new Error(`no cluster runs for ${stateDir}; start it with kube-sim start`);
  const { Network } = require('./network');
  const network = new Network({ stateDir, prefix: s.prefix });
  const result = await network.runIn(opts.rest, { stdio: 'inherit' });
  if (result.signal) return 128 + (require('os').constants.signals[result.signal] || 1);
  return result.exitCode ?? 1;
}

module.exports = { start, stop, run, status };
