'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { cluster, until } = require('./helpers');

function podObject(name, labels, extra = {}) {
  return {
    metadata: { name, namespace: 'default', labels },
    spec: { nodeName: 'kube-sim', containers: [{ name: 'c', image: 'x', ports: [{ name: 'client', containerPort: 2181 }] }], ...extra },
    status: { phase: 'Pending' },
  };
}

test('Endpoints and EndpointSlices follow readiness, with hostnames and named ports', async (t) => {
  const c = cluster(t);
  c.store.create(c.r('services'), {
    metadata: { name: 'zk-hs', namespace: 'default', labels: { app: 'zk' } },
    spec: { clusterIP: 'None', selector: { app: 'zk' }, ports: [{ name: 'client', port: 2181, targetPort: 'client' }] },
  });
  c.store.create(c.r('pods'), podObject('zk-0', { app: 'zk' }, { hostname: 'zk-0', subdomain: 'zk-hs' }));
  c.store.create(c.r('pods'), podObject('zk-1', { app: 'zk' }, { hostname: 'zk-1', subdomain: 'zk-hs' }));
  c.store.create(c.r('pods'), podObject('other', { app: 'other' }));
  c.setPod('zk-0');
  c.setPod('zk-1', { ready: false });
  c.setPod('other');
  const ep = await until(() => {
    const e = c.store.tryGet(c.r('endpoints'), 'default', 'zk-hs');
    return e && e.subsets && e.subsets[0].addresses && e.subsets[0].notReadyAddresses && e;
  }, { what: 'endpoints' });
  assert.deepStrictEqual(ep.subsets[0].addresses.map((a) => [a.hostname, a.targetRef.name]), [['zk-0', 'zk-0']]);
  assert.deepStrictEqual(ep.subsets[0].notReadyAddresses.map((a) => a.targetRef.name), ['zk-1']);
  assert.deepStrictEqual(ep.subsets[0].ports, [{ name: 'client', port: 2181, protocol: 'TCP' }]);
  assert.strictEqual(ep.metadata.labels['service.kubernetes.io/headless'], '');
  const slice = () => c.store.list(c.r('endpointslices', 'discovery.k8s.io'), 'default', { labelSelector: 'kubernetes.io/service-name=zk-hs' }).items;
  await until(() => slice().length === 1 && slice()[0].endpoints.length === 2, { what: 'slice' });
  const s = slice()[0];
  assert.strictEqual(s.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  assert.strictEqual(s.addressType, 'IPv4');
  assert.deepStrictEqual(s.endpoints.map((e) => [e.targetRef.name, e.hostname, e.conditions.ready]), [['zk-0', 'zk-0', true], ['zk-1', 'zk-1', false]]);
  assert.deepStrictEqual(s.ports, [{ name: 'client', port: 2181, protocol: 'TCP' }]);

  c.setPod('zk-1');
  await until(() => c.store.get(c.r('endpoints'), 'default', 'zk-hs').subsets[0].addresses.length === 2, { what: 'zk-1 ready' });
  c.store.delete(c.r('pods'), 'default', 'zk-0');
  await until(() => {
    const e = c.store.get(c.r('endpoints'), 'default', 'zk-hs');
    const sl = slice()[0].endpoints.find((x) => x.targetRef.name === 'zk-0');
    return e.subsets[0].addresses.length === 1 && sl && sl.conditions.terminating && !sl.conditions.ready && sl.conditions.serving;
  }, { what: 'terminating pod leaves Endpoints, stays serving in the slice' });

  // publishNotReadyAddresses: unready pods are addresses too.
  const svc = c.store.get(c.r('services'), 'default', 'zk-hs');
  svc.spec.publishNotReadyAddresses = true;
  c.store.update(c.r('services'), svc);
  c.setPod('zk-1', { ready: false });
  await until(() => {
    const e = c.store.get(c.r('endpoints'), 'default', 'zk-hs');
    return e.subsets[0].addresses.length === 2 && !e.subsets[0].notReadyAddresses;
  }, { what: 'publishNotReadyAddresses' });
  c.store.delete(c.r('services'), 'default', 'zk-hs');
  await until(() => !c.store.tryGet(c.r('endpoints'), 'default', 'zk-hs') && slice().length === 0, { what: 'cleanup' });
});

test('PodDisruptionBudget: disruptionsAllowed from minAvailable / maxUnavailable', async (t) => {
  const c = cluster(t);
  const stsRes = c.r('statefulsets', 'apps');
  c.store.create(stsRes, {
    metadata: { name: 'zk', namespace: 'default' },
    spec: { replicas: 3, podManagementPolicy: 'Parallel', selector: { matchLabels: { app: 'zk' } }, template: { metadata: { labels: { app: 'zk' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });
  const pdbRes = c.r('poddisruptionbudgets', 'policy');
  c.store.create(pdbRes, { metadata: { name: 'min', namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'zk' } } } });
  c.store.create(pdbRes, { metadata: { name: 'max', namespace: 'default' }, spec: { maxUnavailable: '34%', selector: { matchLabels: { app: 'zk' } } } });
  await until(() => c.pods().length === 3);
  const pdb = (n) => c.store.get(pdbRes, 'default', n).status || {};
  await until(() => pdb('min').expectedPods === 3 && pdb('max').expectedPods === 3);
  assert.strictEqual(pdb('min').disruptionsAllowed, 0);
  assert.strictEqual(pdb('min').conditions[0].reason, 'InsufficientPods');
  for (const p of c.pods()) c.setPod(p.metadata.name);
  await until(() => pdb('min').currentHealthy === 3 && pdb('max').currentHealthy === 3);
  assert.strictEqual(pdb('min').desiredHealthy, 2);
  assert.strictEqual(pdb('min').disruptionsAllowed, 1);
  assert.strictEqual(pdb('min').conditions[0].status, 'True');
  assert.strictEqual(pdb('max').desiredHealthy, 1, '34% of 3 rounds up to 2 unavailable');
  assert.strictEqual(pdb('max').disruptionsAllowed, 2);
  assert.strictEqual(pdb('min').observedGeneration, 1);
  c.setPod('zk-0', { ready: false });
  await until(() => pdb('min').disruptionsAllowed === 0 && pdb('max').disruptionsAllowed === 1);
});
