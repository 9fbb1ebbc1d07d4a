'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const { cluster, until, events } = require('./helpers');

function stsObject(name, extra = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3,
      serviceName: `${name}-hs`,
      selector: { matchLabels: { app: name } },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'zookeeper:3.9', env: [{ name: 'V', value: '1' }] }] },
      },
      ...extra,
    },
  };
}

const names = (list) => list.map((p) => p.metadata.name).sort();

async function readyAll(c, sts, n) {
  for (let i = 0; i < n; i++) {
    await until(() => c.pod(`${sts}-${i}`), { what: `${sts}-${i}` });
    c.setPod(`${sts}-${i}`);
  }
  await until(() => {
    const s = c.store.get(c.r('statefulsets', 'apps'), 'default', sts);
    return s.status && s.status.readyReplicas === n && s.status.currentRevision === s.status.updateRevision;
  }, { what: 'all ready' });
}

function setImage(c, name, value) {
  const sts = c.r('statefulsets', 'apps');
  const s = c.store.get(sts, 'default', name);
  s.spec.template.spec.containers[0].env[0].value = value;
  return c.store.update(sts, s);
}

test('OrderedReady: pods are made one at a time, each after its predecessor is Running and Ready', async (t) => {
  const c = cluster(t);
  const tmpl = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
  c.store.create(c.r('statefulsets', 'apps'), stsObject('zk', { volumeClaimTemplates: [tmpl] }));
  await until(() => c.pod('zk-0'), { what: 'zk-0' });
  await c.settle();
  assert.deepStrictEqual(names(c.pods()), ['zk-0']);
  const p = c.pod('zk-0');
  assert.strictEqual(p.spec.hostname, 'zk-0');
  assert.strictEqual(p.spec.subdomain, 'zk-hs');
  assert.strictEqual(p.spec.nodeName, 'kube-sim');
  assert.strictEqual(p.metadata.labels['statefulset.kubernetes.io/pod-name'], 'zk-0');
  assert.strictEqual(p.metadata.labels['apps.kubernetes.io/pod-index'], '0');
  assert.match(p.metadata.labels['controller-revision-hash'], /^zk-[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.deepStrictEqual(p.metadata.ownerReferences.map((r) => [r.kind, r.name, r.controller, r.blockOwnerDeletion]), [['StatefulSet', 'zk', true, true]]);
  assert.deepStrictEqual(p.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-zk-0' } }]);
  const pvc = c.store.get(c.r('persistentvolumeclaims'), 'default', 'data-zk-0');
  assert.strictEqual(pvc.metadata.labels.app, 'zk');
  await until(() => c.store.get(c.r('persistentvolumeclaims'), 'default', 'data-zk-0').status?.phase === 'Bound', { what: 'bound' });

  c.setPod('zk-0', { ready: false });
  await c.settle();
  assert.deepStrictEqual(names(c.pods()), ['zk-0'], 'Running but not Ready holds zk-1 back');
  c.setPod('zk-0');
  await until(() => c.pod('zk-1'), { what: 'zk-1' });
  await c.settle();
  assert.deepStrictEqual(names(c.pods()), ['zk-0', 'zk-1']);
  c.setPod('zk-1');
  await until(() => c.pod('zk-2'), { what: 'zk-2' });
  c.setPod('zk-2');
  const sts = await until(() => {
    const s = c.store.get(c.r('statefulsets', 'apps'), 'default', 'zk');
    return s.status.readyReplicas === 3 && s;
  });
  assert.strictEqual(sts.status.replicas, 3);
  assert.strictEqual(sts.status.availableReplicas, 3);
  assert.strictEqual(sts.status.updatedReplicas, 3);
  assert.strictEqual(sts.status.currentReplicas, 3);
  assert.strictEqual(sts.status.observedGeneration, 1);
  assert.strictEqual(sts.status.currentRevision, sts.status.updateRevision);
  const rev = c.store.get(c.r('controllerrevisions', 'apps'), 'default', sts.status.updateRevision);
  assert.strictEqual(rev.revision, 1);
  assert.strictEqual(rev.data.spec.template.$patch, 'replace');
  assert.strictEqual(rev.metadata.ownerReferences[0].uid, sts.metadata.uid);
  const msgs = events(c.store, c.registry).map((e) => `${e.reason}: ${e.message}`);
  assert.ok(msgs.includes('SuccessfulCreate: create Pod zk-0 in StatefulSet zk successful'), msgs.join('\n'));
  assert.ok(msgs.includes('SuccessfulCreate: create Claim data-zk-0 Pod zk-0 in StatefulSet zk success'), msgs.join('\n'));
});

test('scale down: highest ordinal first, one at a time, each after the previous has terminated', async (t) => {
  const c = cluster(t);
  const stsRes = c.r('statefulsets', 'apps');
  c.store.create(stsRes, stsObject('web', { replicas: 4, ordinals: { start: 1 } }));
  await readyAll({ ...c, pod: (n) => c.pod(n.replace(/-(\d+)$/, (m, d) => `-${Number(d) + 1}`)), setPod: (n) => c.setPod(n.replace(/-(\d+)$/, (m, d) => `-${Number(d) + 1}`)) }, 'web', 4);
  assert.deepStrictEqual(names(c.pods()), ['web-1', 'web-2', 'web-3', 'web-4']);
  const s = c.store.get(stsRes, 'default', 'web');
  s.spec.replicas = 2;
  c.store.update(stsRes, s);
  await until(() => c.pod('web-4').metadata.deletionTimestamp, { what: 'web-4 terminating' });
  await c.settle();
  assert.ok(!c.pod('web-3').metadata.deletionTimestamp, 'web-3 waits for web-4 to be gone');
  c.reap();
  await until(() => c.pod('web-3') && c.pod('web-3').metadata.deletionTimestamp, { what: 'web-3 terminating' });
  c.reap();
  await until(() => c.store.get(stsRes, 'default', 'web').status.replicas === 2);
  await c.settle();
  assert.deepStrictEqual(names(c.pods()), ['web-1', 'web-2']);
});

test('rolling update with partition: only ordinals >= partition, highest first, one at a time', async (t) => {
  const c = cluster(t);
  const stsRes = c.r('statefulsets', 'apps');
  c.store.create(stsRes, stsObject('zk', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }));
  await readyAll(c, 'zk', 3);
  const oldRev = c.pod('zk-0').metadata.labels['controller-revision-hash'];
  setImage(c, 'zk', '2');
  await until(() => c.pod('zk-2').metadata.deletionTimestamp, { what: 'zk-2 terminating' });
  await c.settle();
  assert.ok(!c.pod('zk-1').metadata.deletionTimestamp);
  let s = c.store.get(stsRes, 'default', 'zk');
  assert.notStrictEqual(s.status.updateRevision, oldRev);
  assert.strictEqual(s.status.currentRevision, oldRev);
  c.reap();
  await until(() => c.pod('zk-2') && !c.pod('zk-2').metadata.deletionTimestamp, { what: 'zk-2 back' });
  assert.strictEqual(c.pod('zk-2').metadata.labels['controller-revision-hash'], s.status.updateRevision);
  assert.strictEqual(c.pod('zk-2').spec.containers[0].env[0].value, '2');
  await c.settle();
  assert.ok(!c.pod('zk-1').metadata.deletionTimestamp, 'zk-1 waits until zk-2 is Ready');
  c.setPod('zk-2');
  await until(() => c.pod('zk-1').metadata.deletionTimestamp, { what: 'zk-1 terminating' });
  c.reap();
  await until(() => c.pod('zk-1') && !c.pod('zk-1').metadata.deletionTimestamp);
  c.setPod('zk-1');
  s = await until(() => {
    const x = c.store.get(stsRes, 'default', 'zk');
    return x.status.updatedReplicas === 2 && x.status.readyReplicas === 3 && x;
  }, { what: 'partitioned rollout done' });
  await c.settle();
  assert.strictEqual(c.pod('zk-0').metadata.labels['controller-revision-hash'], oldRev, 'below the partition stays');
  assert.ok(!c.pod('zk-0').metadata.deletionTimestamp);
  assert.strictEqual(s.status.currentRevision, oldRev);
  assert.strictEqual(s.status.currentReplicas, 1);

  s = c.store.get(stsRes, 'default', 'zk');
  s.spec.updateStrategy.rollingUpdate.partition = 0;
  c.store.update(stsRes, s);
  await until(() => c.pod('zk-0').metadata.deletionTimestamp, { what: 'zk-0 terminating' });
  c.reap();
  await until(() => c.pod('zk-0') && !c.pod('zk-0').metadata.deletionTimestamp);
  c.setPod('zk-0');
  s = await until(() => {
    const x = c.store.get(stsRes, 'default', 'zk');
    return x.status.currentRevision === x.status.updateRevision && x.status.updatedReplicas === 3 && x;
  }, { what: 'rollout complete' });
  assert.strictEqual(s.status.currentReplicas, 3);
  assert.strictEqual(s.status.observedGeneration, s.metadata.generation);
  const revs = c.store.list(c.r('controllerrevisions', 'apps'), 'default').items;
  assert.deepStrictEqual(revs.map((r) => r.revision).sort(), [1, 2]);
});

test('OnDelete never replaces pods itself; a deleted pod comes back at the update revision', async (t) => {
  const c = cluster(t);
  const stsRes = c.r('statefulsets', 'apps');
  c.store.create(stsRes, stsObject('zk', { updateStrategy: { type: 'OnDelete' } }));
  await until(() => c.pod('zk-0'));
  for (let i = 0; i < 3; i++) {
    await until(() => c.pod(`zk-${i}`));
    c.setPod(`zk-${i}`);
  }
  await until(() => c.store.get(stsRes, 'default', 'zk').status.readyReplicas === 3);
  const oldRev = c.pod('zk-1').metadata.labels['controller-revision-hash'];
  setImage(c, 'zk', '2');
  const upd = await until(() => {
    const x = c.store.get(stsRes, 'default', 'zk');
    return x.status.updateRevision !== oldRev && x.status.updateRevision;
  });
  await c.settle();
  assert.ok(c.pods().every((p) => !p.metadata.deletionTimestamp), 'nothing deleted');
  c.store.delete(c.r('pods'), 'default', 'zk-1');
  c.reap();
  await until(() => c.pod('zk-1'), { what: 'zk-1 recreated' });
  assert.strictEqual(c.pod('zk-1').metadata.labels['controller-revision-hash'], upd);
  assert.strictEqual(c.pod('zk-0').metadata.labels['controller-revision-hash'], oldRev);
});

test('a failed pod is deleted and made again', async (t) => {
  const c = cluster(t);
  c.store.create(c.r('statefulsets', 'apps'), stsObject('zk', { replicas: 1 }));
  await until(() => c.pod('zk-0'));
  const uid = c.pod('zk-0').metadata.uid;
  c.setPod('zk-0', { phase: 'Failed', ready: false });
  await until(() => c.pod('zk-0') && c.pod('zk-0').metadata.uid !== uid, { what: 'new zk-0' });
  assert.strictEqual(c.pod('zk-0').status.phase, 'Pending');
});

test('Parallel makes all pods at once and removes condemned ones together', async (t) => {
  const c = cluster(t);
  const stsRes = c.r('statefulsets', 'apps');
  c.store.create(stsRes, stsObject('p', { podManagementPolicy: 'Parallel' }));
  await until(() => c.pods().length === 3);
  const s = c.store.get(stsRes, 'default', 'p');
  s.spec.replicas = 1;
  c.store.update(stsRes, s);
  await until(() => c.pods().filter((p) => p.metadata.deletionTimestamp).length === 2, { what: 'two terminating' });
});

test('claims: retained on scale-down by default; whenScaled/whenDeleted Delete hand them to the GC', async (t) => {
  const c = cluster(t);
  const stsRes = c.r('statefulsets', 'apps');
  const pvcRes = c.r('persistentvolumeclaims');
  const tmpl = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
  c.store.create(stsRes, stsObject('keep', { replicas: 2, podManagementPolicy: 'Parallel', volumeClaimTemplates: [tmpl] }));
  c.store.create(stsRes, stsObject('drop', {
    replicas: 2, podManagementPolicy: 'Parallel', volumeClaimTemplates: [tmpl],
    persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Delete' },
  }));
  await until(() => c.pods().length === 4);
  for (const p of c.pods()) c.setPod(p.metadata.name);
  await until(() => ['data-keep-1', 'data-drop-1'].every((n) => c.store.tryGet(pvcRes, 'default', n)?.status?.phase === 'Bound'));
  const dropPvc = c.store.get(pvcRes, 'default', 'data-drop-0');
  assert.deepStrictEqual(dropPvc.metadata.ownerReferences.map((r) => r.kind), ['StatefulSet']);
  assert.strictEqual(c.store.get(pvcRes, 'default', 'data-keep-0').metadata.ownerReferences, undefined);
  const pvName = c.store.get(pvcRes, 'default', 'data-drop-1').spec.volumeName;
  const pv = c.store.get(c.r('persistentvolumes'), '', pvName);
  assert.ok(fs.existsSync(pv.spec.hostPath.path));

  for (const name of ['keep', 'drop']) {
    const s = c.store.get(stsRes, 'default', name);
    s.spec.replicas = 1;
    c.store.update(stsRes, s);
  }
  await until(() => c.pod('drop-1')?.metadata.deletionTimestamp && c.pod('keep-1')?.metadata.deletionTimestamp, { what: 'scale-down' });
  await until(() => c.store.get(pvcRes, 'default', 'data-drop-1').metadata.ownerReferences?.[0]?.kind === 'Pod', { what: 'pod owns claim' });
  c.reap();
  await until(() => !c.store.tryGet(pvcRes, 'default', 'data-drop-1'), { what: 'claim of scaled-down pod deleted' });
  await until(() => !c.store.tryGet(c.r('persistentvolumes'), '', pvName) && !fs.existsSync(pv.spec.hostPath.path), { what: 'volume gone' });
  assert.ok(c.store.tryGet(pvcRes, 'default', 'data-keep-1'), 'Retain keeps the claim');

  c.store.delete(stsRes, 'default', 'drop');
  await until(() => c.pod('drop-0')?.metadata.deletionTimestamp, { what: 'GC deletes pods' });
  c.reap();
  await until(() => !c.store.tryGet(pvcRes, 'default', 'data-drop-0'), { what: 'claim deleted with the set' });
  c.store.delete(stsRes, 'default', 'keep');
  await until(() => c.pod('keep-0')?.metadata.deletionTimestamp);
  c.reap();
  await until(() => !c.pod('keep-0'));
  await c.settle();
  assert.ok(c.store.tryGet(pvcRes, 'default', 'data-keep-0'), 'whenDeleted Retain keeps the claim');
});
