'use strict';
// Pod Security admission's checks, one rule at a time, in the wording of
// k8s.io/pod-security-admission.

const test = require('node:test');
const assert = require('node:assert');
const ps = require('../lib/podsecurity');

const tight = () => ({
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'main', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  volumes: [{ name: 'c', configMap: { name: 'x' } }, { name: 'd', persistentVolumeClaim: { claimName: 'd' } },
    { name: 'e', emptyDir: {} }, { name: 's', secret: { secretName: 's' } }],
});

test('a compliant spec has no violations', () => {
  assert.deepStrictEqual(ps.violations('restricted', tight()), []);
});

test('container-level settings satisfy the pod-or-container rules', () => {
  const spec = tight();
  delete spec.securityContext;
  spec.containers[0].securityContext.runAsNonRoot = true;
  spec.containers[0].securityContext.seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' };
  assert.deepStrictEqual(ps.violations('restricted', spec), []);
});

test('several containers are named together, init containers included', () => {
  const spec = tight();
  spec.initContainers = [{ name: 'a' }];
  spec.containers.push({ name: 'b', securityContext: { capabilities: { drop: ['ALL'] } } });
  assert.deepStrictEqual(ps.violations('restricted', spec), [
    'allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false)',
    'unrestricted capabilities (container "a" must set securityContext.capabilities.drop=["ALL"])',
  ]);
});

test('root, an explicit runAsNonRoot=false and added capabilities are refused', () => {
  const spec = tight();
  spec.containers[0].securityContext.runAsUser = 0;
  spec.containers[0].securityContext.runAsNonRoot = false;
  spec.containers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE', 'SYS_ADMIN'];
  assert.deepStrictEqual(ps.violations('restricted', spec), [
    'unrestricted capabilities (container "main" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
    'runAsNonRoot != true (container "main" must not set securityContext.runAsNonRoot=false)',
    'runAsUser=0 (container "main" must not set runAsUser=0)',
  ]);
});

test('host namespaces, privileged and Unconfined fail baseline too; restricted volumes only restricted', () => {
  const spec = tight();
  spec.hostNetwork = true;
  spec.containers[0].securityContext.privileged = true;
  spec.securityContext.seccompProfile = { type: 'Unconfined' };
  spec.volumes.push({ name: 'n', nfs: { server: 'x', path: '/' } });
  const baseline = ps.violations('baseline', spec);
  assert.deepStrictEqual(baseline, [
    'host namespaces (hostNetwork=true)',
    'privileged (container "main" must not set securityContext.privileged=true)',
    'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
  ]);
  const restricted = ps.violations('restricted', spec);
  assert.ok(restricted.includes('restricted volume types (volume "n" uses restricted volume type "nfs")'), restricted);
  // seccompProfile_restricted replaces the baseline check: one seccomp line, the restricted one.
  assert.deepStrictEqual(restricted.filter((v) => v.startsWith('seccompProfile')),
    ['seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")']);
  spec.containers[0].securityContext.capabilities.add = ['SYS_ADMIN'];
  assert.ok(ps.violations('baseline', spec).includes('non-default capabilities (container "main" must not include "SYS_ADMIN" in securityContext.capabilities.add)'));
  assert.deepStrictEqual(ps.violations('privileged', spec), []);
});

test('restricted seccomp: a valid profile at one level does not excuse a bad one at the other', () => {
  const seccomp = (spec) => ps.violations('restricted', spec).filter((v) => v.startsWith('seccompProfile'));
  const withRuntimeDefaultContainers = () => {
    const spec = tight();
    spec.containers.push({ name: 'side', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } });
    for (const c of spec.containers) c.securityContext.seccompProfile = { type: 'RuntimeDefault' };
    return spec;
  };
  const cases = [
    { name: 'container unset, pod RuntimeDefault', edit: () => {}, want: [] },
    { name: 'container Unconfined under a RuntimeDefault pod',
      edit: (spec) => { spec.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }; },
      want: ['seccompProfile (container "main" must not set securityContext.seccompProfile.type to "Unconfined")'] },
    { name: 'pod Unconfined, every container RuntimeDefault',
      base: withRuntimeDefaultContainers,
      edit: (spec) => { spec.securityContext.seccompProfile = { type: 'Unconfined' }; },
      want: ['seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'] },
    { name: 'pod and two containers bad, values sorted, explicit before implicit',
      edit: (spec) => {
        spec.securityContext.seccompProfile = { type: 'Unconfined' };
        spec.initContainers = [{ name: 'init', securityContext: { seccompProfile: { type: 'Unconfined' } } }];
        spec.containers[0].securityContext.seccompProfile = { type: 'Bogus' };
        spec.containers.push({ name: 'unset' });
      },
      want: ['seccompProfile (pod and containers "init", "main" must not set securityContext.seccompProfile.type to "Bogus", "Unconfined")'] },
  ];
  for (const c of cases) {
    const spec = (c.base || tight)();
    c.edit(spec);
    assert.deepStrictEqual(seccomp(spec), c.want, c.name);
  }
});

test('admission: only a labelled namespace refuses, with the API 403', () => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } };
  assert.doesNotThrow(() => ps.admitPod({ metadata: { labels: {} } }, pod));
  assert.doesNotThrow(() => ps.admitPod({ metadata: { labels: { [ps.ENFORCE_LABEL]: 'privileged' } } }, pod));
  assert.doesNotThrow(() => ps.admitPod({ metadata: { labels: { [ps.ENFORCE_LABEL]: 'baseline' } } }, pod));
  assert.throws(() => ps.admitPod({ metadata: { labels: { [ps.ENFORCE_LABEL]: 'restricted' } } }, pod), (e) => {
    assert.strictEqual(e.code, 403);
    assert.strictEqual(e.reason, 'Forbidden');
    assert.match(e.message, /^pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
    return true;
  });
});
