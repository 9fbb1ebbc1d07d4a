'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { cluster, until, events } = require('./helpers');

function deployObject(name, extra = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'v1' }] } },
      ...extra,
    },
  };
}

// kubectl's rollout status for a Deployment (polymorphichelpers/rollout_status.go).
function rolloutDone(d) {
  const s = d.status || {};
  if (!(d.metadata.generation <= (s.observedGeneration || 0))) return false;
  const want = d.spec.replicas ?? 1;
  return (s.updatedReplicas || 0) >= want && !((s.replicas || 0) > (s.updatedReplicas || 0))
    && !((s.availableReplicas || 0) < (s.updatedReplicas || 0));
}

// The kubelet: every live pod runs and is ready; deleted pods finish terminating.
function kubelet(c) {
  for (const p of c.pods()) {
    if (p.metadata.deletionTimestamp) continue;
    if (p.status.phase !== 'Running') c.setPod(p.metadata.name);
  }
  c.reap();
}

test('a Deployment makes a ReplicaSet and pods and reports a complete rollout', async (t) => {
  const c = cluster(t);
  const dRes = c.r('deployments', 'apps');
  c.store.create(dRes, deployObject('web'));
  await until(() => c.pods().length === 3, { what: '3 pods' });
  const rs = c.store.list(c.r('replicasets', 'apps'), 'default').items;
  assert.strictEqual(rs.length, 1);
  const hash = rs[0].metadata.labels['pod-template-hash'];
  assert.strictEqual(rs[0].metadata.name, `web-${hash}`);
  assert.strictEqual(rs[0].metadata.annotations['deployment.kubernetes.io/revision'], '1');
  for (const p of c.pods()) {
    assert.match(p.metadata.name, new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
    assert.strictEqual(p.metadata.labels['pod-template-hash'], hash);
    assert.strictEqual(p.spec.nodeName, 'kube-sim');
  }
  kubelet(c);
  const d = await until(() => { const x = c.store.get(dRes, 'default', 'web'); return rolloutDone(x) && x.status.availableReplicas === 3 && x; }, { what: 'rollout' });
  const prog = d.status.conditions.find((x) => x.type === 'Progressing');
  assert.strictEqual(prog.reason, 'NewReplicaSetAvailable');
  assert.strictEqual(d.status.conditions.find((x) => x.type === 'Available').status, 'True');
  assert.strictEqual(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  const msgs = events(c.store, c.registry).map((e) => `${e.reason}: ${e.message}`);
  assert.ok(msgs.includes(`ScalingReplicaSet: Scaled up replica set web-${hash} from 0 to 3`), msgs.join('\n'));
  assert.ok(msgs.some((m) => /^SuccessfulCreate: Created pod: web-/.test(m)));
});

test('RollingUpdate to a new template never exceeds maxSurge and reaches complete status', async (t) => {
  const c = cluster(t);
  const dRes = c.r('deployments', 'apps');
  c.store.create(dRes, deployObject('web'));
  await until(() => c.pods().length === 3);
  kubelet(c);
  await until(() => rolloutDone(c.store.get(dRes, 'default', 'web')) && c.store.get(dRes, 'default', 'web').status.availableReplicas === 3);
  const d = c.store.get(dRes, 'default', 'web');
  d.spec.template.spec.containers[0].image = 'v2';
  c.store.update(dRes, d);
  let maxLive = 0;
  const done = await until(() => {
    const live = c.pods().filter((p) => !p.metadata.deletionTimestamp).length;
    maxLive = Math.max(maxLive, live);
    kubelet(c);
    const x = c.store.get(dRes, 'default', 'web');
    return rolloutDone(x) && x.status.replicas === 3 && x;
  }, { what: 'new rollout complete' });
  assert.ok(maxLive <= 4, `at most replicas + maxSurge pods (saw ${maxLive})`);
  const rsList = c.store.list(c.r('replicasets', 'apps'), 'default').items;
  assert.strictEqual(rsList.length, 2);
  const newRS = rsList.find((r) => r.spec.template.spec.containers[0].image === 'v2');
  const oldRS = rsList.find((r) => r !== newRS);
  assert.strictEqual(newRS.spec.replicas, 3);
  assert.strictEqual(oldRS.spec.replicas, 0);
  assert.strictEqual(newRS.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  assert.strictEqual(done.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  assert.strictEqual(done.status.updatedReplicas, 3);
  assert.strictEqual(done.status.unavailableReplicas, 0);
  await until(() => c.store.get(dRes, 'default', 'web').status.conditions.find((x) => x.type === 'Progressing').reason === 'NewReplicaSetAvailable');
  assert.ok(c.pods().every((p) => p.metadata.labels['pod-template-hash'] === newRS.metadata.labels['pod-template-hash']));
});

test('Recreate removes every old pod before making new ones', async (t) => {
  const c = cluster(t);
  const dRes = c.r('deployments', 'apps');
  c.store.create(dRes, deployObject('rc', { replicas: 2, strategy: { type: 'Recreate' } }));
  await until(() => c.pods().length === 2);
  kubelet(c);
  await until(() => rolloutDone(c.store.get(dRes, 'default', 'rc')));
  const d = c.store.get(dRes, 'default', 'rc');
  d.spec.template.spec.containers[0].image = 'v2';
  c.store.update(dRes, d);
  await until(() => c.pods().filter((p) => p.metadata.deletionTimestamp).length === 2, { what: 'old pods terminating' });
  await c.settle();
  assert.ok(c.pods().every((p) => p.spec.containers[0].image === 'v1'), 'no new pod while old ones terminate');
  c.reap();
  await until(() => c.pods().filter((p) => p.spec.containers[0].image === 'v2').length === 2, { what: 'new pods' });
  kubelet(c);
  await until(() => rolloutDone(c.store.get(dRes, 'default', 'rc')));
});
