'use strict';
// A store, the real cluster network and runtime, and a Kubelet, for the
// kubelet tests (root only). Every namespace has the prefix of this run.

const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { Registry } = require('../lib/registry');
const { Store } = require('../lib/store');
const { Network } = require('../lib/network');
const { Kubelet } = require('../lib/kubelet');
const runtime = require('../lib/runtime');
const images = require('../lib/images');

// The container image of the tests: its layer sits over the host's / so
// bash, sleep and python3 are there.
const IMAGE = 'zookeeper:3.8.0';

async function startCluster({ backoffBaseMs = 200 } = {}) {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-test-'));
  const prefix = `klt${crypto.randomBytes(2).toString('hex')}`;
  const registry = new Registry();
  const store = new Store(registry);
  const r = (p) => registry.byPlural('', 'v1', p);
  store.create(r('namespaces'), { metadata: { name: 'default' } });
  const network = new Network({ stateDir, prefix });
  await network.up();
  const auth = {
    pki: { ca: { certPem: '-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n' } },
    issueToken: (sa, o) => ({ token: `token-for-${sa.metadata.namespace}-${sa.metadata.name}-${(o.audiences || ['api']).join(',')}` }),
  };
  const logs = [];
  const kubelet = new Kubelet({
    store, registry, network, runtime, images, auth, stateDir, log: (...a) => logs.push(a.join(' ')), backoffBaseMs, stopGraceSeconds: 2,
  });
  await kubelet.start();
  const cluster = {
    stateDir, store, registry, network, kubelet, r, logs,
    pods: r('pods'),
    pod: (name, ns = 'default') => store.tryGet(r('pods'), ns, name),
    events: (name) => store.list(r('events'), 'default').items.filter((e) => e.involvedObject.name === name),
    async stop() {
      await kubelet.stop();
      await network.down();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return cluster;
}

// Polls fn() until it returns a truthy value; fails with what it saw last.
async function until(fn, { timeoutMs = 20000, what = 'condition', show } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try { last = await fn(); } catch (e) { last = e; }
    if (last && !(last instanceof Error)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${show ? `: ${JSON.stringify(show(), null, 1)}` : ''}${last instanceof Error ? ` (${last.message})` : ''}`);
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

function podSpec(name, containers, extra = {}) {
  return {
    metadata: { name, namespace: 'default', ...(extra.metadata || {}) },
    spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 5, ...extra.spec, containers: containers.map((c) => ({ image: IMAGE, ...c })) },
  };
}

const cstatus = (pod, name) => (pod && pod.status && (pod.status.containerStatuses || []).find((c) => c.name === name)) || null;
const cond = (pod, type) => (pod && pod.status && (pod.status.conditions || []).find((c) => c.type === type)) || null;

module.exports = { startCluster, until, podSpec, cstatus, cond, IMAGE };
