'use strict';
// RBAC decisions, table-driven, against roles and bindings in the store.

const test = require('node:test');
const assert = require('node:assert');
const { Registry } = require('../lib/registry');
const { Store } = require('../lib/store');
const { Rbac, bootstrap, forbiddenMessage } = require('../lib/authz');

const G = 'rbac.authorization.k8s.io';

function setup() {
  const registry = new Registry();
  const store = new Store(registry);
  const r = (p, g = '', v = 'v1') => registry.byPlural(g, v, p);
  for (const ns of ['a', 'b', 'default']) store.create(r('namespaces'), { metadata: { name: ns } });
  const rb = (p) => r(p, G);
  const ref = (kind, name) => ({ apiGroup: G, kind, name });
  bootstrap(store);

  store.create(rb('roles'), { metadata: { name: 'pod-reader', namespace: 'a' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] });
  store.create(rb('rolebindings'), { metadata: { name: 'alice-reads', namespace: 'a' }, roleRef: ref('Role', 'pod-reader'), subjects: [{ kind: 'User', name: 'alice', apiGroup: G }] });

  store.create(rb('roles'), { metadata: { name: 'logs', namespace: 'a' }, rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get'] }] });
  store.create(rb('rolebindings'), { metadata: { name: 'logs', namespace: 'a' }, roleRef: ref('Role', 'logs'), subjects: [{ kind: 'User', name: 'logan' }] });

  store.create(rb('roles'), { metadata: { name: 'one-cm', namespace: 'a' }, rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['zk-config'], verbs: ['get', 'update'] }] });
  store.create(rb('rolebindings'), { metadata: { name: 'one-cm', namespace: 'a' }, roleRef: ref('Role', 'one-cm'), subjects: [{ kind: 'User', name: 'carl' }] });

  store.create(rb('clusterroles'), { metadata: { name: 'sts-scaler' }, rules: [{ apiGroups: ['apps'], resources: ['statefulsets', '*/scale'], verbs: ['get', 'patch'] }] });
  store.create(rb('rolebindings'), { metadata: { name: 'scaler', namespace: 'b' }, roleRef: ref('ClusterRole', 'sts-scaler'), subjects: [{ kind: 'ServiceAccount', name: 'op', namespace: 'a' }, { kind: 'ServiceAccount', name: 'local' }] });

  store.create(rb('clusterroles'), { metadata: { name: 'node-viewer' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }] });
  store.create(rb('clusterrolebindings'), { metadata: { name: 'ops-nodes' }, roleRef: ref('ClusterRole', 'node-viewer'), subjects: [{ kind: 'Group', name: 'ops', apiGroup: G }] });

  store.create(rb('clusterroles'), { metadata: { name: 'metrics' }, rules: [{ nonResourceURLs: ['/metrics', '/debug/*'], verbs: ['get'] }] });
  store.create(rb('clusterrolebindings'), { metadata: { name: 'metrics' }, roleRef: ref('ClusterRole', 'metrics'), subjects: [{ kind: 'User', name: 'prom' }] });

  store.create(rb('rolebindings'), { metadata: { name: 'dana-edit', namespace: 'b' }, roleRef: ref('ClusterRole', 'edit'), subjects: [{ kind: 'User', name: 'dana' }] });
  store.create(rb('rolebindings'), { metadata: { name: 'dangling', namespace: 'b' }, roleRef: ref('Role', 'missing'), subjects: [{ kind: 'User', name: 'erin' }] });
  store.create(rb('clusterrolebindings'), { metadata: { name: 'root' }, roleRef: ref('ClusterRole', 'cluster-admin'), subjects: [{ kind: 'User', name: 'root' }] });
  store.create(rb('clusterrolebindings'), { metadata: { name: 'viewers' }, roleRef: ref('ClusterRole', 'view'), subjects: [{ kind: 'Group', name: 'viewers' }] });
  return { store, rb, rbac: new Rbac(store) };
}

const user = (username, groups = []) => ({ username, groups: [...groups, 'system:authenticated'] });
const sa = (ns, name) => user(`system:serviceaccount:${ns}:${name}`, ['system:serviceaccounts', `system:serviceaccounts:${ns}`]);
const res = (verb, resource, namespace, extra = {}) => {
  const [r, sub] = resource.split('/');
  return { verb, apiGroup: '', resource: r, subresource: sub, namespace, ...extra };
};
const apps = (verb, resource, namespace, extra = {}) => res(verb, resource, namespace, { apiGroup: 'apps', ...extra });
const url = (verb, path) => ({ verb, path });

const CASES = [
  // [description, user, attributes, allowed]
  ['role grants get pods in its namespace', user('alice'), res('get', 'pods', 'a', { name: 'p' }), true],
  ['role grants list pods in its namespace', user('alice'), res('list', 'pods', 'a'), true],
  ['role does not grant watch', user('alice'), res('watch', 'pods', 'a'), false],
  ['role does not reach another namespace', user('alice'), res('get', 'pods', 'b', { name: 'p' }), false],
  ['role does not grant pods/log unless listed', user('alice'), res('get', 'pods/log', 'a', { name: 'p' }), false],
  ['pods/log listed is granted', user('logan'), res('get', 'pods/log', 'a', { name: 'p' }), true],
  ['pods/log does not grant pods/exec', user('logan'), res('get', 'pods/exec', 'a', { name: 'p' }), false],
  ['role is not cluster-wide', user('alice'), res('list', 'pods', ''), false],
  ['another user gets nothing', user('mallory'), res('get', 'pods', 'a', { name: 'p' }), false],
  ['resourceNames allow the named object', user('carl'), res('get', 'configmaps', 'a', { name: 'zk-config' }), true],
  ['resourceNames deny other objects', user('carl'), res('get', 'configmaps', 'a', { name: 'other' }), false],
  ['resourceNames deny list (no name)', user('carl'), res('list', 'configmaps', 'a'), false],
  ['ClusterRole via RoleBinding works in that namespace', sa('a', 'op'), apps('patch', 'statefulsets', 'b', { name: 's' }), true],
  ['ClusterRole via RoleBinding not in other namespaces', sa('a', 'op'), apps('patch', 'statefulsets', 'a', { name: 's' }), false],
  ['*/scale matches statefulsets/scale', sa('a', 'op'), apps('patch', 'statefulsets/scale', 'b', { name: 's' }), true],
  ['*/scale matches deployments/scale', sa('a', 'op'), apps('get', 'deployments/scale', 'b', { name: 'd' }), true],
  ['*/scale does not match deployments', sa('a', 'op'), apps('get', 'deployments', 'b', { name: 'd' }), false],
  ['apiGroup must match', sa('a', 'op'), res('get', 'statefulsets', 'b', { name: 's' }), false],
  ['SA subject without namespace means the binding namespace', sa('b', 'local'), apps('get', 'statefulsets', 'b', { name: 's' }), true],
  ['... and not the same name elsewhere', sa('a', 'local'), apps('get', 'statefulsets', 'b', { name: 's' }), false],
  ['ClusterRoleBinding to a group is cluster-wide', user('olga', ['ops']), res('list', 'nodes', ''), true],
  ['... for a single object too', user('olga', ['ops']), res('get', 'nodes', '', { name: 'n1' }), true],
  ['group members only', user('olga'), res('list', 'nodes', ''), false],
  ['nonResourceURL exact', user('prom'), url('get', '/metrics'), true],
  ['nonResourceURL * suffix', user('prom'), url('get', '/debug/pprof/heap'), true],
  ['nonResourceURL other path', user('prom'), url('get', '/logs'), false],
  ['nonResourceURL other verb', user('prom'), url('post', '/metrics'), false],
  ['every authenticated user may discover', user('nobody'), url('get', '/apis/apps/v1'), true],
  ['every authenticated user may read /version', user('nobody'), url('get', '/version'), true],
  ['every authenticated user may create selfsubjectaccessreviews', user('nobody'), { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }, true],
  ['but not subjectaccessreviews', user('nobody'), { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'subjectaccessreviews' }, false],
  ['unauthenticated may read /healthz only', { username: 'system:anonymous', groups: ['system:unauthenticated'] }, url('get', '/healthz'), true],
  ['unauthenticated may not discover', { username: 'system:anonymous', groups: ['system:unauthenticated'] }, url('get', '/api'), false],
  ['system:masters may do anything', user('x', ['system:masters']), res('delete', 'nodes', '', { name: 'n' }), true],
  ['cluster-admin covers everything', user('root'), url('delete', '/anything'), true],
  ['cluster-admin covers resources', user('root'), res('deletecollection', 'secrets', 'b'), true],
  ['edit via RoleBinding: create statefulsets', user('dana'), apps('create', 'statefulsets', 'b'), true],
  ['edit via RoleBinding: read secrets', user('dana'), res('get', 'secrets', 'b', { name: 's' }), true],
  ['edit does not grant roles', user('dana'), { verb: 'create', apiGroup: G, resource: 'roles', namespace: 'b' }, false],
  ['edit is only in its namespace', user('dana'), apps('create', 'statefulsets', 'a'), false],
  ['view cluster-wide: pods/log', user('vic', ['viewers']), res('get', 'pods/log', 'a', { name: 'p' }), true],
  ['view does not read secrets', user('vic', ['viewers']), res('get', 'secrets', 'a', { name: 's' }), false],
  ['view does not write', user('vic', ['viewers']), res('update', 'configmaps', 'a', { name: 'c' }), false],
];

test('RBAC decisions', () => {
  const { rbac } = setup();
  for (const [what, u, attrs, want] of CASES) {
    assert.strictEqual(rbac.authorize(u, attrs).allowed, want, `${what}: ${JSON.stringify(attrs)}`);
  }
});

test('a ClusterRole labelled aggregate-to-view extends view (and so edit and admin)', () => {
  const { store, rb, rbac } = setup();
  const vic = user('vic', ['viewers']);
  const zk = { verb: 'list', apiGroup: 'zookeeper.example.com', resource: 'zookeeperclusters', namespace: 'a' };
  assert.strictEqual(rbac.authorize(vic, zk).allowed, false);
  store.create(rb('clusterroles'), {
    metadata: { name: 'zk-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
    rules: [{ apiGroups: ['zookeeper.example.com'], resources: ['zookeeperclusters'], verbs: ['get', 'list', 'watch'] }],
  });
  assert.strictEqual(rbac.authorize(vic, zk).allowed, true);
  assert.strictEqual(rbac.authorize(user('dana'), { ...zk, namespace: 'b' }).allowed, true);
});

test('bindings and roles take effect and stop at once', () => {
  const { store, rb, rbac } = setup();
  const attrs = res('get', 'pods', 'a', { name: 'p' });
  assert.strictEqual(rbac.authorize(user('alice'), attrs).allowed, true);
  store.delete(rb('roles'), 'a', 'pod-reader');
  const d = rbac.authorize(user('alice'), attrs);
  assert.strictEqual(d.allowed, false);
  assert.strictEqual(d.reason, `RBAC: [role.${G} "pod-reader" not found]`);
});

test('the reasons and the 403 text are those of the real API server', () => {
  const { rbac } = setup();
  assert.strictEqual(rbac.authorize(user('alice'), res('get', 'pods', 'a', { name: 'p' })).reason,
    `RBAC: allowed by RoleBinding "alice-reads/a" of Role "pod-reader" to User "alice"`);
  assert.strictEqual(rbac.authorize(user('erin'), res('get', 'pods', 'b')).reason, `RBAC: [role.${G} "missing" not found]`);
  assert.strictEqual(forbiddenMessage(user('alice'), res('list', 'pods', 'b')),
    'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "b"');
  assert.strictEqual(forbiddenMessage(user('alice'), apps('get', 'statefulsets/scale', 'b', { name: 'zk' })),
    'statefulsets.apps "zk" is forbidden: User "alice" cannot get resource "statefulsets/scale" in API group "apps" in the namespace "b"');
  assert.strictEqual(forbiddenMessage(user('alice'), res('list', 'nodes', '')),
    'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
  assert.strictEqual(forbiddenMessage(user('alice'), url('get', '/metrics')), 'forbidden: User "alice" cannot get path "/metrics"');
});

test('rulesFor lists what a user may do in a namespace', () => {
  const { rbac } = setup();
  const rules = rbac.rulesFor(user('alice'), 'a');
  assert.ok(rules.resourceRules.some((r) => r.resources.includes('pods') && r.verbs.includes('list')));
  assert.ok(rules.nonResourceRules.some((r) => r.nonResourceURLs.includes('/version')));
  assert.strictEqual(rules.incomplete, false);
  assert.ok(!rbac.rulesFor(user('alice'), 'b').resourceRules.some((r) => r.resources.includes('pods')));
  assert.strictEqual(rbac.rulesFor(user('erin'), 'b').incomplete, true);
});

test('bootstrap creates the default roles once', () => {
  const { store, rb } = setup();
  const names = store.list(rb('clusterroles'), null).items.map((o) => o.metadata.name);
  for (const n of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user', 'system:public-info-viewer']) {
    assert.ok(names.includes(n), n);
  }
  const rv = store.currentResourceVersion();
  bootstrap(store);
  assert.strictEqual(store.currentResourceVersion(), rv);
  const crb = store.get(rb('clusterrolebindings'), '', 'cluster-admin');
  assert.deepStrictEqual(crb.subjects, [{ apiGroup: G, kind: 'Group', name: 'system:masters' }]);
});

// Escalation prevention of the RBAC storage: a role or binding may only grant
// what its writer holds, unless the writer has escalate (roles) or bind
// (bindings) on it.
test('writing a role that grants more than one holds is forbidden unless escalate', () => {
  const { store, rb, rbac } = setup();
  // op (in a) may manage roles and bindings in a, and read pods there.
  store.create(rb('roles'), { metadata: { name: 'rbac-manager', namespace: 'a' }, rules: [
    { apiGroups: [G], resources: ['roles', 'rolebindings'], verbs: ['create', 'update', 'get'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
  ] });
  store.create(rb('rolebindings'), { metadata: { name: 'op-manages', namespace: 'a' }, roleRef: { apiGroup: G, kind: 'Role', name: 'rbac-manager' }, subjects: [{ kind: 'ServiceAccount', name: 'op', namespace: 'a' }] });
  const op = sa('a', 'op');
  const req = { resource: 'roles', namespace: 'a', name: '' };
  const role = (name, rules) => ({ apiVersion: `${G}/v1`, kind: 'Role', metadata: { name, namespace: 'a' }, rules });

  rbac.checkWrite(op, req, role('ok', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]), null);
  assert.throws(() => rbac.checkWrite(op, req, role('secrets', [{ apiGroups: [''], resources: ['secrets', 'pods'], verbs: ['list', 'get'] }]), null), (e) => {
    assert.strictEqual(e.code, 403);
    assert.strictEqual(e.reason, 'Forbidden');
    assert.strictEqual(e.message, `roles.${G} "secrets" is forbidden: user "system:serviceaccount:a:op" `
      + '(groups=["system:serviceaccounts" "system:serviceaccounts:a" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
      + '{APIGroups:[""], Resources:["pods"], Verbs:["list"]}\n{APIGroups:[""], Resources:["secrets"], Verbs:["list" "get"]}');
    assert.deepStrictEqual(e.details, { name: 'secrets', group: G, kind: 'roles' });
    return true;
  });
  // Not held in another namespace either: op's Role is only in a.
  assert.throws(() => rbac.checkWrite(op, { ...req, namespace: 'b' }, { ...role('x', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]), metadata: { name: 'x', namespace: 'b' } }, null), { code: 403 });
  // Nothing but GC fields changes: allowed even for a role op could not write.
  const stored = store.create(rb('roles'), role('wide', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]));
  rbac.checkWrite(op, { ...req, name: 'wide' }, { ...stored, metadata: { ...stored.metadata, finalizers: ['example.com/keep'] } }, stored);
  assert.throws(() => rbac.checkWrite(op, { ...req, name: 'wide' }, { ...stored, metadata: { ...stored.metadata, labels: { a: 'b' } } }, stored), { code: 403 });

  // escalate on roles lifts the check (resourceNames honoured: a create has no name).
  store.create(rb('roles'), { metadata: { name: 'escalate-wide', namespace: 'a' }, rules: [{ apiGroups: [G], resources: ['roles'], resourceNames: ['wide'], verbs: ['escalate'] }] });
  store.create(rb('rolebindings'), { metadata: { name: 'op-escalates', namespace: 'a' }, roleRef: { apiGroup: G, kind: 'Role', name: 'escalate-wide' }, subjects: [{ kind: 'ServiceAccount', name: 'op', namespace: 'a' }] });
  rbac.checkWrite(op, { ...req, name: 'wide' }, { ...stored, metadata: { ...stored.metadata, labels: { a: 'b' } } }, stored);
  assert.throws(() => rbac.checkWrite(op, req, role('secrets', [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }]), null), { code: 403 });
  store.create(rb('roles'), { metadata: { name: 'escalate', namespace: 'a' }, rules: [{ apiGroups: [G], resources: ['roles'], verbs: ['escalate'] }] });
  store.create(rb('rolebindings'), { metadata: { name: 'op-escalates-all', namespace: 'a' }, roleRef: { apiGroup: G, kind: 'Role', name: 'escalate' }, subjects: [{ kind: 'ServiceAccount', name: 'op', namespace: 'a' }] });
  rbac.checkWrite(op, req, role('secrets', [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }]), null);
  // system:masters is exempt.
  rbac.checkWrite(user('root-ish', ['system:masters']), req, role('any', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]), null);
});

test('a ClusterRole: rules covered by cluster-wide grants only; aggregationRule needs everything', () => {
  const { rbac } = setup();
  const req = { resource: 'clusterroles', namespace: '', name: '' };
  const cr = (name, extra) => ({ metadata: { name }, ...extra });
  // olga (group ops) holds get/list/watch nodes cluster-wide.
  const olga = user('olga', ['ops']);
  rbac.checkWrite(olga, req, cr('nodes', { rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] }), null);
  assert.throws(() => rbac.checkWrite(olga, req, cr('nodes', { rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['delete'] }] }), null),
    { message: /^clusterroles\.rbac\.authorization\.k8s\.io "nodes" is forbidden: user "olga" \(groups=\["ops" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["delete"\]\}$/ });
  // A RoleBinding-granted ClusterRole is not cluster-wide: dana (edit in b) cannot.
  assert.throws(() => rbac.checkWrite(user('dana'), req, cr('pods', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }), null), { code: 403 });
  // Non-resource URLs and subresources covered as the comparator covers them.
  rbac.checkWrite(user('prom'), req, cr('m', { rules: [{ nonResourceURLs: ['/debug/pprof', '/metrics'], verbs: ['get'] }] }), null);
  rbac.checkWrite(user('root'), req, cr('agg', { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] } }), null);
  assert.throws(() => rbac.checkWrite(olga, req, cr('agg', { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] } }), null),
    { code: 403, message: `clusterroles.${G} "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule` });
});

test('a binding needs its role\'s permissions in its namespace, or bind on the role', () => {
  const { store, rb, rbac } = setup();
  const ref = (kind, name) => ({ apiGroup: G, kind, name });
  const binding = (name, namespace, roleRef) => ({ metadata: { name, namespace }, roleRef, subjects: [{ kind: 'User', name: 'someone' }] });
  const req = (namespace) => ({ resource: 'rolebindings', namespace, name: '' });
  // alice holds get/list pods in a (her Role pod-reader): she may hand it on there.
  rbac.checkWrite(user('alice'), req('a'), binding('hand-on', 'a', ref('Role', 'pod-reader')), null);
  assert.throws(() => rbac.checkWrite(user('alice'), req('a'), binding('x', 'a', ref('Role', 'logs'))), (e) => {
    assert.strictEqual(e.code, 403);
    assert.match(e.message, /^rolebindings\.rbac\.authorization\.k8s\.io "x" is forbidden: user "alice" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["pods\/log"\], Verbs:\["get"\]\}$/);
    return true;
  });
  // A ClusterRole bound in a namespace needs its rules in that namespace only.
  rbac.checkWrite(user('dana'), req('b'), binding('view-b', 'b', ref('ClusterRole', 'view')), null);
  assert.throws(() => rbac.checkWrite(user('dana'), req('a'), binding('view-a', 'a', ref('ClusterRole', 'view')), null), { code: 403 });
  assert.throws(() => rbac.checkWrite(user('dana'), { resource: 'clusterrolebindings', namespace: '', name: '' },
    { metadata: { name: 'view-all' }, roleRef: ref('ClusterRole', 'view'), subjects: [] }, null), { code: 403 });
  // A missing role is the registry's 404.
  assert.throws(() => rbac.checkWrite(user('alice'), req('a'), binding('y', 'a', ref('Role', 'nope')), null),
    { code: 404, message: `roles.${G} "nope" not found` });
  // bind on that very role (resourceNames honoured) lifts the check.
  store.create(rb('roles'), { metadata: { name: 'bind-logs', namespace: 'a' }, rules: [{ apiGroups: [G], resources: ['roles'], resourceNames: ['logs'], verbs: ['bind'] }] });
  store.create(rb('rolebindings'), { metadata: { name: 'alice-binds', namespace: 'a' }, roleRef: ref('Role', 'bind-logs'), subjects: [{ kind: 'User', name: 'alice' }] });
  rbac.checkWrite(user('alice'), req('a'), binding('x', 'a', ref('Role', 'logs')), null);
  assert.throws(() => rbac.checkWrite(user('alice'), req('a'), binding('z', 'a', ref('Role', 'one-cm')), null), { code: 403 });
});
