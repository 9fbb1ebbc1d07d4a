'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { execFile } = require('child_process');
const yaml = require('js-yaml');
const { Registry } = require('../lib/registry');
const crd = require('../lib/crd');
const { openapiV3Index, openapiV3Doc, openapiV3Hash } = require('../lib/openapi');

const FIXTURE = path.join(__dirname, 'fixtures', 'monitoring-crds.yaml');

function registryWithCRDs() {
  const registry = new Registry();
  for (const c of yaml.loadAll(fs.readFileSync(FIXTURE, 'utf8'))) {
    c.metadata.uid = c.metadata.name;
    crd.defaultCRD(c);
    for (const r of crd.resourcesFromCRD(c)) registry.add(r);
  }
  return registry;
}

// Follows allOf/$ref the way kubectl does.
function deref(doc, s) {
  while (s && (s.$ref || (s.allOf && s.allOf.length === 1))) {
    const ref = s.$ref || s.allOf[0].$ref;
    s = doc.components.schemas[ref.replace('#/components/schemas/', '')];
  }
  return s;
}

test('the index lists every group-version with a hashed URL', () => {
  const registry = registryWithCRDs();
  const index = openapiV3Index(registry);
  for (const gv of ['api/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/monitoring.coreos.com/v1']) {
    assert.match(index.paths[gv].serverRelativeURL, new RegExp(`^/openapi/v3/${gv.replace(/\./g, '\\.')}\\?hash=[0-9A-F]{128}$`));
  }
  assert.strictEqual(index.paths['apis/apps/v1'].serverRelativeURL.split('hash=')[1], openapiV3Hash(registry, 'apis/apps/v1'));
  assert.strictEqual(openapiV3Doc(registry, 'apis/nope/v1'), null);
});

test('apps/v1 carries StatefulSet with its GVK and patch metadata on podSpec.containers', () => {
  const doc = openapiV3Doc(new Registry(), 'apis/apps/v1');
  assert.strictEqual(doc.openapi, '3.0.0');
  const sts = doc.components.schemas['io.k8s.api.apps.v1.StatefulSet'];
  assert.deepStrictEqual(sts['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'StatefulSet' }]);
  const spec = deref(doc, sts.properties.spec);
  const template = deref(doc, spec.properties.template);
  const podSpec = deref(doc, template.properties.spec);
  assert.strictEqual(podSpec, doc.components.schemas['io.k8s.api.core.v1.PodSpec']);
  const containers = podSpec.properties.containers;
  assert.strictEqual(containers.type, 'array');
  assert.strictEqual(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.strictEqual(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.strictEqual(containers['x-kubernetes-list-type'], 'map');
  assert.deepStrictEqual(containers['x-kubernetes-list-map-keys'], ['name']);
  assert.strictEqual(podSpec.properties.volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  const container = deref(doc, containers.items);
  assert.deepStrictEqual(container.required, ['name']);
  assert.strictEqual(container.properties.ports['x-kubernetes-patch-merge-key'], 'containerPort');
  assert.strictEqual(container.properties.env['x-kubernetes-patch-merge-key'], 'name');
  assert.strictEqual(deref(doc, spec.properties.updateStrategy), doc.components.schemas['io.k8s.api.apps.v1.StatefulSetUpdateStrategy']);
  assert.ok(doc.components.schemas['io.k8s.api.apps.v1.StatefulSetList']['x-kubernetes-group-version-kind']);
});

test('PATCH operations carry the GVK and a fieldValidation query parameter', () => {
  const doc = openapiV3Doc(new Registry(), 'apis/apps/v1');
  const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}'];
  assert.deepStrictEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'StatefulSet' });
  assert.ok(item.patch.parameters.some((p) => p.name === 'fieldValidation' && p.in === 'query'));
  assert.ok(item.patch.requestBody.content['application/strategic-merge-patch+json']);
  assert.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/statefulsets'].post.parameters.some((p) => p.name === 'fieldValidation'));
  assert.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/scale']);
  const core = openapiV3Doc(new Registry(), 'api/v1');
  assert.ok(core.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch);
  assert.ok(core.paths['/api/v1/namespaces/{name}'].patch, 'Namespace is cluster-scoped');
});

test('a CRD group document comes from the CRD schema', () => {
  const doc = openapiV3Doc(registryWithCRDs(), 'apis/monitoring.coreos.com/v1');
  const sm = doc.components.schemas['com.coreos.monitoring.v1.ServiceMonitor'];
  assert.deepStrictEqual(sm['x-kubernetes-group-version-kind'], [{ group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor' }]);
  assert.ok(sm.properties.spec.properties.endpoints);
  assert.strictEqual(deref(doc, sm.properties.metadata), doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  const patch = doc.paths['/apis/monitoring.coreos.com/v1/namespaces/{namespace}/servicemonitors/{name}'].patch;
  assert.ok(patch.parameters.some((p) => p.name === 'fieldValidation'));
  assert.ok(!patch.requestBody.content['application/strategic-merge-patch+json'], 'custom resources take no strategic merge patch');
});

// kubectl itself reads the documents: explain, and the client-side apply
// patch (which needs the merge keys), against a bare discovery + openapi server.
test('kubectl explain and apply read the documents', { skip: !fs.existsSync('/usr/bin/kubectl') && 'kubectl not installed', timeout: 60000 }, async (t) => {
  const registry = new Registry();
  const last = {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'zk', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'zk' } }, serviceName: 'zk', template: { metadata: { labels: { app: 'zk' } }, spec: { containers: [{ name: 'c', image: 'i', env: [{ name: 'A', value: '1' }] }, { name: 'd', image: 'j' }] } } },
  };
  const live = { ...structuredClone(last), metadata: { ...last.metadata, uid: 'u', resourceVersion: '5', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(last) } } };
  const patches = [];
  const send = (res, code, body) => { res.writeHead(code, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (req.method === 'PATCH') {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { patches.push({ url: req.url, type: req.headers['content-type'], body: JSON.parse(body) }); send(res, 200, live); });
      return;
    }
    if (p === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'] });
    if (p === '/apis') {
      return send(res, 200, {
        kind: 'APIGroupList', apiVersion: 'v1',
        groups: registry.groups().filter((g) => g.group).map((g) => ({ name: g.group, versions: g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v })), preferredVersion: { groupVersion: `${g.group}/${g.preferredVersion}`, version: g.preferredVersion } })),
      });
    }
    const m = /^\/(?:api|apis\/([^/]+))\/([^/]+)$/.exec(p);
    if (m) {
      const rs = registry.all().filter((r) => r.group === (m[1] || '') && r.version === m[2]);
      return send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: m[1] ? `${m[1]}/${m[2]}` : m[2], resources: rs.map((r) => ({ name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs, shortNames: r.shortNames })) });
    }
    if (p === '/openapi/v3') return send(res, 200, openapiV3Index(registry));
    if (p.startsWith('/openapi/v3/')) {
      const doc = openapiV3Doc(registry, p.slice('/openapi/v3/'.length));
      return doc ? send(res, 200, doc) : send(res, 404, {});
    }
    if (p === '/apis/apps/v1/namespaces/default/statefulsets/zk') return send(res, 200, live);
    return send(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-sim-openapi-'));
  t.after(() => { server.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  fs.writeFileSync(path.join(dir, 'config'), yaml.dump({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${server.address().port}` } }],
    users: [{ name: 'u', user: {} }], contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
  }));
  const kubectl = (args, input) => new Promise((resolve, reject) => {
    const child = execFile('/usr/bin/kubectl', args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: path.join(dir, 'config') }, timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)); else resolve(stdout);
    });
    if (input !== undefined) child.stdin.end(input);
  });
  const explained = await kubectl(['explain', 'statefulset.spec.template.spec.containers.ports']);
  assert.match(explained, /FIELD: ports <\[\]ContainerPort>/);
  assert.match(explained, /containerPort\s+<integer> -required-/);
  const desired = structuredClone(last);
  desired.spec.template.spec.containers[0].env.push({ name: 'B', value: '2' });
  await kubectl(['apply', '-f', '-'], JSON.stringify(desired));
  assert.strictEqual(patches.length, 1);
  assert.match(patches[0].url, /fieldValidation=Strict/);
  assert.strictEqual(patches[0].type, 'application/strategic-merge-patch+json');
  const podSpec = patches[0].body.spec.template.spec;
  assert.deepStrictEqual(podSpec['$setElementOrder/containers'], [{ name: 'c' }, { name: 'd' }]);
  assert.deepStrictEqual(podSpec.containers[0].env, [{ name: 'B', value: '2' }]);
});

// The published extensions come from the one table strategic merge patch and
// server-side apply use (patchmeta-table.js), so the two cannot drift apart.
test('patch and list metadata are those of patchmeta-table.js', () => {
  const { TYPES, typeOfDefinition, openapiExtensions } = require('../lib/patchmeta');
  const core = openapiV3Doc(new Registry(), 'api/v1');
  const apps = openapiV3Doc(new Registry(), 'apis/apps/v1');
  const s = (doc, name) => doc.components.schemas[name];
  assert.strictEqual(s(core, 'io.k8s.api.core.v1.ServiceSpec').properties.selector['x-kubernetes-map-type'], 'atomic');
  assert.strictEqual(s(core, 'io.k8s.api.core.v1.PodSpec').properties.nodeSelector['x-kubernetes-map-type'], 'atomic');
  const claims = s(core, 'io.k8s.api.core.v1.PodStatus').properties.resourceClaimStatuses;
  assert.strictEqual(claims['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.deepStrictEqual(claims['x-kubernetes-list-map-keys'], ['name']);
  assert.strictEqual(s(core, 'io.k8s.api.core.v1.PodStatus').properties.hostIPs['x-kubernetes-list-type'], 'atomic');
  assert.strictEqual(s(core, 'io.k8s.api.core.v1.Container').properties.args['x-kubernetes-list-type'], 'atomic');
  assert.strictEqual(s(core, 'io.k8s.api.core.v1.LocalObjectReference')['x-kubernetes-map-type'], 'atomic', 'an atomic struct');
  assert.strictEqual(s(apps, 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector')['x-kubernetes-map-type'], 'atomic');
  assert.deepStrictEqual(s(apps, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').properties.ownerReferences['x-kubernetes-list-map-keys'], ['uid']);
  // Every field entry of the table that a published document has carries exactly the table's metadata.
  let checked = 0;
  for (const doc of [core, apps, openapiV3Doc(new Registry(), 'apis/batch/v1'), openapiV3Doc(new Registry(), 'apis/rbac.authorization.k8s.io/v1')]) {
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      const entry = TYPES[typeOfDefinition(name)];
      if (!entry) continue;
      for (const [field, spec] of Object.entries(entry)) {
        if (field === '.' || !schema.properties || !schema.properties[field]) continue;
        const published = Object.fromEntries(Object.entries(schema.properties[field]).filter(([k]) => /^x-kubernetes-(patch|list|map)-/.test(k)));
        assert.deepStrictEqual(published, openapiExtensions(name, field), `${name}.${field}`);
        if (spec.smp) assert.strictEqual(published['x-kubernetes-patch-strategy'], spec.smp);
        checked += 1;
      }
    }
  }
  assert.ok(checked > 50, `${checked} fields checked`);
});
