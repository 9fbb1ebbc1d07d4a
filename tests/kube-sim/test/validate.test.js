'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Registry } = require('../lib/registry');
const { validate, unknownFields } = require('../lib/validate');
const { applyDefaults, serviceNeedsClusterIP } = require('../lib/defaults');

const registry = new Registry();
const R = (apiVersion, kind) => registry.byKind(apiVersion, kind);
const STS = R('apps/v1', 'StatefulSet');

function statefulSet(over = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'zk', namespace: 'default', labels: { app: 'zk' } },
    spec: {
      serviceName: 'zk-headless',
      selector: { matchLabels: { app: 'zk' } },
      template: {
        metadata: { labels: { app: 'zk' } },
        spec: {
          containers: [{
            name: 'zookeeper',
            image: 'zookeeper:3.9',
            ports: [{ name: 'client', containerPort: 2181 }],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
            readinessProbe: { tcpSocket: { port: 'client' } },
          }],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...over,
    },
  };
}

const fields = (causes) => causes.map((c) => `${c.field}: ${c.message}`);
const has = (causes, field, re) => causes.some((c) => c.field === field && re.test(c.message));

test('a well-formed StatefulSet is valid before and after defaulting', () => {
  const obj = statefulSet();
  assert.deepStrictEqual(validate(STS, obj), []);
  assert.deepStrictEqual(validate(STS, applyDefaults(STS, obj)), []);
});

test('schema errors carry real field paths and messages', () => {
  const obj = statefulSet();
  delete obj.spec.template.spec.containers[0].image;
  obj.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes';
  obj.spec.replicas = 'three';
  const causes = validate(STS, obj);
  assert.ok(has(causes, 'spec.template.spec.containers[0].image', /^Required value$/), fields(causes).join('\n'));
  const pull = causes.find((c) => c.field === 'spec.template.spec.containers[0].imagePullPolicy');
  assert.strictEqual(pull.reason, 'FieldValueNotSupported');
  assert.match(pull.message, /Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"/);
  const replicas = causes.find((c) => c.field === 'spec.replicas');
  assert.ok(replicas && replicas.decode, 'a type mismatch is flagged as a decode error');
});

test('names: Service and Namespace are labels, pods are subdomains', () => {
  const svc = R('v1', 'Service');
  const longLabel = 'a'.repeat(64);
  assert.ok(has(validate(svc, { metadata: { name: longLabel, namespace: 'd' }, spec: { ports: [{ port: 80 }] } }), 'metadata.name', /no more than 63/));
  assert.ok(has(validate(svc, { metadata: { name: '1svc', namespace: 'd' }, spec: { ports: [{ port: 80 }] } }), 'metadata.name', /DNS-1035/));
  assert.ok(has(validate(R('v1', 'Namespace'), { metadata: { name: 'a.b' } }), 'metadata.name', /RFC 1123 label/));
  const pod = { metadata: { name: 'a.b-c', namespace: 'd' }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  assert.deepStrictEqual(validate(R('v1', 'Pod'), pod), []);
  pod.metadata.name = 'Upper';
  assert.ok(has(validate(R('v1', 'Pod'), pod), 'metadata.name', /RFC 1123 subdomain/));
  pod.metadata.name = 'x'.repeat(254);
  assert.ok(has(validate(R('v1', 'Pod'), pod), 'metadata.name', /no more than 253/));
});

test('label keys and values are checked', () => {
  const obj = statefulSet();
  obj.metadata.labels = { 'bad key': 'v', 'example.com/ok': 'x'.repeat(64), 'Example.com/x': 'y' };
  const causes = validate(STS, obj);
  assert.ok(has(causes, 'metadata.labels', /name part must consist/));
  assert.ok(has(causes, 'metadata.labels', /must be no more than 63 characters/));
  assert.ok(has(causes, 'metadata.labels', /prefix part/));
});

test('containers, ports and mounts follow the real rules', () => {
  const obj = statefulSet();
  const c = obj.spec.template.spec.containers[0];
  obj.spec.template.spec.containers.push({ name: 'zookeeper', image: 'x' });
  c.ports = [{ name: 'a-very-long-port-name', containerPort: 70000 }, { name: 'dup', containerPort: 1 }, { name: 'dup', containerPort: 2 }];
  c.volumeMounts = [{ name: 'nothing', mountPath: '/x' }];
  const causes = validate(STS, obj);
  assert.ok(has(causes, 'spec.template.spec.containers[1].name', /^Duplicate value: "zookeeper"$/), fields(causes).join('\n'));
  assert.ok(has(causes, 'spec.template.spec.containers[0].ports[0].containerPort', /must be between 1 and 65535, inclusive/));
  assert.ok(has(causes, 'spec.template.spec.containers[0].ports[0].name', /no more than 15 characters/));
  assert.ok(has(causes, 'spec.template.spec.containers[0].ports[2].name', /Duplicate value/));
  assert.ok(has(causes, 'spec.template.spec.containers[0].volumeMounts[0].name', /^Not found: "nothing"$/));
});

test('a selector that does not match the template labels is refused', () => {
  const obj = statefulSet({ selector: { matchLabels: { app: 'other' } } });
  const causes = validate(STS, obj);
  assert.ok(has(causes, 'spec.template.metadata.labels', /`selector` does not match template `labels`/), fields(causes).join('\n'));
  const deploy = R('apps/v1', 'Deployment');
  const d = { metadata: { name: 'd', namespace: 'x' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'c' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } };
  assert.ok(has(validate(deploy, d), 'spec.template.metadata.labels', /does not match/));
});

test('StatefulSet updates may change only the allowed fields; selectors are immutable', () => {
  const old = applyDefaults(STS, statefulSet());
  const scaled = applyDefaults(STS, statefulSet({ replicas: 5 }));
  assert.deepStrictEqual(validate(STS, scaled, old), []);
  const renamed = applyDefaults(STS, statefulSet({ serviceName: 'other' }));
  const causes = validate(STS, renamed, old);
  assert.deepStrictEqual(causes.map((c) => [c.field, c.reason]), [['spec', 'FieldValueForbidden']]);
  assert.strictEqual(causes[0].message, "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");

  const deploy = R('apps/v1', 'Deployment');
  const d = (app) => applyDefaults(deploy, { metadata: { name: 'd', namespace: 'x' }, spec: { selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } });
  assert.ok(has(validate(deploy, d('b'), d('a')), 'spec.selector', /field is immutable/));
});

test('ConfigMap keys, Service clusterIP, PVC and Pod immutability', () => {
  const cm = R('v1', 'ConfigMap');
  assert.ok(has(validate(cm, { metadata: { name: 'c', namespace: 'd' }, data: { 'bad key': 'x', 'zoo.cfg': 'y' } }), 'data[bad key]', /valid config key/));

  const svc = R('v1', 'Service');
  const s1 = applyDefaults(svc, { metadata: { name: 's', namespace: 'd' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80 }] } });
  const s2 = applyDefaults(svc, { metadata: { name: 's', namespace: 'd' }, spec: { clusterIP: '10.96.0.11', ports: [{ port: 80 }] } });
  assert.ok(has(validate(svc, s2, s1), 'spec.clusterIP', /field is immutable/));
  // Leaving clusterIP out of an update keeps the allocated one.
  const s3 = applyDefaults(svc, { metadata: { name: 's', namespace: 'd' }, spec: { ports: [{ port: 80 }] } }, s1);
  assert.strictEqual(s3.spec.clusterIP, '10.96.0.10');
  assert.deepStrictEqual(validate(svc, s3, s1), []);

  const pvc = R('v1', 'PersistentVolumeClaim');
  const claim = (size, modes = ['ReadWriteOnce']) => applyDefaults(pvc, { metadata: { name: 'p', namespace: 'd' }, spec: { accessModes: modes, resources: { requests: { storage: size } } } });
  assert.deepStrictEqual(validate(pvc, claim('2Gi'), claim('1Gi')), []);
  assert.ok(has(validate(pvc, claim('512Mi'), claim('1Gi')), 'spec.resources.requests.storage', /can not be less than previous value/));
  assert.ok(has(validate(pvc, claim('1Gi', ['ReadWriteMany']), claim('1Gi')), 'spec', /spec is immutable after creation/));

  const podRes = R('v1', 'Pod');
  const pod = (image, restartPolicy) => applyDefaults(podRes, { metadata: { name: 'p', namespace: 'd' }, spec: { restartPolicy, containers: [{ name: 'c', image }] } });
  assert.deepStrictEqual(validate(podRes, pod('i:2', 'Always'), pod('i:1', 'Always')), []);
  assert.ok(has(validate(podRes, pod('i:1', 'Never'), pod('i:1', 'Always')), 'spec', /pod updates may not change fields other than/));
});

test('unknownFields finds fields the schema does not know, at any depth', () => {
  const obj = statefulSet();
  obj.spec.foo = 1;
  obj.spec.template.spec.containers[0].imagePullPolcy = 'Always';
  obj.metadata.labels['any.key/is-fine'] = 'x';
  obj.spec.template.spec.nodeSelector = { 'kubernetes.io/os': 'linux' };
  assert.deepStrictEqual(unknownFields(STS, obj).sort(), ['spec.foo', 'spec.template.spec.containers[0].imagePullPolcy']);
  assert.deepStrictEqual(unknownFields(STS, statefulSet()), []);
});

test('defaults: pod templates, StatefulSet, Service, Job; idempotent', () => {
  const obj = applyDefaults(STS, statefulSet());
  const spec = obj.spec;
  assert.strictEqual(spec.replicas, 1);
  assert.strictEqual(spec.podManagementPolicy, 'OrderedReady');
  assert.deepStrictEqual(spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepStrictEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.strictEqual(spec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');
  const pod = spec.template.spec;
  assert.strictEqual(pod.restartPolicy, 'Always');
  assert.strictEqual(pod.dnsPolicy, 'ClusterFirst');
  assert.strictEqual(pod.terminationGracePeriodSeconds, 30);
  const c = pod.containers[0];
  assert.strictEqual(c.imagePullPolicy, 'IfNotPresent');
  assert.strictEqual(c.ports[0].protocol, 'TCP');
  assert.deepStrictEqual([c.readinessProbe.timeoutSeconds, c.readinessProbe.periodSeconds, c.readinessProbe.successThreshold, c.readinessProbe.failureThreshold], [1, 10, 1, 3]);
  assert.deepStrictEqual(applyDefaults(STS, structuredClone(obj)), obj);

  const latest = applyDefaults(R('v1', 'Pod'), { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }, { name: 'd', image: 'reg:5000/x:latest' }, { name: 'e', image: 'reg:5000/x' }] } });
  assert.deepStrictEqual(latest.spec.containers.map((x) => x.imagePullPolicy), ['Always', 'Always', 'Always']);

  const svc = applyDefaults(R('v1', 'Service'), { metadata: { name: 's' }, spec: { ports: [{ port: 2181 }] } });
  assert.deepStrictEqual([svc.spec.type, svc.spec.sessionAffinity, svc.spec.ports[0].protocol, svc.spec.ports[0].targetPort], ['ClusterIP', 'None', 'TCP', 2181]);
  assert.strictEqual(serviceNeedsClusterIP(svc), true);
  assert.strictEqual(serviceNeedsClusterIP({ spec: { clusterIP: 'None' } }), false);

  const jobRes = R('batch/v1', 'Job');
  const job = applyDefaults(jobRes, { metadata: { name: 'j', namespace: 'd' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } });
  assert.deepStrictEqual([job.spec.completions, job.spec.parallelism, job.spec.backoffLimit, job.spec.completionMode], [1, 1, 6, 'NonIndexed']);
  const uid = job.metadata.uid;
  assert.ok(uid, 'the Job gets its uid before the store sees it');
  assert.deepStrictEqual(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  assert.strictEqual(job.spec.template.metadata.labels['controller-uid'], uid);
  assert.strictEqual(job.spec.template.metadata.labels['batch.kubernetes.io/job-name'], 'j');
  assert.deepStrictEqual(validate(jobRes, job), []);
  assert.deepStrictEqual(applyDefaults(jobRes, structuredClone(job), job), job);

  const np = applyDefaults(R('networking.k8s.io/v1', 'NetworkPolicy'), { spec: { podSelector: {}, egress: [{}] } });
  assert.deepStrictEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
  const ns = applyDefaults(R('v1', 'Namespace'), { metadata: { name: 'zk' } });
  assert.strictEqual(ns.metadata.labels['kubernetes.io/metadata.name'], 'zk');
});
