'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const { execFileSync } = require('child_process');
const { Network, allocateClusterIP } = require('../lib/network');
const { tcpCheck } = require('../lib/runtime');
const { isRoot, scratch, listen, until, netnsList } = require('./runtime-helpers');

test('allocateClusterIP skips reserved and used addresses', () => {
  assert.strictEqual(allocateClusterIP([]), '10.96.0.2');
  assert.strictEqual(allocateClusterIP(['10.96.0.2', '10.96.0.3']), '10.96.0.4');
  const used = []; for (let i = 2; i < 10; i++) used.push(`10.96.0.${i}`);
  assert.strictEqual(allocateClusterIP(used), '10.96.0.11');
});

test('pod network: IPs, DNS, services, partition, down', { skip: !isRoot && 'needs root' }, async (t) => {
  const { prefix, dir } = scratch('net');
  const net = new Network({ stateDir: dir, prefix });
  const listeners = [];
  t.after(async () => {
    for (const l of listeners) l.kill('SIGKILL');
    await net.down();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await net.up();
  const a = await net.addPod('default/a');
  const b = await net.addPod('default/b', { subdomain: 'hs' });
  assert.strictEqual(a.ip, '10.244.0.2');
  assert.strictEqual(b.ip, '10.244.0.3');
  assert.match(fs.readFileSync(b.hostsFile, 'utf8'), /10\.244\.0\.3\tb\.hs\.default\.svc\.cluster\.local\tb/);
  assert.match(fs.readFileSync(b.resolvFile, 'utf8'), /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\nnameserver 10\.244\.0\.1\noptions ndots:5/);

  listeners.push(await listen(b.netns, 7000, 'from-b'));
  // By IP, from another pod.
  assert.deepStrictEqual(await tcpCheck(a.netns, b.ip, 7000), { ok: true });
  // By DNS name, through runIn (the cluster DNS, search path of the namespace).
  await net.setRecords([{ name: 'b.hs.default.svc.cluster.local', ip: b.ip }]);
  const r = await net.runIn(['bash', '-c', 'getent hosts b.hs && exec 3<>/dev/tcp/b.hs.default.svc.cluster.local/7000 && cat <&3']);
  assert.strictEqual(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /10\.244\.0\.3\s+b\.hs\.default\.svc\.cluster\.local/);
  assert.match(r.stdout, /from-b$/);
  // Names outside the cluster zone are NXDOMAIN, never forwarded.
  const nx = await net.runIn(['getent', 'hosts', 'example.com']);
  assert.notStrictEqual(nx.exitCode, 0);

  // A ClusterIP reaches the endpoint, from a pod and from the endpoint itself.
  await net.setServices([{ clusterIP: '10.96.0.5', ports: [{ port: 80, protocol: 'TCP', targetPort: 7000 }], endpoints: [b.ip] }]);
  assert.deepStrictEqual(await tcpCheck(a.netns, '10.96.0.5', 80), { ok: true });
  assert.deepStrictEqual(await tcpCheck(b.netns, '10.96.0.5', 80), { ok: true });
  await net.setServices([]);
  assert.strictEqual((await tcpCheck(a.netns, '10.96.0.5', 80, { timeoutMs: 500 })).ok, false);

  // Partition cuts b off (loopback still works); heal restores it.
  await net.partition('default/b');
  assert.strictEqual((await tcpCheck(a.netns, b.ip, 7000, { timeoutMs: 500 })).ok, false);
  assert.deepStrictEqual(await tcpCheck(b.netns, '127.0.0.1', 7000), { ok: true });
  await net.heal('default/b');
  assert.deepStrictEqual(await tcpCheck(a.netns, b.ip, 7000), { ok: true });

  // Freed addresses are reused.
  await net.removePod('default/a');
  assert.ok(!netnsList().includes(a.netns));
  const c = await net.addPod('default/c');
  assert.strictEqual(c.ip, '10.244.0.2');

  // down(): no namespace, process or mount of ours is left.
  await net.down();
  await until(() => !netnsList().includes(prefix), { what: 'namespaces gone' });
  assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(prefix));
  assert.ok(!execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(dir));
  // Idempotent, and a fresh instance cleans leftovers of a "crashed" one.
  await net.down();
  const again = new Network({ stateDir: dir, prefix });
  await again.up();
  await again.addPod('default/x');
  const fresh = new Network({ stateDir: dir, prefix });
  await fresh.down();
  assert.ok(!netnsList().includes(prefix));
  assert.ok(!execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(dir));
});
