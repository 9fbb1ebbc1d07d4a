'use strict';
// Subresources, custom resources and the tables of kubectl get, through real kubectl.
const test = require('node:test');
const assert = require('node:assert');
const { startServer } = require('./apiserver-fixture');

let f;
test.before(async () => { f = await startServer(); });
test.after(async () => { await f.close(); });

async function ok(args, opts) {
  const r = await f.kubectl(args, opts);
  assert.strictEqual(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
async function fails(args, opts) {
  const r = await f.kubectl(args, opts);
  assert.notStrictEqual(r.code, 0, `kubectl ${args.join(' ')} should fail: ${r.stdout}`);
  return r.stderr;
}

function runningPod(name, labels) {
  const pods = f.r('pods');
  f.store.create(pods, {
    metadata: { name, namespace: 'default', labels },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'busybox:1.36', ports: [{ name: 'client', containerPort: 2181 }] }] },
  });
  const p = f.store.get(pods, 'default', name);
  f.store.update(pods, {
    ...p,
    status: {
      phase: 'Running', podIP: '10.1.0.5',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'main', ready: true, restartCount: 0, state: { running: { startedAt: p.metadata.creationTimestamp } } }],
    },
  }, { subresource: 'status' });
}

test('pods: table columns, logs, proxy, exec refused', async () => {
  runningPod('zk-0', { app: 'zk' });
  assert.match(await ok(['get', 'pods']), /NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nzk-0\s+1\/1\s+Running\s+0\s+\d+s/);
  assert.match(await ok(['get', 'pods', '-o', 'wide']), /IP\s+NODE.*\nzk-0.*10\.1\.0\.5\s+node-1/);
  assert.strictEqual(await ok(['logs', 'zk-0', '--tail=1']), 'zk-0/main: third line\n');
  assert.match(await ok(['get', '--raw', '/api/v1/namespaces/default/pods/zk-0:client/proxy/commands/ruok']), /^proxied default\/zk-0:2181\/commands\/ruok$/);
  f.store.create(f.r('services'), { metadata: { name: 'zk', namespace: 'default' }, spec: { selector: { app: 'zk' }, ports: [{ name: 'client', port: 2181 }] } });
  assert.match(await ok(['get', '--raw', '/api/v1/namespaces/default/services/zk:client/proxy/x']), /^proxied default\/zk-0:2181\/x$/);
  assert.match(await fails(['exec', 'zk-0', '--', 'true']), /not supported/);
});

test('eviction honours the PodDisruptionBudget', async () => {
  runningPod('ev-0', { app: 'ev' });
  runningPod('ev-1', { app: 'ev' });
  const pdbs = f.r('poddisruptionbudgets', 'policy');
  f.store.create(pdbs, { metadata: { name: 'ev-pdb', namespace: 'default' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'ev' } } } });
  const setAllowed = (n) => {
    const p = f.store.get(pdbs, 'default', 'ev-pdb');
    f.store.update(pdbs, { ...p, status: { disruptionsAllowed: n, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 } }, { subresource: 'status' });
  };
  setAllowed(0);
  const body = (name) => f.file(`${name}-eviction.json`, JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } }));
  const refused = await fails(['create', '--raw', '/api/v1/namespaces/default/pods/ev-0/eviction', '-f', body('ev-0')]);
  assert.match(refused, /Cannot evict pod as it would violate the pod's disruption budget/);
  assert.ok(f.store.tryGet(f.r('pods'), 'default', 'ev-0'));
  setAllowed(1);
  await ok(['create', '--raw', '/api/v1/namespaces/default/pods/ev-0/eviction', '-f', body('ev-0')]);
  assert.ok(f.store.get(f.r('pods'), 'default', 'ev-0').metadata.deletionTimestamp, 'the evicted pod is being deleted');
  assert.strictEqual(f.store.get(pdbs, 'default', 'ev-pdb').status.disruptionsAllowed, 0);
  // kubectl drain's typed client sends the Eviction as protobuf.
  const drain = await f.kubectl(['drain', 'node-1', '--pod-selector=app=ev', '--timeout=3s', '--skip-wait-for-delete-timeout=1']);
  assert.match(drain.stderr + drain.stdout, /Cannot evict pod as it would violate the pod's disruption budget|nodes "node-1" not found/);
});

test('typed clients: protobuf bodies (create configmap/secret/token)', async () => {
  await ok(['create', 'configmap', 'proto', '--from-literal=a=1', '--from-literal=b=']);
  assert.deepStrictEqual(f.store.get(f.r('configmaps'), 'default', 'proto').data, { a: '1', b: '' });
  await ok(['create', 'secret', 'generic', 'sec', '--from-literal=p=secret']);
  assert.strictEqual(f.store.get(f.r('secrets'), 'default', 'sec').data.p, Buffer.from('secret').toString('base64'));
  await ok(['create', 'serviceaccount', 'builder']);
  assert.match(await ok(['create', 'token', 'builder', '--duration=1h']), /^token-for-builder/);
  await ok(['create', 'deployment', 'dep', '--image=busybox:1.36', '--replicas=0']);
  const dep = f.store.get(f.r('deployments', 'apps'), 'default', 'dep');
  assert.strictEqual(dep.spec.replicas, 0);
  assert.strictEqual(dep.spec.template.spec.containers[0].image, 'busybox:1.36');
  assert.match(await ok(['get', 'deploy']), /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ndep\s+0\/0\s+0\s+0\s+\d+s/);
});

test('status subresource: a main-resource write keeps status, a status write keeps spec', async () => {
  const sts = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'st' }, spec: { replicas: 1, serviceName: 'st', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } } };
  await ok(['apply', '-f', f.file('st.yaml', sts)]);
  await ok(['patch', 'sts', 'st', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":1,"readyReplicas":1},"spec":{"replicas":5}}']);
  const got = f.store.get(f.r('statefulsets', 'apps'), 'default', 'st');
  assert.deepStrictEqual([got.spec.replicas, got.status.readyReplicas], [1, 1]);
  assert.match(await ok(['get', 'sts', 'st']), /st\s+1\/1\s+\d+s/);
});

test('custom resources: a CRD is served, with its printer columns', async () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: 'ensembles.zk.example.com' },
    spec: {
      group: 'zk.example.com', scope: 'Namespaced',
      names: { plural: 'ensembles', singular: 'ensemble', kind: 'Ensemble', shortNames: ['ens'] },
      versions: [{
        name: 'v1', served: true, storage: true, subresources: { status: {} },
        additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
      }],
    },
  };
  await ok(['apply', '-f', f.file('crd.yaml', crd)]);
  await ok(['wait', '--for=condition=established', '--timeout=10s', 'crd/ensembles.zk.example.com']);
  assert.match(await ok(['get', 'crd']), /NAME\s+CREATED AT\nensembles.zk.example.com\s+\d{4}-/);
  const cr = { apiVersion: 'zk.example.com/v1', kind: 'Ensemble', metadata: { name: 'main' }, spec: { size: 3 } };
  assert.match(await ok(['apply', '-f', f.file('cr.yaml', cr)]), /ensemble.zk.example.com\/main created/);
  assert.match(await ok(['get', 'ens']), /NAME\s+SIZE\s+AGE\nmain\s+3\s+\d+s/);
  const second = { ...cr, metadata: { name: 'second' } };
  await ok(['apply', '--server-side', '-f', f.file('second.yaml', second)]);
  await ok(['apply', '--server-side', '-f', f.file('second.yaml', { ...second, spec: { size: 5 } })]);
  const got = await ok(['get', 'ensemble', 'second', '-o', 'json']);
  assert.strictEqual((JSON.parse(got).spec || {}).size, 5, got);
  const invalid = await fails(['apply', '-f', f.file('bad-cr.yaml', { ...cr, metadata: { name: 'bad' }, spec: { size: 0 } })]);
  assert.match(invalid, /The Ensemble "bad" is invalid: spec.size: Invalid value: 0/);
  await ok(['delete', 'crd', 'ensembles.zk.example.com']);
  assert.match(await fails(['get', 'ensembles.zk.example.com']), /doesn't have a resource type|NotFound|could not find/);
});

test('client-side apply, then server-side apply of a change (kubectl migrates the field owners)', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'migrated' }, data: { size: '3' } };
  await ok(['apply', '-f', f.file('migrated.yaml', cm)]);
  await ok(['apply', '--server-side', '-f', f.file('migrated.yaml', { ...cm, data: { size: '5' } })]);
  assert.deepStrictEqual(f.store.get(f.r('configmaps'), 'default', 'migrated').data, { size: '5' });
});
