'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { apply, recordUpdate, ApplyConflictError, toFieldSet } = require('../lib/ssa');
const { FieldSet, toFieldsV1, fromFieldsV1, pathString } = require('../lib/fieldset');
const { patchMetaFor } = require('../lib/patchmeta');

const T0 = new Date('2025-01-01T00:00:00Z');
const T1 = new Date('2025-01-01T00:01:00Z');
const sts = (over = {}) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet',
  metadata: { name: 'zk', namespace: 'default', labels: { app: 'zk' } },
  spec: {
    replicas: 3, serviceName: 'zk-hs', selector: { matchLabels: { app: 'zk' } },
    template: { metadata: { labels: { app: 'zk' } }, spec: { containers: [{ name: 'zookeeper', image: 'zk:3.9', ports: [{ containerPort: 2181, name: 'client' }] }] } },
  },
  ...over,
});
const entry = (obj, manager, op) => obj.metadata.managedFields.find((e) => e.manager === manager && (!op || e.operation === op));
const stored = (r) => r.object; // what the API server would store

test('apply on create: FieldsV1 as the API server writes it', () => {
  const r = apply(null, sts(), { manager: 'kubectl', now: T0 });
  assert.equal(r.managedFields.length, 1);
  const e = r.managedFields[0];
  assert.deepEqual(Object.keys(e), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1']);
  assert.deepEqual([e.manager, e.operation, e.apiVersion, e.time, e.fieldsType], ['kubectl', 'Apply', 'apps/v1', '2025-01-01T00:00:00Z', 'FieldsV1']);
  assert.deepEqual(e.fieldsV1, {
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:replicas': {}, 'f:selector': {}, 'f:serviceName': {},
      'f:template': {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': { 'f:containers': { 'k:{"name":"zookeeper"}': {
          '.': {}, 'f:image': {}, 'f:name': {},
          'f:ports': { 'k:{"containerPort":2181,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {} } },
        } } },
      },
    },
  });
  assert.equal(r.object.spec.replicas, 3);
  assert.deepEqual(r.object.metadata.managedFields, r.managedFields);
});

test('server-set metadata and status are never owned by an apply', () => {
  const cfg = sts();
  Object.assign(cfg.metadata, { uid: 'u', resourceVersion: '5', generation: 2, creationTimestamp: 'x', managedFields: [] });
  cfg.status = { replicas: 9 };
  const live = { ...sts(), status: { replicas: 1 } };
  const r = apply(live, cfg, { manager: 'kubectl', now: T0 });
  const f = r.managedFields[0].fieldsV1;
  assert.deepEqual(Object.keys(f['f:metadata']), ['f:labels']);
  assert.equal(f['f:status'], undefined);
  assert.deepEqual(r.object.status, { replicas: 1 });
});

test('two appliers: conflict on a different value, shared on the same, force takes over', () => {
  let obj = stored(apply(null, sts(), { manager: 'alice', now: T0 }));
  // same value: no conflict, both own the field
  obj = stored(apply(obj, { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'zk' }, spec: { replicas: 3 } }, { manager: 'bob', now: T1 }));
  assert.ok(entry(obj, 'alice').fieldsV1['f:spec']['f:replicas']);
  assert.ok(entry(obj, 'bob').fieldsV1['f:spec']['f:replicas']);
  // different value: conflict with alice
  const bob5 = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'zk' }, spec: { replicas: 5 } };
  assert.throws(() => apply(obj, bob5, { manager: 'bob', now: T1 }), (e) => {
    assert.ok(e instanceof ApplyConflictError);
    assert.equal(e.code, 409);
    assert.deepEqual(e.conflicts, [{ manager: 'alice', operation: 'Apply', path: '.spec.replicas', printed: '"alice"' }]);
    assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas');
    assert.deepEqual(e.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.replicas' }]);
    return true;
  });
  obj = stored(apply(obj, bob5, { manager: 'bob', force: true, now: T1 }));
  assert.equal(obj.spec.replicas, 5);
  assert.equal(entry(obj, 'alice').fieldsV1['f:spec']['f:replicas'], undefined);
  assert.ok(entry(obj, 'bob').fieldsV1['f:spec']['f:replicas']);
});

test('conflict with an Update manager names its apiVersion; several conflicts are listed per manager', () => {
  const live = stored(apply(null, sts(), { manager: 'kubectl', now: T0 }));
  const edited = JSON.parse(JSON.stringify(live));
  edited.spec.replicas = 1;
  edited.spec.template.spec.containers[0].image = 'zk:3.8';
  edited.metadata.managedFields = recordUpdate(live, edited, { manager: 'kubectl-client-side-apply', apiVersion: 'v1', now: T1 });
  const cfg = sts();
  cfg.spec.replicas = 4;
  cfg.spec.template.spec.containers[0].image = 'zk:3.9.1';
  assert.throws(() => apply(edited, cfg, { manager: 'kubectl' }), (e) => {
    assert.equal(e.conflicts.length, 2);
    assert.deepEqual(e.conflicts[0], { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1',
      path: '.spec.replicas', printed: '"kubectl-client-side-apply" using v1' });
    assert.equal(e.message, 'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using v1:\n' +
      '- .spec.replicas\n- .spec.template.spec.containers[name="zookeeper"].image');
    return true;
  });
  const one = sts(); one.spec.replicas = 4;
  one.spec.template.spec.containers[0].image = 'zk:3.8';
  assert.throws(() => apply(edited, one, { manager: 'kubectl' }),
    { message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .spec.replicas' });
});

test('a label the applier stops applying is removed', () => {
  const cfg = sts(); cfg.metadata.labels.tier = 'db';
  let obj = stored(apply(null, cfg, { manager: 'kubectl', now: T0 }));
  assert.equal(obj.metadata.labels.tier, 'db');
  obj = stored(apply(obj, sts(), { manager: 'kubectl', now: T1 }));
  assert.deepEqual(obj.metadata.labels, { app: 'zk' });
  assert.deepEqual(entry(obj, 'kubectl').fieldsV1['f:metadata'], { 'f:labels': { 'f:app': {} } });
  // dropping every label removes the emptied map as well
  const nolabels = sts(); delete nolabels.metadata.labels;
  obj = stored(apply(obj, nolabels, { manager: 'kubectl', now: T1 }));
  assert.equal(obj.metadata.labels, undefined);
});

test('a field the applier drops but another manager also owns is kept', () => {
  const cfg = sts(); cfg.metadata.labels.tier = 'db';
  let obj = stored(apply(null, cfg, { manager: 'alice', now: T0 }));
  obj = stored(apply(obj, { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'zk', labels: { tier: 'db' } } }, { manager: 'bob', now: T0 }));
  obj = stored(apply(obj, sts(), { manager: 'alice', now: T1 }));
  assert.equal(obj.metadata.labels.tier, 'db');
  assert.equal(entry(obj, 'alice').fieldsV1['f:metadata']['f:labels']['f:tier'], undefined);
  assert.ok(entry(obj, 'bob').fieldsV1['f:metadata']['f:labels']['f:tier']);
  // a field set by an ordinary update is not removed by an applier that never owned it
  const upd = JSON.parse(JSON.stringify(obj)); upd.metadata.annotations = { note: 'x' };
  upd.metadata.managedFields = recordUpdate(obj, upd, { manager: 'kubectl-annotate', now: T1 });
  obj = stored(apply(upd, sts(), { manager: 'alice', now: T1 }));
  assert.deepEqual(obj.metadata.annotations, { note: 'x' });
});

test('containers merge by name across two appliers; dropping your own container removes it', () => {
  let obj = stored(apply(null, sts(), { manager: 'alice', now: T0 }));
  const side = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'zk' },
    spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox' }] } } } };
  obj = stored(apply(obj, side, { manager: 'bob', now: T1 }));
  assert.deepEqual(obj.spec.template.spec.containers.map((c) => c.name), ['zookeeper', 'sidecar']);
  assert.ok(entry(obj, 'bob').fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"sidecar"}']);
  // alice re-applies unchanged: bob's container stays
  obj = stored(apply(obj, sts(), { manager: 'alice', now: T1 }));
  assert.deepEqual(obj.spec.template.spec.containers.map((c) => c.name), ['zookeeper', 'sidecar']);
  // bob drops his container: gone
  const none = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'zk' } };
  obj = stored(apply(obj, none, { manager: 'bob', now: T1 }));
  assert.deepEqual(obj.spec.template.spec.containers.map((c) => c.name), ['zookeeper']);
  assert.equal(entry(obj, 'bob'), undefined, 'an entry that owns nothing is dropped');
});

test('ports are keyed by containerPort and protocol (defaulted), env by name', () => {
  const cfg = sts();
  const c = cfg.spec.template.spec.containers[0];
  c.ports.push({ containerPort: 2181, protocol: 'UDP', name: 'udp' });
  c.env = [{ name: 'A', value: '1' }];
  const r = apply(null, cfg, { manager: 'm', now: T0 });
  const cf = r.managedFields[0].fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"zookeeper"}'];
  assert.deepEqual(Object.keys(cf['f:ports']), ['k:{"containerPort":2181,"protocol":"TCP"}', 'k:{"containerPort":2181,"protocol":"UDP"}']);
  assert.deepEqual(cf['f:env'], { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } });
});

test('finalizers are a set: v: elements', () => {
  const cfg = sts(); cfg.metadata.finalizers = ['b', 'a'];
  const r = apply(null, cfg, { manager: 'm', now: T0 });
  assert.deepEqual(r.managedFields[0].fieldsV1['f:metadata']['f:finalizers'], { 'v:"a"': {}, 'v:"b"': {} });
});

test('recordUpdate on create marks new maps and list items with "." like the API server', () => {
  const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { app: 'x' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'x' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }] } } } };
  const mf = recordUpdate(null, dep, { manager: 'kubectl-create', now: T0 });
  assert.deepEqual(mf, [{
    manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1',
    fieldsV1: {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:replicas': {}, 'f:selector': {},
        'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {} }, 'f:type': {} },
        'f:template': { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:resources': {} } } } },
      },
    },
  }]);
});

test('recordUpdate: the writer takes changed fields from others; removed fields are dropped', () => {
  let obj = stored(apply(null, sts(), { manager: 'kubectl', now: T0 }));
  const upd = JSON.parse(JSON.stringify(obj));
  upd.spec.replicas = 7;
  delete upd.metadata.labels.app;
  upd.metadata.managedFields = recordUpdate(obj, upd, { manager: 'kube-controller-manager', apiVersion: 'apps/v1', now: T1 });
  const k = entry(upd, 'kubectl').fieldsV1;
  assert.equal(k['f:spec']['f:replicas'], undefined);
  assert.equal(k['f:metadata'], undefined);
  assert.deepEqual(entry(upd, 'kube-controller-manager').fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  assert.deepEqual(upd.metadata.managedFields.map((e) => e.operation), ['Apply', 'Update'], 'Apply entries first');
  // a no-op write keeps the entry's time
  const again = JSON.parse(JSON.stringify(upd));
  const mf = recordUpdate(upd, again, { manager: 'kube-controller-manager', apiVersion: 'apps/v1', now: new Date('2030-01-01T00:00:00Z') });
  assert.equal(mf.find((e) => e.manager === 'kube-controller-manager').time, '2025-01-01T00:01:00Z');
});

test('status subresource writes own only status, with subresource recorded', () => {
  const obj = stored(apply(null, sts(), { manager: 'kubectl', now: T0 }));
  const upd = JSON.parse(JSON.stringify(obj));
  upd.status = { replicas: 3, readyReplicas: 3 };
  const mf = recordUpdate(obj, upd, { manager: 'kube-controller-manager', subresource: 'status', now: T1 });
  const e = mf.find((x) => x.subresource === 'status');
  assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } });
  assert.deepEqual(Object.keys(e), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource']);
});

test('atomic lists are owned and replaced whole', () => {
  const cfg = sts(); cfg.spec.template.spec.containers[0].command = ['a', 'b'];
  let obj = stored(apply(null, cfg, { manager: 'm', now: T0 }));
  const f = entry(obj, 'm').fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"zookeeper"}'];
  assert.deepEqual(f['f:command'], {});
  cfg.spec.template.spec.containers[0].command = ['c'];
  obj = stored(apply(obj, cfg, { manager: 'm', now: T0 }));
  assert.deepEqual(obj.spec.template.spec.containers[0].command, ['c']);
});

test('FieldsV1 round trip and path strings', () => {
  const meta = patchMetaFor('apps/v1', 'StatefulSet');
  const set = toFieldSet(sts(), meta);
  const enc = toFieldsV1(set);
  assert.ok(fromFieldsV1(enc).equals(set));
  assert.deepEqual(toFieldsV1(fromFieldsV1(enc)), enc);
  const sample = { 'f:a': { '.': {}, 'f:b': {} }, 'f:l': { 'k:{"name":"x","port":1}': { '.': {}, 'f:v': {} }, 'v:"s"': {}, 'i:0': {} } };
  assert.deepEqual(toFieldsV1(fromFieldsV1(sample)), sample);
  assert.equal(pathString(['f:spec', 'f:containers', 'k:{"name":"zk"}', 'f:image']), '.spec.containers[name="zk"].image');
  assert.equal(pathString(['f:ports', 'k:{"containerPort":2181,"protocol":"TCP"}']), '.ports[containerPort=2181,protocol="TCP"]');
  assert.equal(pathString(['f:finalizers', 'v:"x"']), '.finalizers[="x"]');
  assert.throws(() => fromFieldsV1({ 'x:bad': {} }), /invalid FieldsV1/);
  assert.ok(new FieldSet([['f:a']]).union(new FieldSet([['f:b']])).has(['f:b']));
});

test('apply without a manager or with a bad list item is refused', () => {
  assert.throws(() => apply(null, sts(), {}), /fieldManager is required/);
  const bad = sts(); bad.spec.template.spec.containers.push({ image: 'nameless' });
  assert.throws(() => apply(null, bad, { manager: 'm' }), /omits all key fields/);
});

test('custom resources use the CRD schema: list-map items keyed, unknown lists atomic', () => {
  const { patchMetaFromCRD } = require('../lib/patchmeta');
  const crd = { spec: { versions: [{ name: 'v1', schema: { openAPIV3Schema: { type: 'object', properties: {
    spec: { type: 'object', properties: {
      servers: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'],
        items: { type: 'object', properties: { id: { type: 'integer' }, host: { type: 'string' } } } },
      args: { type: 'array', items: { type: 'string' } },
    } } } } } }] } };
  const schema = patchMetaFromCRD(crd, 'v1');
  const cr = { apiVersion: 'zk.example.com/v1', kind: 'Ensemble', metadata: { name: 'e' },
    spec: { servers: [{ id: 1, host: 'a' }], args: ['x'] } };
  let obj = stored(apply(null, cr, { manager: 'a', schema, now: T0 }));
  assert.deepEqual(obj.metadata.managedFields[0].fieldsV1, { 'f:spec': { 'f:args': {}, 'f:servers': { 'k:{"id":1}': { '.': {}, 'f:host': {}, 'f:id': {} } } } });
  obj = stored(apply(obj, { ...cr, spec: { servers: [{ id: 2, host: 'b' }] } }, { manager: 'b', schema, now: T1 }));
  assert.deepEqual(obj.spec.servers.map((s) => s.id), [1, 2]);
  assert.deepEqual(obj.spec.args, ['x']);
});

test('client-side apply, then server-side apply of a change: kubectl migrates the field owners, the map is kept', () => {
  const LAST = 'kubectl.kubernetes.io/last-applied-configuration';
  const cm = (data) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'migrated', namespace: 'default' }, ...(data ? { data } : {}) });
  const T2 = new Date('2025-01-01T00:02:00Z');
  // kubectl apply: a create by "kubectl-client-side-apply" (an Update) that owns the map itself ('.')
  let obj = cm({ size: '3' });
  obj.metadata.annotations = { [LAST]: JSON.stringify(cm({ size: '3' })) };
  obj.metadata.managedFields = recordUpdate(null, obj, { manager: 'kubectl-client-side-apply', apiVersion: 'v1', now: T0 });
  assert.deepEqual(entry(obj, 'kubectl-client-side-apply').fieldsV1, {
    'f:data': { '.': {}, 'f:size': {} }, 'f:metadata': { 'f:annotations': { '.': {}, [`f:${LAST}`]: {} } },
  });
  // kubectl apply --server-side: the change (conflicting with the client-side owner, forced), then the
  // last-applied annotation saved by its own manager
  obj = stored(apply(obj, cm({ size: '5' }), { manager: 'kubectl', force: true, now: T1 }));
  const justAnnotation = cm();
  justAnnotation.metadata.annotations = { [LAST]: obj.metadata.annotations[LAST] };
  obj = stored(apply(obj, justAnnotation, { manager: 'kubectl-last-applied', now: T1 }));
  // ... then kubectl's JSON patch of metadata.managedFields: the client-side entry merged into "kubectl"
  const csa = entry(obj, 'kubectl-client-side-apply');
  const ssa = entry(obj, 'kubectl', 'Apply');
  const migrated = JSON.parse(JSON.stringify(obj));
  migrated.metadata.managedFields = obj.metadata.managedFields.filter((e) => e !== csa).map((e) => (e !== ssa ? e
    : { ...e, fieldsV1: toFieldsV1(fromFieldsV1(e.fieldsV1).union(fromFieldsV1(csa.fieldsV1))) }));
  migrated.metadata.managedFields = recordUpdate({ ...obj, metadata: { ...obj.metadata, managedFields: migrated.metadata.managedFields } },
    migrated, { manager: 'kubectl', apiVersion: 'v1', now: T1 });
  assert.deepEqual(entry(migrated, 'kubectl', 'Apply').fieldsV1['f:data'], { '.': {}, 'f:size': {} });
  assert.equal(entry(migrated, 'kubectl-client-side-apply'), undefined);
  // ... and the configuration applied again: "kubectl" stops owning the map itself, which keeps its entry
  obj = stored(apply(migrated, cm({ size: '5' }), { manager: 'kubectl', now: T2 }));
  assert.deepEqual(obj.data, { size: '5' });
  assert.equal(obj.metadata.annotations[LAST], justAnnotation.metadata.annotations[LAST], 'still owned by kubectl-last-applied');
  assert.deepEqual(entry(obj, 'kubectl', 'Apply').fieldsV1, { 'f:data': { 'f:size': {} } });
  assert.deepEqual(entry(obj, 'kubectl-last-applied').fieldsV1, { 'f:metadata': { 'f:annotations': { [`f:${LAST}`]: {} } } });

  // An entry another manager set stays when the applier stops applying the map; the applier's entries go.
  const edited = JSON.parse(JSON.stringify(obj));
  edited.data.other = 'x';
  edited.metadata.managedFields = recordUpdate(obj, edited, { manager: 'kubectl-edit', apiVersion: 'v1', now: T2 });
  const dropped = stored(apply(edited, cm(), { manager: 'kubectl', now: T2 }));
  assert.deepEqual(dropped.data, { other: 'x' });
  // With no other owner, the map goes with its last entry.
  const gone = stored(apply(obj, cm(), { manager: 'kubectl', now: T2 }));
  assert.equal(gone.data, undefined);
  assert.equal(gone.metadata.name, 'migrated');
  assert.equal(gone.metadata.annotations[LAST], justAnnotation.metadata.annotations[LAST]);
});

test('a custom resource: the applier keeps a struct it still applies, under its new field set', () => {
  const { patchMetaFromCRD } = require('../lib/patchmeta');
  const crd = { spec: { versions: [{ name: 'v1', schema: { openAPIV3Schema: { type: 'object', properties: {
    spec: { type: 'object', properties: { schedule: { type: 'string' }, keep: { type: 'integer' } } } } } } }] } };
  const schema = patchMetaFromCRD(crd, 'v1');
  const cr = (spec) => ({ apiVersion: 'example.zkpilot.io/v1', kind: 'Backup', metadata: { name: 'nightly', namespace: 'default' }, spec });
  // the applier owns spec itself ('.') besides its fields, as after kubectl's migration
  const live = cr({ schedule: '0 3 * * *', keep: 7 });
  live.metadata.managedFields = [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'example.zkpilot.io/v1', time: '2025-01-01T00:00:00Z',
    fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { '.': {}, 'f:keep': {}, 'f:schedule': {} } } }];
  const obj = stored(apply(live, cr({ schedule: '0 4 * * *' }), { manager: 'kubectl', schema, now: T1 }));
  assert.deepEqual(obj.spec, { schedule: '0 4 * * *' }, 'keep (no longer applied) goes, spec stays');
  assert.deepEqual(entry(obj, 'kubectl').fieldsV1, { 'f:spec': { 'f:schedule': {} } });
  // a field below an unowned struct is kept when the applier never owned it
  const withStatus = { ...live, status: { phase: 'Done' } };
  assert.deepEqual(stored(apply(withStatus, cr({ schedule: '0 3 * * *' }), { manager: 'kubectl', schema, now: T1 })).status, { phase: 'Done' });
});
