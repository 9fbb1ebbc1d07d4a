'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { makeResource } = require('../../lib/registry');
const { cluster, until } = require('./helpers');

function owned(c, owner, name, block = true) {
  return c.store.create(c.r('configmaps'), {
    metadata: {
      name, namespace: 'default',
      ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: block }],
    },
  });
}

test('background: dependents of a deleted owner are deleted, including custom resources', async (t) => {
  const c = cluster(t);
  c.registry.add(makeResource('example.com', 'v1', 'Widget', 'widgets', true, [], [], [], false));
  const widgets = c.r('widgets', 'example.com');
  const owner = c.store.create(widgets, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec: {} });
  owned(c, owner, 'dep-a');
  const child = c.store.create(widgets, {
    apiVersion: 'example.com/v1', kind: 'Widget', spec: {},
    metadata: { name: 'child', namespace: 'default', ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: owner.metadata.uid }] },
  });
  owned(c, child, 'grandchild');
  c.store.delete(widgets, 'default', 'w');
  await until(() => !c.store.tryGet(c.r('configmaps'), 'default', 'dep-a') && !c.store.tryGet(widgets, 'default', 'child')
    && !c.store.tryGet(c.r('configmaps'), 'default', 'grandchild'), { what: 'cascade' });
  // A reference to an owner that never existed is garbage too.
  owned(c, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'ghost', uid: 'no-such-uid' } }, 'orphaned');
  await until(() => !c.store.tryGet(c.r('configmaps'), 'default', 'orphaned'));
});

test('foreground: the owner waits for blocking dependents, then goes', async (t) => {
  const c = cluster(t);
  const stsRes = c.r('statefulsets', 'apps');
  c.store.create(stsRes, {
    metadata: { name: 'zk', namespace: 'default' },
    spec: { replicas: 2, podManagementPolicy: 'Parallel', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });
  await until(() => c.pods().length === 2);
  c.store.delete(stsRes, 'default', 'zk', { propagationPolicy: 'Foreground' });
  await until(() => c.pods().every((p) => p.metadata.deletionTimestamp), { what: 'pods terminating' });
  await c.settle();
  const s = c.store.get(stsRes, 'default', 'zk');
  assert.ok(s.metadata.finalizers.includes('foregroundDeletion'), 'owner still there while pods terminate');
  assert.strictEqual(c.pods().length, 2, 'no replacement pods for a set being deleted');
  c.reap();
  await until(() => !c.store.tryGet(stsRes, 'default', 'zk'), { what: 'owner gone' });
});

test('orphan: dependents lose the reference and stay', async (t) => {
  const c = cluster(t);
  const cm = c.r('configmaps');
  const owner = c.store.create(cm, { metadata: { name: 'owner', namespace: 'default' } });
  owned(c, owner, 'kid');
  c.store.delete(cm, 'default', 'owner', { propagationPolicy: 'Orphan' });
  await until(() => !c.store.tryGet(cm, 'default', 'owner'), { what: 'owner gone' });
  await c.settle();
  const kid = c.store.get(cm, 'default', 'kid');
  assert.strictEqual(kid.metadata.ownerReferences, undefined);
});

test('system namespaces, default ServiceAccount and kube-root-ca.crt exist; deleting a namespace empties it', async (t) => {
  const c = cluster(t);
  const ns = c.r('namespaces');
  for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.ok(c.store.tryGet(ns, '', n), n);
  c.store.create(ns, { metadata: { name: 'team' } });
  await until(() => c.store.tryGet(c.r('serviceaccounts'), 'team', 'default') && c.store.tryGet(c.r('configmaps'), 'team', 'kube-root-ca.crt'));
  assert.strictEqual(c.store.get(c.r('configmaps'), 'team', 'kube-root-ca.crt').data['ca.crt'], 'CA');
  const node = c.store.get(c.r('nodes'), '', 'kube-sim');
  assert.strictEqual(node.status.conditions.find((x) => x.type === 'Ready').status, 'True');
  c.store.create(c.r('pods'), { metadata: { name: 'p', namespace: 'team' }, spec: { nodeName: 'kube-sim', containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running' } });
  c.store.create(c.r('secrets'), { metadata: { name: 's', namespace: 'team' } });
  c.store.delete(ns, '', 'team');
  await until(() => !c.store.tryGet(c.r('secrets'), 'team', 's') && c.pod('p', 'team')?.metadata.deletionTimestamp, { what: 'content deleted' });
  await c.settle();
  const terminating = c.store.get(ns, '', 'team');
  assert.strictEqual(terminating.status.phase, 'Terminating', 'held while a pod terminates');
  if (c.controllers.controllers.namespace.storeKeepsTerminatingNamespaces()) {
    assert.match(terminating.status.conditions.find((x) => x.type === 'NamespaceContentRemaining').message, /pods has 1 resource instances/);
  }
  c.reap('team');
  await until(() => !c.store.tryGet(ns, '', 'team'), { what: 'namespace gone' });
  assert.strictEqual(c.store.list(c.r('serviceaccounts'), 'team').items.length, 0);
});
