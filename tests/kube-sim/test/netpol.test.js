'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const { Network } = require('../lib/network');
const { tcpCheck } = require('../lib/runtime');
const netpol = require('../lib/netpol');
const { isRoot, scratch, listen } = require('./runtime-helpers');

function pod(ns, name, ip, labels, ports = []) {
  return { metadata: { namespace: ns, name, labels }, status: { podIP: ip },
    spec: { containers: [{ name: 'c', ports: ports.map(([n, p]) => ({ name: n, containerPort: p, protocol: 'TCP' })) }] } };
}
function policy(ns, name, spec) {
  return { metadata: { namespace: ns, name }, spec };
}

test('compile: selection, default deny, named ports, endPort, ipBlock', () => {
  const zk = pod('default', 'zk-0', '10.244.0.2', { app: 'zk' }, [['client', 2181], ['election', 3888]]);
  const other = pod('default', 'web', '10.244.0.3', { app: 'web' });
  const podsByIp = { '10.244.0.2': zk, '10.244.0.3': other };
  assert.match(netpol.compile([], zk, { podsByIp }), /chain ingress \{\n\s+type filter hook input priority 0; policy accept;\n\s+\}/);
  const text = netpol.compile([
    policy('default', 'p', {
      podSelector: { matchLabels: { app: 'zk' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'client' }] },
        { from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 7000, endPort: 7010 }] }],
    }),
    policy('other', 'q', { podSelector: {}, ingress: [{}] }),
  ], zk, { podsByIp });
  assert.match(text, /ip saddr 10\.244\.0\.3 tcp dport 2181 accept/);
  assert.match(text, /ip saddr 10\.0\.0\.0\/8 ip saddr != \{ 10\.1\.0\.0\/16 \} tcp dport 7000-7010 accept/);
  assert.match(text, /ip saddr 10\.244\.0\.1 accept\n[\s\S]*drop/);
  assert.ok(!/chain egress \{[^}]*drop/.test(text), 'no egress isolation without an Egress policy');
});

test('a NetworkPolicy blocks the election port, not the client port; egress DNS', { skip: !isRoot && 'needs root' }, async (t) => {
  const { prefix, dir } = scratch('np');
  const net = new Network({ stateDir: dir, prefix });
  const listeners = [];
  t.after(async () => {
    for (const l of listeners) l.kill('SIGKILL');
    await net.down();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await net.up();
  const a = await net.addPod('default/zk-0');
  const b = await net.addPod('default/zk-1');
  const zk0 = pod('default', 'zk-0', a.ip, { app: 'zk' }, [['client', 2181], ['election', 3888]]);
  const zk1 = pod('default', 'zk-1', b.ip, { app: 'zk' }, [['client', 2181], ['election', 3888]]);
  const podsByIp = { [a.ip]: zk0, [b.ip]: zk1 };
  for (const port of [2181, 3888]) listeners.push(await listen(b.netns, port));
  assert.ok((await tcpCheck(a.netns, b.ip, 3888)).ok);

  const deny = policy('default', 'no-election', {
    podSelector: { matchLabels: { app: 'zk' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'zk' } } }], ports: [{ port: 'client' }] }],
  });
  await netpol.apply(b.netns, netpol.compile([deny], zk1, { podsByIp }));
  assert.deepStrictEqual(await tcpCheck(a.netns, b.ip, 2181), { ok: true });
  assert.strictEqual((await tcpCheck(a.netns, b.ip, 3888, { timeoutMs: 500 })).ok, false);
  // The node (kubelet probes) still reaches every port.
  assert.ok((await tcpCheck(net.clusterNetns, b.ip, 3888)).ok);
  // Replacing the ruleset is atomic and complete.
  await netpol.apply(b.netns, netpol.compile([], zk1, { podsByIp }));
  assert.ok((await tcpCheck(a.netns, b.ip, 3888)).ok);

  // Egress: only DNS to kube-dns. Names resolve; pods are unreachable.
  await net.setRecords([{ name: 'zk-1.default.svc.cluster.local', ip: b.ip }]);
  const dnsOnly = policy('default', 'dns-only', {
    podSelector: { matchLabels: { app: 'zk' } },
    policyTypes: ['Egress'],
    egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ port: 53, protocol: 'UDP' }] }],
  });
  await netpol.apply(a.netns, netpol.compile([dnsOnly], zk0, { podsByIp, namespaces: { 'kube-system': {}, default: {} } }));
  const { execFile } = require('child_process');
  const resolveIn = (ns) => new Promise((res) => execFile('/usr/bin/nsenter', [`--net=/run/netns/${ns}`, '/usr/bin/unshare', '-m', '--propagation', 'private', 'sh', '-c',
    `mount --bind ${a.resolvFile} /etc/resolv.conf && getent hosts zk-1`], (e, out) => res(e ? null : String(out))));
  assert.match(await resolveIn(a.netns) || '', /10\.244\.0\.3/);
  assert.strictEqual((await tcpCheck(a.netns, b.ip, 2181, { timeoutMs: 500 })).ok, false);
  await netpol.clear(a.netns);
  assert.ok((await tcpCheck(a.netns, b.ip, 2181)).ok);
});
