'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const yaml = require('js-yaml');
const { Registry } = require('../lib/registry');
const crd = require('../lib/crd');
const { validate, unknownFields } = require('../lib/validate');
const { applyDefaults } = require('../lib/defaults');

const FIXTURE = path.join(__dirname, 'fixtures', 'monitoring-crds.yaml');
const ZKPILOT = path.resolve(__dirname, '../../../build/zkpilot');
const PACKAGE = path.resolve(__dirname, '../../../packages/zookeeper');

let uidCounter = 0;
function loadCRDs(text) {
  return yaml.loadAll(text).filter(Boolean).map((c) => {
    c.metadata.uid = `uid-${++uidCounter}`;
    c.metadata.resourceVersion = '1';
    return c;
  });
}

// A registry with the given CRDs installed as the API server would: defaulted,
// validated, their resources added.
function install(crds) {
  const registry = new Registry();
  const crdRes = registry.byKind('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
  for (const c of crds) {
    applyDefaults(crdRes, c);
    assert.deepStrictEqual(validate(crdRes, c), [], `${c.metadata.name} should be a valid CRD`);
    for (const r of crd.resourcesFromCRD(c)) registry.add(r);
  }
  return registry;
}

const serviceMonitor = (over = {}) => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
  metadata: { name: 'zk', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'zk' } },
    endpoints: [{ port: 'metrics', interval: '15s', path: '/metrics', relabelings: [{ targetLabel: 'x', replacement: 'y' }] }],
    ...over,
  },
});

test('the fixture CRDs are valid and give registry resources', () => {
  const registry = install(loadCRDs(fs.readFileSync(FIXTURE, 'utf8')));
  const sm = registry.byKind('monitoring.coreos.com/v1', 'ServiceMonitor');
  assert.ok(sm);
  assert.strictEqual(sm.plural, 'servicemonitors');
  assert.strictEqual(sm.singular, 'servicemonitor');
  assert.strictEqual(sm.namespaced, true);
  assert.deepStrictEqual(sm.shortNames, ['smon']);
  assert.deepStrictEqual(sm.categories, ['prometheus-operator']);
  assert.deepStrictEqual(sm.subresources, ['status']);
  assert.strictEqual(sm.hasStatus, true);
  assert.strictEqual(sm.crd.metadata.name, 'servicemonitors.monitoring.coreos.com');
  const status = crd.crdStatus(sm.crd);
  assert.ok(status.conditions.some((c) => c.type === 'Established' && c.status === 'True'));
});

test('CRD validation: names, storage versions, structural schemas', () => {
  const [c] = loadCRDs(fs.readFileSync(FIXTURE, 'utf8'));
  const bad = structuredClone(c);
  bad.metadata.name = 'wrong.monitoring.coreos.com';
  bad.spec.versions.push({ ...structuredClone(bad.spec.versions[0]), name: 'v2' }); // a second storage version
  bad.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.untyped = { description: 'no type' };
  bad.spec.group = 'nodots';
  const causes = crd.validateCRD(bad);
  const text = causes.map((x) => `${x.field}: ${x.message}`).join('\n');
  assert.match(text, /spec\.group: Invalid value: "nodots": should be a domain with at least one dot/);
  assert.match(text, /spec\.versions: Invalid value: .*must have exactly one version marked as storage version/);
  assert.match(text, /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.properties\[untyped\]\.type: Required value/);
  const [ok] = loadCRDs(fs.readFileSync(FIXTURE, 'utf8'));
  ok.metadata.name = 'other.monitoring.coreos.com';
  assert.match(crd.validateCRD(ok).map((x) => x.message).join('\n'), /must be spec.names.plural\+"."\+spec.group/);
});

test('custom resources: defaults, pruning, int-or-string, patterns, enums, required', () => {
  const registry = install(loadCRDs(fs.readFileSync(FIXTURE, 'utf8')));
  const res = registry.byKind('monitoring.coreos.com/v1', 'ServiceMonitor');
  const obj = serviceMonitor();
  obj.spec.unknownField = true;
  obj.spec.endpoints[0].targetPort = 7000;
  assert.deepStrictEqual(unknownFields(res, obj), ['spec.unknownField']);
  applyDefaults(res, obj);
  assert.strictEqual(obj.spec.unknownField, undefined, 'pruned');
  assert.strictEqual(obj.spec.endpoints[0].relabelings[0].action, 'replace', 'defaulted');
  assert.deepStrictEqual(validate(res, obj), []);
  obj.spec.endpoints[0].targetPort = 'metrics';
  assert.deepStrictEqual(validate(res, obj), []);

  const bad = serviceMonitor({ endpoints: [{ port: 7000, interval: '15 seconds', scheme: 'ftp', targetPort: true }] });
  delete bad.spec.selector;
  const causes = validate(res, applyDefaults(res, bad));
  const text = causes.map((x) => `${x.field}: ${x.message}`).join('\n');
  assert.match(text, /^spec\.selector: Required value$/m);
  assert.match(text, /spec\.endpoints\[0\]\.port: Invalid value: "integer": spec\.endpoints\[0\]\.port in body must be of type string: "integer"/);
  assert.match(text, /spec\.endpoints\[0\]\.interval: Invalid value: "15 seconds": spec\.endpoints\[0\]\.interval in body should match/);
  assert.match(text, /spec\.endpoints\[0\]\.scheme: Unsupported value: "ftp": supported values: "http", "https", "HTTP", "HTTPS"/);
  assert.match(text, /spec\.endpoints\[0\]\.targetPort: Invalid value: true/);
});

test('PrometheusRule: list-type map keys unique, Go regexp flags honoured', () => {
  const registry = install(loadCRDs(fs.readFileSync(FIXTURE, 'utf8')));
  const res = registry.byKind('monitoring.coreos.com/v1', 'PrometheusRule');
  const rule = (groups) => applyDefaults(res, { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'r', namespace: 'd' }, spec: { groups } });
  assert.deepStrictEqual(validate(res, rule([{ name: 'zk', partial_response_strategy: 'WARN', rules: [{ alert: 'Down', expr: 'up == 0', for: '5m' }] }])), []);
  const causes = validate(res, rule([{ name: 'zk', partial_response_strategy: 'sometimes', rules: [{ alert: 'Down' }] }, { name: 'zk' }]));
  const text = causes.map((x) => `${x.field}: ${x.message}`).join('\n');
  assert.match(text, /spec\.groups\[0\]\.rules\[0\]\.expr: Required value/);
  assert.match(text, /spec\.groups\[0\]\.partial_response_strategy: Invalid value: "sometimes"/);
  assert.match(text, /spec\.groups\[1\]: Duplicate value/);
});

test('compiled validators follow the CRD resourceVersion', () => {
  const [c] = loadCRDs(fs.readFileSync(FIXTURE, 'utf8'));
  const registry = install([c]);
  const res = registry.byKind('monitoring.coreos.com/v1', 'ServiceMonitor');
  const obj = applyDefaults(res, serviceMonitor({ jobLabel: 'x' }));
  assert.deepStrictEqual(validate(res, obj), []);
  const c2 = structuredClone(c);
  c2.metadata.resourceVersion = '2';
  c2.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.jobLabel.maxLength = 0;
  const [res2] = crd.resourcesFromCRD(c2);
  assert.match(validate(res2, obj).map((x) => x.message).join('\n'), /Too long/);
});

// The real prometheus-operator CRDs, when a directory with them is given
// (e.g. monitoring.coreos.com_servicemonitors.yaml from the operator's release).
test('real prometheus-operator CRDs (KUBE_SIM_CRD_DIR)', { skip: !process.env.KUBE_SIM_CRD_DIR && 'KUBE_SIM_CRD_DIR not set' }, () => {
  const dir = process.env.KUBE_SIM_CRD_DIR;
  const files = fs.readdirSync(dir).filter((f) => /^monitoring\.coreos\.com_.*\.ya?ml$/.test(f));
  assert.ok(files.length > 0, `no monitoring.coreos.com_*.yaml in ${dir}`);
  const registry = install(files.flatMap((f) => loadCRDs(fs.readFileSync(path.join(dir, f), 'utf8'))));
  const res = registry.byKind('monitoring.coreos.com/v1', 'ServiceMonitor');
  assert.deepStrictEqual(validate(res, applyDefaults(res, serviceMonitor())), []);
  const bad = applyDefaults(res, serviceMonitor({ endpoints: [{ port: 1 }] }));
  assert.ok(validate(res, bad).some((x) => x.field === 'spec.endpoints[0].port'));
});

test('the ServiceMonitor and PrometheusRule that zkpilot renders are valid', { skip: !fs.existsSync(ZKPILOT) && 'zkpilot is not built' }, () => {
  const out = execFileSync(ZKPILOT, ['render', PACKAGE, '--set', 'prometheus.enabled=true', '--set', 'prometheus.operator=true', '--format', 'json'], { encoding: 'utf8' });
  const items = JSON.parse(out).items;
  const registry = install(loadCRDs(fs.readFileSync(FIXTURE, 'utf8')));
  const kinds = new Set();
  for (const obj of items) {
    const res = registry.byKind(obj.apiVersion, obj.kind);
    assert.ok(res, `${obj.apiVersion} ${obj.kind} is served`);
    kinds.add(obj.kind);
    const strictUnknown = unknownFields(res, obj);
    const causes = validate(res, applyDefaults(res, structuredClone(obj)));
    assert.deepStrictEqual({ kind: obj.kind, name: obj.metadata.name, causes, strictUnknown }, { kind: obj.kind, name: obj.metadata.name, causes: [], strictUnknown: [] });
  }
  assert.ok(kinds.has('ServiceMonitor') && kinds.has('PrometheusRule'), `rendered kinds: ${[...kinds]}`);
});
