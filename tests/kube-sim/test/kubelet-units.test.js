'use strict';
// The kubelet's pure parts: status wording, QoS, environment, the atomic
// writer layout.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ps = require('../lib/podstatus');
const { buildEnv, ConfigError } = require('../lib/podenv');
const { atomicWrite } = require('../lib/volumes');

test('durations read as Go prints them', () => {
  assert.deepStrictEqual([200, 10000, 20000, 80000, 160000, 300000].map(ps.goDuration), ['200ms', '10s', '20s', '1m20s', '2m40s', '5m0s']);
});

test('QoS classes', () => {
  const pod = (resources) => ({ spec: { containers: [{ name: 'a', resources }] } });
  assert.strictEqual(ps.qosClass(pod({})), 'BestEffort');
  assert.strictEqual(ps.qosClass(pod({ limits: { cpu: '1', memory: '1Gi' } })), 'Guaranteed');
  assert.strictEqual(ps.qosClass(pod({ requests: { cpu: '500m' } })), 'Burstable');
  assert.strictEqual(ps.qosClass(pod({ requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: '1', memory: '1Gi' } })), 'Guaranteed');
});

test('env: fieldRef, configMap and secret keys, envFrom, service links, $(VAR)', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { a: 'b' } }, spec: { nodeName: 'kube-sim' }, status: { podIP: '10.244.0.9' } };
  const svc = { metadata: { name: 'zk-client', namespace: 'ns' }, spec: { clusterIP: '10.96.0.5', ports: [{ name: 'client', port: 2181, protocol: 'TCP' }] } };
  const lookup = {
    configMap: (ns, n) => (n === 'cm' ? { data: { k: 'v', other: 'o' } } : null),
    secret: (ns, n) => (n === 's' ? { data: { pw: Buffer.from('secret').toString('base64') } } : null),
    services: (ns) => (ns === 'ns' ? [svc] : []),
  };
  const container = {
    name: 'c',
    envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
    env: [
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'K', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'pw' } } },
      { name: 'URL', value: 'http://$(IP):8080/$$(IP)' },
      { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k', optional: true } } },
    ],
    command: ['echo', '$(K)'],
  };
  const r = buildEnv(pod, container, lookup);
  assert.strictEqual(r.env.IP, '10.244.0.9');
  assert.strictEqual(r.env.NODE, 'kube-sim');
  assert.strictEqual(r.env.K, 'v');
  assert.strictEqual(r.env.CM_other, 'o');
  assert.strictEqual(r.env.PW, 'secret');
  assert.strictEqual(r.env.URL, 'http://10.244.0.9:8080/$(IP)');
  assert.ok(!('OPT' in r.env));
  assert.strictEqual(r.env.ZK_CLIENT_SERVICE_HOST, '10.96.0.5');
  assert.strictEqual(r.env.ZK_CLIENT_SERVICE_PORT_CLIENT, '2181');
  assert.strictEqual(r.env.ZK_CLIENT_PORT_2181_TCP_ADDR, '10.96.0.5');
  assert.deepStrictEqual(r.command, ['echo', 'v']);
  const noLinks = buildEnv({ ...pod, spec: { enableServiceLinks: false } }, { name: 'c' }, lookup);
  assert.ok(!('ZK_CLIENT_SERVICE_HOST' in noLinks.env));
  assert.throws(() => buildEnv(pod, { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'nope' } } }] }, lookup),
    (e) => e instanceof ConfigError && e.message === "couldn't find key nope in ConfigMap ns/cm");
});

test('the atomic writer: ..data symlink, top-level links, one swap per change', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
  try {
    const files = (m) => new Map(Object.entries(m).map(([k, v]) => [k, { data: Buffer.from(v), mode: 0o644 }]));
    assert.strictEqual(await atomicWrite(dir, files({ 'a.txt': '1', 'sub/b.txt': '2' })), true);
    assert.match(fs.readlinkSync(path.join(dir, '..data')), /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$/);
    assert.strictEqual(fs.readlinkSync(path.join(dir, 'a.txt')), '..data/a.txt');
    assert.strictEqual(fs.readFileSync(path.join(dir, 'sub', 'b.txt'), 'utf8'), '2');
    assert.strictEqual(await atomicWrite(dir, files({ 'a.txt': '1', 'sub/b.txt': '2' })), false, 'no change, no write');
    const before = fs.readlinkSync(path.join(dir, '..data'));
    await atomicWrite(dir, files({ 'a.txt': 'new' }));
    assert.notStrictEqual(fs.readlinkSync(path.join(dir, '..data')), before);
    assert.strictEqual(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'new');
    assert.ok(!fs.existsSync(path.join(dir, 'sub')), 'removed keys go');
    assert.ok(!fs.existsSync(path.join(dir, before)), 'the old payload goes');
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

