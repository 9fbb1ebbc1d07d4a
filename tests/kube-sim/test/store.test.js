'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Registry } = require('../lib/registry');
const { Store } = require('../lib/store');

function setup() {
  const registry = new Registry();
  const store = new Store(registry);
  const r = (p, g = '', v = 'v1') => registry.byPlural(g, v, p);
  store.create(r('namespaces'), { metadata: { name: 'default' } });
  return { store, r };
}

test('create sets uid, resourceVersion, generation; a duplicate is 409', () => {
  const { store, r } = setup();
  const cm = store.create(r('configmaps'), { metadata: { name: 'a', namespace: 'default' }, data: { x: '1' } });
  assert.match(cm.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.ok(Number(cm.metadata.resourceVersion) > 0);
  assert.throws(() => store.create(r('configmaps'), { metadata: { name: 'a', namespace: 'default' } }), { code: 409, reason: 'AlreadyExists' });
  assert.throws(() => store.create(r('configmaps'), { metadata: { name: 'b', namespace: 'nope' } }), { code: 404 });
});

test('a stale update is a 409 Conflict; generation moves on spec changes only', () => {
  const { store, r } = setup();
  const sts = r('statefulsets', 'apps');
  const a = store.create(sts, { metadata: { name: 's', namespace: 'default' }, spec: { replicas: 1 } });
  const b = store.update(sts, { ...a, spec: { replicas: 2 } });
  assert.strictEqual(b.metadata.generation, 2);
  assert.throws(() => store.update(sts, { ...a, spec: { replicas: 3 } }), { code: 409, reason: 'Conflict' });
  const c = store.update(sts, { ...b, metadata: { ...b.metadata, labels: { l: 'x' } } });
  assert.strictEqual(c.metadata.generation, 2);
  const d = store.update(sts, { ...c, status: { replicas: 2 } }, { subresource: 'status' });
  assert.strictEqual(d.metadata.generation, 2);
  assert.deepStrictEqual(d.status, { replicas: 2 });
  const e = store.update(sts, { ...d, status: { replicas: 9 }, spec: { replicas: 2 } });
  assert.deepStrictEqual(e.status, { replicas: 2 }, 'a main-resource update keeps status');
  const same = store.update(sts, e);
  assert.strictEqual(same.metadata.resourceVersion, e.metadata.resourceVersion, 'a no-op write keeps the RV');
});

test('finalizers hold a deleted object until removed', () => {
  const { store, r } = setup();
  const cm = r('configmaps');
  store.create(cm, { metadata: { name: 'f', namespace: 'default', finalizers: ['x/y'] } });
  const d = store.delete(cm, 'default', 'f');
  assert.ok(d.metadata.deletionTimestamp);
  const got = store.get(cm, 'default', 'f');
  store.update(cm, { ...got, metadata: { ...got.metadata, finalizers: [] } });
  assert.strictEqual(store.tryGet(cm, 'default', 'f'), null);
});

test('watch replays from a resourceVersion, 410 when too old, selector transitions', () => {
  const { store, r } = setup();
  const cm = r('configmaps');
  const start = store.currentResourceVersion();
  const seen = [];
  const stop = store.watch(cm, 'default', { resourceVersion: start, labelSelector: 'app=zk' }, (e) => seen.push(`${e.type}:${e.object.metadata.name}`));
  const a = store.create(cm, { metadata: { name: 'a', namespace: 'default', labels: { app: 'zk' } } });
  store.create(cm, { metadata: { name: 'b', namespace: 'default', labels: { app: 'other' } } });
  store.update(cm, { ...a, metadata: { ...a.metadata, labels: { app: 'gone' } } });
  stop();
  assert.deepStrictEqual(seen, ['ADDED:a', 'DELETED:a']);
  for (let i = 0; i < 1100; i++) store.create(cm, { metadata: { generateName: 'g-', namespace: 'default' } });
  assert.throws(() => store.watch(cm, null, { resourceVersion: start }, () => {}), { code: 410 });
});

test('bound pods are deleted gracefully; namespaces terminate', () => {
  const { store, r } = setup();
  const pods = r('pods');
  store.create(pods, { metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'n', containers: [] } });
  const d = store.delete(pods, 'default', 'p');
  assert.strictEqual(d.metadata.deletionGracePeriodSeconds, 30);
  assert.ok(store.tryGet(pods, 'default', 'p'));
  store.delete(pods, 'default', 'p', { gracePeriodSeconds: 0 });
  assert.strictEqual(store.tryGet(pods, 'default', 'p'), null);
  const ns = store.delete(r('namespaces'), '', 'default');
  assert.strictEqual(ns.status.phase, 'Terminating');
  assert.throws(() => store.create(r('configmaps'), { metadata: { name: 'x', namespace: 'default' } }), { code: 403 });
  store.finalizeNamespace('default');
  assert.strictEqual(store.tryGet(r('namespaces'), '', 'default'), null);
});

test('a terminating namespace stays through updates until finalized', () => {
  const { store, r } = setup();
  const ns = r('namespaces');
  store.delete(ns, '', 'default');
  const got = store.get(ns, '', 'default');
  store.update(ns, { ...got, metadata: { ...got.metadata, labels: { x: 'y' } } });
  assert.ok(store.tryGet(ns, '', 'default'), 'still there after an update');
  store.finalizeNamespace('default');
  assert.strictEqual(store.tryGet(ns, '', 'default'), null);
});

test('the terminating-namespace 403 names the object; a pod is due at now + its grace period', () => {
  const { store, r } = setup();
  const pods = r('pods');
  const before = Date.now();
  store.create(pods, { metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'n', terminationGracePeriodSeconds: 60, containers: [] } });
  const d = store.delete(pods, 'default', 'p');
  const due = Date.parse(d.metadata.deletionTimestamp);
  assert.ok(due >= Math.floor(before / 1000) * 1000 + 60000 && due <= Date.now() + 60000, d.metadata.deletionTimestamp);
  const shorter = store.delete(pods, 'default', 'p', { gracePeriodSeconds: 10 });
  assert.strictEqual(shorter.metadata.deletionGracePeriodSeconds, 10);
  assert.strictEqual(Date.parse(shorter.metadata.deletionTimestamp), due - 50000, 'a shorter grace period moves it earlier');
  store.create(r('configmaps'), { metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/x'] } });
  const cm = store.delete(r('configmaps'), 'default', 'held');
  assert.ok(Math.abs(Date.parse(cm.metadata.deletionTimestamp) - Date.now()) < 2000, 'other objects: now');
  assert.strictEqual(cm.metadata.deletionGracePeriodSeconds, 0);

  store.delete(r('namespaces'), '', 'default');
  assert.throws(() => store.create(r('configmaps'), { metadata: { name: 'x', namespace: 'default' } }), {
    code: 403, reason: 'Forbidden',
    message: 'configmaps "x" is forbidden: unable to create new content in namespace default because it is being terminated',
  });
  assert.throws(() => store.create(r('statefulsets', 'apps'), { metadata: { generateName: 'web-', namespace: 'default' }, spec: {} }), {
    code: 403, message: 'statefulsets.apps is forbidden: unable to create new content in namespace default because it is being terminated',
  });
});
