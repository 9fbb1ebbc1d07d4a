'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { jsonMergePatch, jsonPatch, strategicMergePatch, strategicMergeUnsupported, PatchError } = require('../lib/patch');
const { patchMetaFor, patchMetaFromCRD, TYPES, KINDS } = require('../lib/patchmeta');

const podMeta = () => patchMetaFor('v1', 'Pod');
const pod = () => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x'] },
  spec: {
    containers: [
      { name: 'zk', image: 'zk:1', ports: [{ containerPort: 2181 }, { containerPort: 2888 }],
        env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], args: ['a', 'b'] },
      { name: 'side', image: 'busybox' },
    ],
    tolerations: [{ key: 't1' }],
    volumes: [{ name: 'data', emptyDir: {} }],
  },
});

test('json merge patch follows RFC 7386', () => {
  const t = { a: 'b', c: { d: 'e', f: 'g' }, l: [1, 2] };
  assert.deepEqual(jsonMergePatch(t, { a: 'z', c: { f: null }, l: [3] }), { a: 'z', c: { d: 'e' }, l: [3] });
  assert.deepEqual(jsonMergePatch({ a: 'foo' }, 'bar'), 'bar');
  assert.deepEqual(jsonMergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
  assert.deepEqual(jsonMergePatch([1, 2], { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  assert.deepEqual(t.c, { d: 'e', f: 'g' }, 'input unchanged');
});

test('json patch: add, remove, replace, move, copy, test', () => {
  const doc = { metadata: { labels: { a: '1' } }, list: [1, 2, 3] };
  const out = jsonPatch(doc, [
    { op: 'add', path: '/metadata/labels/b~1c', value: '2' },
    { op: 'add', path: '/list/-', value: 4 },
    { op: 'add', path: '/list/0', value: 0 },
    { op: 'remove', path: '/list/1' },
    { op: 'replace', path: '/metadata/labels/a', value: 'x' },
    { op: 'copy', from: '/metadata/labels/a', path: '/copied' },
    { op: 'move', from: '/copied', path: '/moved' },
    { op: 'test', path: '/moved', value: 'x' },
  ]);
  assert.deepEqual(out, { metadata: { labels: { a: 'x', 'b/c': '2' } }, list: [0, 2, 3, 4], moved: 'x' });
  assert.deepEqual(doc.list, [1, 2, 3]);
});

test('json patch failures carry a status code and a clear message', () => {
  assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]),
    (e) => e instanceof PatchError && e.code === 422 && /testing value \/a failed/.test(e.message));
  assert.throws(() => jsonPatch({}, [{ op: 'replace', path: '/missing', value: 1 }]), (e) => e.code === 422 && /missing/.test(e.message));
  assert.throws(() => jsonPatch({}, [{ op: 'remove', path: '/a/b' }]), (e) => e.code === 422);
  assert.throws(() => jsonPatch({ l: [] }, [{ op: 'add', path: '/l/5', value: 1 }]), (e) => e.code === 422 && /out of bounds/.test(e.message));
  assert.throws(() => jsonPatch({}, [{ op: 'frob', path: '/a' }]), (e) => e.code === 400);
  assert.throws(() => jsonPatch({}, { op: 'add' }), (e) => e.code === 400);
  assert.throws(() => jsonPatch({}, [{ op: 'add', path: '/a' }]), (e) => e.code === 400);
  assert.throws(() => jsonPatch({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]), (e) => e.code === 422);
});

test('patch metadata table is consistent and covers the served kinds', () => {
  for (const [name, fields] of Object.entries(TYPES)) {
    for (const [f, spec] of Object.entries(fields)) {
      if (f === '.') continue;
      if (spec.t) assert.ok(TYPES[spec.t], `${name}.${f} refers to unknown type ${spec.t}`);
      if (spec.list === 'map') assert.ok(spec.keys && spec.keys.length, `${name}.${f} list-map without keys`);
    }
  }
  for (const k of ['v1/Pod', 'v1/Service', 'v1/ConfigMap', 'v1/Secret', 'apps/v1/StatefulSet', 'apps/v1/Deployment',
    'batch/v1/Job', 'policy/v1/PodDisruptionBudget', 'networking.k8s.io/v1/NetworkPolicy', 'rbac.authorization.k8s.io/v1/Role',
    'v1/PersistentVolumeClaim', 'v1/ServiceAccount', 'v1/Namespace', 'v1/Endpoints', 'discovery.k8s.io/v1/EndpointSlice',
    'coordination.k8s.io/v1/Lease', 'v1/Event', 'apiextensions.k8s.io/v1/CustomResourceDefinition']) {
    assert.ok(KINDS[k], k);
  }
  const c = podMeta().child('spec').child('containers');
  assert.deepEqual([c.listType, c.listKeys, c.patchStrategies, c.patchMergeKey], ['map', ['name'], ['merge'], 'name']);
  const ports = c.item().child('ports');
  assert.deepEqual([ports.listKeys, ports.keyDefault('protocol'), ports.patchMergeKey], [['containerPort', 'protocol'], 'TCP', 'containerPort']);
  assert.equal(podMeta().child('metadata').child('finalizers').listType, 'set');
  assert.equal(podMeta().child('spec').child('tolerations').listType, 'atomic');
  assert.equal(patchMetaFor('apps/v1', 'Deployment').child('spec').child('selector').atomic, true);
  assert.equal(patchMetaFor('example.com/v1', 'Thing'), null);
});

test('strategic merge: containers merged by name, ports by containerPort, env by name', () => {
  const out = strategicMergePatch(pod(), {
    spec: { containers: [{ name: 'zk', image: 'zk:2', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }], ports: [{ containerPort: 3888 }] },
      { name: 'new', image: 'n' }] },
  }, podMeta());
  const zk = out.spec.containers.find((c) => c.name === 'zk');
  assert.equal(zk.image, 'zk:2');
  assert.deepEqual(zk.env, [{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
  // As on the real server: patch items come first unless the live order places a server-only item before them.
  assert.deepEqual(zk.ports.map((p) => p.containerPort), [3888, 2181, 2888]);
  assert.deepEqual(zk.args, ['a', 'b']);
  assert.deepEqual(out.spec.containers.map((c) => c.name), ['zk', 'new', 'side']);
});

test('strategic merge: lists without merge strategy are replaced, null deletes keys', () => {
  const out = strategicMergePatch(pod(), {
    metadata: { labels: { b: null, c: '3' } },
    spec: { tolerations: [{ key: 't2' }], containers: [{ name: 'zk', args: ['c'] }] },
  }, podMeta());
  assert.deepEqual(out.metadata.labels, { a: '1', c: '3' });
  assert.deepEqual(out.spec.tolerations, [{ key: 't2' }]);
  assert.deepEqual(out.spec.containers[0].args, ['c']);
});

test('strategic merge: finalizers are a set of primitives; $deleteFromPrimitiveList removes', () => {
  let out = strategicMergePatch(pod(), { metadata: { finalizers: ['y', 'x'] } }, podMeta());
  assert.deepEqual(out.metadata.finalizers.sort(), ['x', 'y']);
  out = strategicMergePatch(out, { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } }, podMeta());
  assert.deepEqual(out.metadata.finalizers, ['y']);
});

test('strategic merge: $patch delete / replace in lists and maps', () => {
  let out = strategicMergePatch(pod(), { spec: { containers: [{ name: 'side', $patch: 'delete' }] } }, podMeta());
  assert.deepEqual(out.spec.containers.map((c) => c.name), ['zk']);
  out = strategicMergePatch(pod(), { spec: { containers: [{ name: 'only', image: 'o' }, { $patch: 'replace' }] } }, podMeta());
  assert.deepEqual(out.spec.containers, [{ name: 'only', image: 'o' }]);
  out = strategicMergePatch(pod(), { metadata: { labels: { $patch: 'replace', z: '9' } } }, podMeta());
  assert.deepEqual(out.metadata.labels, { z: '9' });
  out = strategicMergePatch(pod(), { spec: { containers: [{ name: 'zk', env: [{ name: 'A', $patch: 'delete' }] }] } }, podMeta());
  assert.deepEqual(out.spec.containers[0].env, [{ name: 'B', value: '2' }]);
  assert.throws(() => strategicMergePatch(pod(), { spec: { containers: [{ image: 'nokey' }] } }, podMeta()),
    (e) => e.code === 400 && /merge key/.test(e.message));
});

test('strategic merge: $setElementOrder orders the merged list', () => {
  const out = strategicMergePatch(pod(), {
    spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'zk' }], containers: [{ name: 'zk', image: 'zk:3' }] },
  }, podMeta());
  assert.deepEqual(out.spec.containers.map((c) => [c.name, c.image]), [['side', 'busybox'], ['zk', 'zk:3']]);
});

test('strategic merge: $retainKeys clears fields not listed (Deployment strategy, volumes)', () => {
  const dep = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
  const out = strategicMergePatch(dep, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, patchMetaFor('apps/v1', 'Deployment'));
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  const v = strategicMergePatch(pod(), { spec: { volumes: [{ name: 'data', $retainKeys: ['name', 'configMap'], configMap: { name: 'cm' } }] } }, podMeta());
  assert.deepEqual(v.spec.volumes, [{ name: 'data', configMap: { name: 'cm' } }]);
  assert.throws(() => strategicMergePatch(dep, { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } }, patchMetaFor('apps/v1', 'Deployment')),
    (e) => e.code === 400);
});

test('strategic merge: ownerReferences by uid, conditions by type, PDB selector replaced', () => {
  const obj = { metadata: { ownerReferences: [{ uid: 'u1', name: 'a' }] }, status: { conditions: [{ type: 'Ready', status: 'False' }] } };
  const out = strategicMergePatch(obj, { metadata: { ownerReferences: [{ uid: 'u2', name: 'b' }] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, podMeta());
  assert.deepEqual(out.metadata.ownerReferences.map((o) => o.uid), ['u2', 'u1']);
  assert.deepEqual(out.status.conditions, [{ type: 'Ready', status: 'True' }]);
  const pdb = { spec: { selector: { matchLabels: { a: '1' } } } };
  const p = strategicMergePatch(pdb, { spec: { selector: { matchLabels: { b: '2' } } } }, patchMetaFor('policy/v1', 'PodDisruptionBudget'));
  assert.deepEqual(p.spec.selector, { matchLabels: { b: '2' } });
});

test('strategic merge: what kubectl apply (client side) sends', () => {
  const live = pod();
  live.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
  const patch = {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":1}' } },
    spec: {
      '$setElementOrder/containers': [{ name: 'zk' }],
      containers: [{ '$setElementOrder/env': [{ name: 'A' }], env: [{ name: 'B', $patch: 'delete' }], image: 'zk:9', name: 'zk' },
        { name: 'side', $patch: 'delete' }],
    },
  };
  const out = strategicMergePatch(live, patch, podMeta());
  assert.deepEqual(out.spec.containers.map((c) => c.name), ['zk']);
  assert.deepEqual(out.spec.containers[0].env, [{ name: 'A', value: '1' }]);
  assert.equal(out.spec.containers[0].image, 'zk:9');
  assert.equal(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '{"new":1}');
});

test('strategic merge is refused for custom resources', () => {
  assert.equal(strategicMergeUnsupported({ kind: 'Pod' }), null);
  const e = strategicMergeUnsupported({ kind: 'Thing', crd: {} });
  assert.equal(e.code, 415);
  assert.equal(e.reason, 'UnsupportedMediaType');
});

test('CRD schema walker reads list-type extensions', () => {
  const crd = { spec: { versions: [{ name: 'v1', schema: { openAPIV3Schema: { type: 'object', properties: {
    spec: { type: 'object', properties: {
      servers: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
        items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } } },
      tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
      sel: { type: 'object', 'x-kubernetes-map-type': 'atomic', additionalProperties: { type: 'string' } },
    } } } } } }] } };
  const m = patchMetaFromCRD(crd, 'v1');
  assert.equal(m.child('spec').child('servers').listType, 'map');
  assert.deepEqual(m.child('spec').child('servers').listKeys, ['name']);
  assert.equal(m.child('spec').child('tags').listType, 'set');
  assert.equal(m.child('spec').child('sel').atomic, true);
  assert.equal(m.child('metadata').child('finalizers').listType, 'set');
});
