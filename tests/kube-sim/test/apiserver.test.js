'use strict';
// The API server driven by real kubectl (see apiserver-fixture.js).
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
const cm = (name, labels, data = { a: '1' }) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data });
const sts = (name, replicas = 1) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
  spec: {
    replicas, serviceName: name, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } },
  },
});

test('discovery: version, api-resources, tables of an empty namespace', async () => {
  const version = JSON.parse(await ok(['version', '-o', 'json']));
  assert.match(version.serverVersion.gitVersion, /^v1\.32\.\d+-kube-sim$/);
  const resources = await ok(['api-resources']);
  assert.match(resources, /statefulsets\s+sts\s+apps\/v1\s+true\s+StatefulSet/);
  assert.match(resources, /customresourcedefinitions\s+crd,crds\s+apiextensions.k8s.io\/v1\s+false/);
  const r = await f.kubectl(['get', 'sts']);
  assert.strictEqual(r.code, 0);
  assert.match(r.stderr, /No resources found in default namespace/);
  assert.match(await fails(['get', 'nosuchthings']), /the server doesn't have a resource type "nosuchthings"/);
  assert.match(await ok(['get', '--raw', '/healthz']), /^ok$/);
});

test('client-side apply: created, unchanged, configured', async () => {
  const file = f.file('apply.yaml', cm('applied', { app: 'zk' }));
  assert.match(await ok(['apply', '-f', file]), /configmap\/applied created/);
  assert.match(await ok(['apply', '-f', file]), /configmap\/applied unchanged/);
  f.file('apply.yaml', cm('applied', { app: 'zk' }, { a: '2' }));
  assert.match(await ok(['apply', '-f', file]), /configmap\/applied configured/);
  const obj = f.store.get(f.r('configmaps'), 'default', 'applied');
  assert.deepStrictEqual(obj.data, { a: '2' });
  assert.ok(obj.metadata.managedFields.some((m) => m.manager === 'kubectl-client-side-apply'), 'the field manager is recorded');
  const stsFile = f.file('sts.yaml', sts('web'));
  assert.match(await ok(['apply', '-f', stsFile]), /statefulset.apps\/web created/);
  assert.match(await ok(['apply', '-f', stsFile]), /unchanged/);
  const table = await ok(['get', 'sts', 'web']);
  assert.match(table, /NAME\s+READY\s+AGE\nweb\s+0\/1\s+\d+s/);
});

test('server-side apply: conflicts between managers, --force-conflicts', async () => {
  const file = f.file('ssa.yaml', cm('ssa', undefined, { k: 'one' }));
  assert.match(await ok(['apply', '--server-side', '--field-manager=alpha', '-f', file]), /configmap\/ssa serverside-applied/);
  f.file('ssa.yaml', cm('ssa', undefined, { k: 'two' }));
  const err = await fails(['apply', '--server-side', '--field-manager=beta', '-f', file]);
  assert.match(err, /Apply failed with 1 conflict: conflict with "alpha": \.data\.k/);
  await ok(['apply', '--server-side', '--field-manager=beta', '--force-conflicts', '-f', file]);
  const obj = f.store.get(f.r('configmaps'), 'default', 'ssa');
  assert.strictEqual(obj.data.k, 'two');
  const managers = obj.metadata.managedFields.map((m) => `${m.manager}/${m.operation}`);
  assert.ok(managers.includes('beta/Apply'), managers.join(','));
});

test('get: -o json/yaml, label selectors, field selectors', async () => {
  for (const [name, tier] of [['sel-a', 'web'], ['sel-b', 'db'], ['sel-c', 'cache']]) {
    await ok(['create', '-f', f.file(`${name}.yaml`, cm(name, { group: 'sel', tier }))]);
  }
  const names = (out) => JSON.parse(out).items.map((i) => i.metadata.name).sort();
  assert.deepStrictEqual(names(await ok(['get', 'cm', '-l', 'group=sel,tier!=db', '-o', 'json'])), ['sel-a', 'sel-c']);
  assert.deepStrictEqual(names(await ok(['get', 'cm', '-l', 'tier in (db,cache)', '-o', 'json'])), ['sel-b', 'sel-c']);
  assert.deepStrictEqual(names(await ok(['get', 'cm', '--field-selector', 'metadata.name=sel-b', '-o', 'json'])), ['sel-b']);
  const one = JSON.parse(await ok(['get', 'cm', 'sel-a', '-o', 'json']));
  assert.strictEqual(one.kind, 'ConfigMap');
  assert.match(await ok(['get', 'cm', 'sel-a', '-o', 'yaml']), /tier: web/);
  assert.match(await ok(['get', 'cm', '-A', '-l', 'group=sel']), /NAMESPACE\s+NAME\s+DATA\s+AGE\ndefault\s+sel-a/);
  assert.match(await fails(['get', 'cm', 'nope']), /Error from server \(NotFound\): configmaps "nope" not found/);
});

test('patch: merge, strategic, json', async () => {
  await ok(['apply', '-f', f.file('patch-sts.yaml', sts('patched'))]);
  await ok(['patch', 'cm', 'sel-a', '--type=merge', '-p', '{"data":{"m":"x"}}']);
  await ok(['patch', 'cm', 'sel-a', '--type=json', '-p', '[{"op":"add","path":"/data/j","value":"y"}]']);
  await ok(['patch', 'sts', 'patched', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:1.36"}]}}}}']);
  assert.deepStrictEqual(f.store.get(f.r('configmaps'), 'default', 'sel-a').data, { a: '1', m: 'x', j: 'y' });
  const containers = f.store.get(f.r('statefulsets', 'apps'), 'default', 'patched').spec.template.spec.containers.map((c) => c.name);
  assert.deepStrictEqual(containers.sort(), ['main', 'side'], 'a strategic merge patch merges containers by name');
  assert.match(await fails(['patch', 'cm', 'sel-a', '--type=json', '-p', '[{"op":"remove","path":"/data/none"}]']), /The request is invalid: .*remove operation does not apply/);
});

test('delete: cascade policies reach the store; deletecollection', async () => {
  const seen = [];
  const orig = f.store.delete.bind(f.store);
  f.store.delete = (res, ns, name, opts) => { seen.push(`${name}:${opts.propagationPolicy}`); return orig(res, ns, name, opts); };
  try {
    for (const n of ['del-bg', 'del-fg', 'del-or']) await ok(['create', 'cm', n]);
    assert.match(await ok(['delete', 'cm', 'del-bg', '--cascade=background']), /configmap "del-bg" deleted/);
    await ok(['delete', 'cm', 'del-fg', '--cascade=foreground', '--wait=false']);
    await ok(['delete', 'cm', 'del-or', '--cascade=orphan', '--wait=false']);
  } finally {
    f.store.delete = orig;
  }
  assert.deepStrictEqual(seen, ['del-bg:Background', 'del-fg:Foreground', 'del-or:Orphan']);
  assert.ok(f.store.get(f.r('configmaps'), 'default', 'del-fg').metadata.finalizers.includes('foregroundDeletion'));
  await ok(['delete', 'cm', '-l', 'group=sel']);
  assert.strictEqual(f.store.list(f.r('configmaps'), 'default', { labelSelector: 'group=sel' }).items.length, 0);
});

test('replace with a stale resourceVersion is a 409; an invalid object a 422', async () => {
  await ok(['create', 'cm', 'stale', '--from-literal=a=1']);
  const obj = JSON.parse(await ok(['get', 'cm', 'stale', '-o', 'json']));
  await ok(['patch', 'cm', 'stale', '--type=merge', '-p', '{"data":{"a":"2"}}']);
  obj.data.a = '3';
  const err = await fails(['replace', '-f', f.file('stale.json', JSON.stringify(obj))]);
  assert.match(err, /Error from server \(Conflict\): .*Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again/);
  const bad = sts('Bad_Name');
  const invalid = await fails(['create', '-f', f.file('bad.yaml', bad)]);
  assert.match(invalid, /The StatefulSet "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
  const unknown = { ...cm('unknown'), spec: { foo: 1 } };
  assert.match(await fails(['create', '-f', f.file('unknown.yaml', unknown)]), /strict decoding error: unknown field "spec"/);
  const warn = await f.kubectl(['create', '--validate=warn', '-f', f.file('unknown.yaml', unknown)]);
  assert.strictEqual(warn.code, 0, warn.stderr);
  assert.match(warn.stderr, /Warning: unknown field "spec"/);
});

test('dry-run=server stores nothing', async () => {
  assert.match(await ok(['create', 'cm', 'dry', '--dry-run=server']), /configmap\/dry created \(server dry run\)/);
  assert.strictEqual(f.store.tryGet(f.r('configmaps'), 'default', 'dry'), null);
  await ok(['create', 'cm', 'wet']);
  await ok(['delete', 'cm', 'wet', '--dry-run=server']);
  assert.ok(f.store.tryGet(f.r('configmaps'), 'default', 'wet'));
  await ok(['apply', '--server-side', '--dry-run=server', '-f', f.file('dry.yaml', cm('dry2'))]);
  assert.strictEqual(f.store.tryGet(f.r('configmaps'), 'default', 'dry2'), null);
});

test('list in chunks: --chunk-size=2 over 5 objects', async () => {
  for (let i = 0; i < 5; i++) f.store.create(f.r('configmaps'), { metadata: { name: `chunk-${i}`, namespace: 'default', labels: { chunk: 'y' } } });
  const before = f.log.length;
  const out = await ok(['get', 'cm', '-l', 'chunk=y', '--chunk-size=2', '-o', 'name']);
  assert.deepStrictEqual(out.trim().split('\n'), [0, 1, 2, 3, 4].map((i) => `configmap/chunk-${i}`));
  const pages = f.log.slice(before).filter((l) => /configmaps\?.*limit=2/.test(l));
  assert.strictEqual(pages.length, 3, pages.join('\n'));
});

async function until(what, fn, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('watch: kubectl get --watch sees a change', async () => {
  await ok(['create', 'cm', 'watched']);
  const watchers = f.store.watchers.size;
  const w = f.spawnKubectl(['get', 'cm', 'watched', '--watch', '--output-watch-events']);
  try {
    await until('the watch', () => f.store.watchers.size > watchers && /ADDED\s+watched/.test(w.output()));
    const o = f.store.get(f.r('configmaps'), 'default', 'watched');
    f.store.update(f.r('configmaps'), { ...o, data: { n: '1' } });
    await until('the MODIFIED event', () => /MODIFIED\s+watched/.test(w.output()));
    assert.match(w.output(), /EVENT\s+NAME\s+DATA\s+AGE\nADDED\s+watched\s+0\s+\d+s\nMODIFIED\s+watched\s+1\s+\d+s/);
  } finally {
    await w.stop();
  }
  await until('the watch to end', () => f.store.watchers.size === watchers);
});

test('watch: a too-old resourceVersion ends in an ERROR event with a 410', async () => {
  const { store } = f;
  const res = f.r('configmaps');
  for (let i = 0; i < 1005; i++) store.update(res, { ...store.get(res, 'default', 'chunk-0'), data: { i: String(i) } });
  const out = await ok(['get', '--raw', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=2&timeoutSeconds=2']);
  const ev = JSON.parse(out.trim().split('\n')[0]);
  assert.strictEqual(ev.type, 'ERROR');
  assert.strictEqual(ev.object.code, 410);
  assert.strictEqual(ev.object.reason, 'Expired');
});

test('scale a StatefulSet', async () => {
  assert.match(await ok(['scale', 'sts', 'web', '--replicas=3']), /statefulset.apps\/web scaled/);
  assert.strictEqual(f.store.get(f.r('statefulsets', 'apps'), 'default', 'web').spec.replicas, 3);
  const scale = JSON.parse(await ok(['get', '--raw', '/apis/apps/v1/namespaces/default/statefulsets/web/scale']));
  assert.deepStrictEqual([scale.kind, scale.spec.replicas, scale.status.selector], ['Scale', 3, 'app=web']);
});

test('auth: can-i, whoami, impersonation, 403 and 401 texts', async () => {
  assert.match(await ok(['auth', 'can-i', 'create', 'pods']), /^yes/);
  assert.match((await f.kubectl(['auth', 'can-i', 'delete', 'pods'], { user: 'alice' })).stdout, /^no/);
  assert.match(await ok(['auth', 'can-i', 'list', 'pods', '--as=system:serviceaccount:default:reader']), /^yes/);
  assert.match((await f.kubectl(['auth', 'can-i', 'list', 'secrets', '--as=system:serviceaccount:default:reader'])).stdout, /^no/);
  assert.match(await ok(['auth', 'whoami']), /kube-admin/);
  assert.match(await ok(['auth', 'whoami', '--as=system:serviceaccount:default:reader']), /system:serviceaccount:default:reader/);
  const denied = await fails(['get', 'secrets'], { user: 'alice' });
  assert.match(denied, /Error from server \(Forbidden\): secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "default"/);
  const imp = await fails(['get', 'pods', '--as=bob'], { user: 'alice' });
  assert.match(imp, /users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope/);
});

// Field selectors as the real server checks them per kind: unsupported labels
// are a 400 with the kind's own text, before a list or a watch starts.
test('field selectors: the fields each kind supports, a 400 for the rest', async () => {
  f.store.create(f.r('pods'), { metadata: { name: 'fs-on-node', namespace: 'default' }, spec: { nodeName: 'kube-sim', containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Running' } });
  f.store.create(f.r('pods'), { metadata: { name: 'fs-pending', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Pending' } });
  const names = (out) => JSON.parse(out).items.map((i) => i.metadata.name).filter((n) => n.startsWith('fs-')).sort();
  assert.deepStrictEqual(names(await ok(['get', 'pods', '--field-selector', 'spec.nodeName=kube-sim', '-o', 'json'])), ['fs-on-node']);
  assert.deepStrictEqual(names(await ok(['get', 'pods', '--field-selector', 'status.phase!=Running,spec.hostNetwork=false', '-o', 'json'])), ['fs-pending']);
  assert.match(await fails(['get', 'pods', '--field-selector', 'spec.containers=c']),
    /Error from server \(BadRequest\): Unable to find "\/v1, Resource=pods" that match label selector "", field selector "spec.containers=c": field label not supported: spec.containers/);
  assert.match(await fails(['get', 'cm', '--field-selector', 'data.a=1']),
    /\(BadRequest\).*: "data.a" is not a known field selector: only "metadata.name", "metadata.namespace"/);
  assert.match(await fails(['get', 'jobs', '--field-selector', 'status.active=1']), /field label "status.active" not supported for Job/);
  assert.match(await fails(['get', 'namespaces', '--field-selector', 'metadata.namespace=x']), /field label not supported: metadata.namespace/);
  assert.match(await ok(['get', 'namespaces', '--field-selector', 'status.phase=Active', '-o', 'name']), /namespace\/default/);
  const watch = await f.kubectl(['get', '--raw', '/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=data.a%3D1']);
  assert.notStrictEqual(watch.code, 0);
  assert.match(watch.stderr, /is not a known field selector/);
});
