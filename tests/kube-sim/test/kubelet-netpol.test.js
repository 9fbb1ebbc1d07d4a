'use strict';
// The kubelet with the network agent (root only): a pod's NetworkPolicies are
// in force before its first container starts.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const readline = require('readline');
const { spawn } = require('child_process');
const { Registry } = require('../lib/registry');
const { Store } = require('../lib/store');
const { Network } = require('../lib/network');
const { Kubelet, podKeyOf } = require('../lib/kubelet');
const { NetAgent } = require('../lib/netagent');
const netpol = require('../lib/netpol');
const runtime = require('../lib/runtime');
const images = require('../lib/images');
const { until, podSpec, cstatus } = require('./kubelet-helpers');

const isRoot = process.getuid && process.getuid() === 0;

// One process in network namespace `netns` that tries a TCP connection for
// every "HOST PORT" line it reads and prints "HOST PORT connected" or the error.
const CONNECTOR = `
const net = require('net');
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const [host, port] = line.split(' ');
  const s = net.connect({ host, port: Number(port) });
  const say = (what) => { clearTimeout(t); s.destroy(); console.log(line + ' ' + what); };
  const t = setTimeout(() => say('timeout'), 300);
  s.on('connect', () => say('connected'));
  s.on('error', (e) => say(e.code || e.message));
});
console.log('ready');
`;

function connector(netns) {
  const child = spawn('/usr/bin/nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', CONNECTOR], { stdio: ['pipe', 'pipe', 'inherit'] });
  const results = [];
  const lines = readline.createInterface({ input: child.stdout });
  const ready = new Promise((resolve) => lines.once('line', resolve));
  lines.on('line', (l) => { if (l !== 'ready') results.push(l); });
  return { child, results, ready, tryConnect: (ip, port) => child.stdin.write(`${ip} ${port}\n`) };
}

test('a pod selected by a deny-all ingress policy is unreachable from its first instant', { skip: !isRoot && 'needs root' }, async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-np-test-'));
  const registry = new Registry();
  const store = new Store(registry);
  const r = (p, g = '') => registry.byPlural(g, 'v1', p);
  store.create(r('namespaces'), { metadata: { name: 'default' } });
  const network = new Network({ stateDir, prefix: `klnp${crypto.randomBytes(2).toString('hex')}` });
  await network.up();
  const logs = [];
  const log = (...a) => logs.push(a.join(' '));
  // Rules take a second to load here (as on a busy node): the pod must wait.
  const slowNetpol = { ...netpol, apply: async (netns, text) => { await new Promise((res) => setTimeout(res, 1000)); return netpol.apply(netns, text); } };
  const agent = new NetAgent({ store, registry, network, netpol: slowNetpol, podKeyOf, log });
  await agent.start();
  const auth = { pki: { ca: { certPem: 'test' } }, issueToken: () => ({ token: 'token' }) };
  const kubelet = new Kubelet({ store, registry, network, runtime, images, auth, stateDir, log, netagent: agent, backoffBaseMs: 200, stopGraceSeconds: 1 });
  await kubelet.start();
  let conn = null;
  t.after(async () => {
    if (conn) conn.child.kill('SIGKILL');
    await kubelet.stop();
    agent.stop();
    await network.down();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  const pod = (name) => store.tryGet(r('pods'), 'default', name);
  const show = (name) => () => ({ status: pod(name) && pod(name).status, log: logs.slice(-5) });

  store.create(r('networkpolicies', 'networking.k8s.io'), {
    metadata: { name: 'deny-all', namespace: 'default' },
    spec: { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'] },
  });
  store.create(r('pods'), podSpec('client', [{ name: 'main', command: ['sleep', '1000'] }], { spec: { terminationGracePeriodSeconds: 0 } }));
  await until(() => cstatus(pod('client'), 'main')?.state.running, { what: 'client running', show: show('client') });
  conn = connector(network.podNetwork('default/client').netns);
  await conn.ready;

  // From the moment the server's network exists, the client keeps trying.
  let serverIp = null;
  let timer = null;
  kubelet.on('pod-network', (p) => {
    if (p.metadata.name !== 'server') return;
    serverIp = network.podNetwork('default/server').ip;
    timer = setInterval(() => conn.tryConnect(serverIp, 8080), 10);
  });
  const created = store.create(r('pods'), podSpec('server', [{
    name: 'main',
    // Its first act: whether the policy is loaded in its namespace; then it listens.
    command: ['bash', '-c', 'if nft list table inet kubesim_netpol 2>/dev/null | grep -q drop; then echo policy-in-force; else echo no-policy; fi; exec python3 -m http.server 8080'],
    readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
  }], { metadata: { labels: { app: 'server' } }, spec: { terminationGracePeriodSeconds: 0 } }));
  try {
    await until(() => cstatus(pod('server'), 'main')?.ready, { what: 'server ready (probes from the node pass)', show: show('server') });
    const seen = conn.results.length;
    await until(() => conn.results.length >= seen + 20, { what: 'more attempts' });
  } finally {
    clearInterval(timer);
  }
  assert.ok(serverIp, 'the server got a network');
  assert.ok(conn.results.length > 20, `attempts made: ${conn.results.length}`);
  assert.deepStrictEqual(conn.results.filter((l) => l.endsWith(' connected')), [], 'no connection got through');
  const logFile = path.join(stateDir, 'pods', created.metadata.uid, 'logs', 'main', '0.log');
  assert.strictEqual(fs.readFileSync(logFile, 'utf8').split('\n')[0].split(' ').slice(3).join(' '), 'policy-in-force');

  // Without the policy the same client gets through: the listener was there.
  store.delete(r('networkpolicies', 'networking.k8s.io'), 'default', 'deny-all');
  const before = conn.results.length;
  const tries = setInterval(() => conn.tryConnect(serverIp, 8080), 50);
  try {
    await until(() => conn.results.slice(before).some((l) => l.endsWith(' connected')), { what: 'a connection once the policy is gone' });
  } finally {
    clearInterval(tries);
  }
});
