'use strict';
// RBAC as the real authorizer evaluates it: ClusterRoleBindings grant
// cluster-wide, RoleBindings (to a Role or a ClusterRole) only in their
// namespace; a request is allowed when any rule of any bound role covers it.
// Also the default ClusterRoles and bindings a new cluster has, and the RBAC
// storage's escalation prevention (writing a role or binding that grants what
// the writer does not hold).

const { labelSelectorFromObject } = require('./selectors');
const { ApiError, notFound } = require('./errors');

const RBAC = 'rbac.authorization.k8s.io';
const MASTERS = 'system:masters';
const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';

// ---- rule matching (k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go)

const has = (list, v) => Array.isArray(list) && (list.includes('*') || list.includes(v));

function resourceMatches(rule, resource, subresource) {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources || []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

function nonResourceURLMatches(rule, path) {
  for (const u of rule.nonResourceURLs || []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

// attrs: {verb, apiGroup, resource, subresource, namespace, name, path}
function ruleAllows(rule, attrs) {
  if (!has(rule.verbs, attrs.verb)) return false;
  if (!attrs.resource) return nonResourceURLMatches(rule, attrs.path || '');
  if (!has(rule.apiGroups, attrs.apiGroup || '')) return false;
  if (!resourceMatches(rule, attrs.resource, attrs.subresource)) return false;
  const names = rule.resourceNames || [];
  return names.length === 0 || names.includes(attrs.name);
}

function subjectApplies(subject, user, bindingNamespace) {
  switch (subject.kind) {
    case 'User': return subject.name === user.username;
    case 'Group': return (user.groups || []).includes(subject.name);
    case 'ServiceAccount': {
      // An unqualified ServiceAccount in a RoleBinding means one of the binding's namespace.
      const ns = subject.namespace || bindingNamespace;
      return !!ns && user.username === `system:serviceaccount:${ns}:${subject.name}`;
    }
    default: return false;
  }
}

// ---- the default policy of a new cluster (plugin/pkg/auth/authorizer/rbac/bootstrappolicy)

const RW = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const RO = ['get', 'list', 'watch'];

const DISCOVERY_RULES = [{
  verbs: ['get'],
  nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'],
}];
const BASIC_USER_RULES = [
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
];
const PUBLIC_INFO_RULES = [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] }];

const VIEW_RULES = [
  { apiGroups: [''], resources: ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status'], verbs: RO },
  { apiGroups: [''], resources: ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'], verbs: RO },
  { apiGroups: [''], resources: ['namespaces'], verbs: RO },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: RO },
  { apiGroups: ['apps'], resources: ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'], verbs: RO },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], verbs: RO },
  { apiGroups: ['batch'], resources: ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], verbs: RO },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets', 'poddisruptionbudgets/status'], verbs: RO },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingresses/status', 'networkpolicies'], verbs: RO },
];
const EDIT_RULES = [
  { apiGroups: [''], resources: ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], verbs: RO },
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
  { apiGroups: [''], resources: ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], verbs: RW },
  { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
  { apiGroups: [''], resources: ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'], verbs: RW },
  { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
  { apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'], verbs: RW },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: RW },
  { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: RW },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: RW },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: RW },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...RO, ...RW] },
];
const ADMIN_RULES = [
  { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
  { apiGroups: [RBAC], resources: ['rolebindings', 'roles'], verbs: [...RO, ...RW] },
];

const aggLabel = (to) => `${RBAC}/aggregate-to-${to}`;
const BOOTSTRAP_META = {
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
};

function clusterRole(name, rules, { labels = {}, aggregateFrom } = {}) {
  const role = {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRole',
    metadata: { name, labels: { ...BOOTSTRAP_META.labels, ...labels }, annotations: { ...BOOTSTRAP_META.annotations } },
    rules,
  };
  if (aggregateFrom) role.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [aggLabel(aggregateFrom)]: 'true' } }] };
  return role;
}

function clusterRoleBinding(name, role, subjects) {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAP_META.labels }, annotations: { ...BOOTSTRAP_META.annotations } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: subjects.map((g) => ({ apiGroup: RBAC, kind: 'Group', name: g })),
  };
}

const BOOTSTRAP_ROLES = [
  clusterRole('cluster-admin', [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ]),
  clusterRole('system:discovery', DISCOVERY_RULES),
  clusterRole('system:basic-user', BASIC_USER_RULES),
  clusterRole('system:public-info-viewer', PUBLIC_INFO_RULES),
  // admin/edit/view are filled from these by aggregation, as in a real cluster,
  // so that a user's ClusterRole labelled aggregate-to-edit extends "edit".
  clusterRole('system:aggregate-to-admin', ADMIN_RULES, { labels: { [aggLabel('admin')]: 'true' } }),
  clusterRole('system:aggregate-to-edit', EDIT_RULES, { labels: { [aggLabel('admin')]: 'true', [aggLabel('edit')]: 'true' } }),
  clusterRole('system:aggregate-to-view', VIEW_RULES,
    { labels: { [aggLabel('admin')]: 'true', [aggLabel('edit')]: 'true', [aggLabel('view')]: 'true' } }),
  clusterRole('admin', [...ADMIN_RULES, ...EDIT_RULES, ...VIEW_RULES], { aggregateFrom: 'admin' }),
  clusterRole('edit', [...EDIT_RULES, ...VIEW_RULES], { aggregateFrom: 'edit', labels: { [aggLabel('admin')]: 'true' } }),
  clusterRole('view', VIEW_RULES, { aggregateFrom: 'view', labels: { [aggLabel('admin')]: 'true', [aggLabel('edit')]: 'true' } }),
];
const BOOTSTRAP_BINDINGS = [
  clusterRoleBinding('cluster-admin', 'cluster-admin', [MASTERS]),
  clusterRoleBinding('system:discovery', 'system:discovery', [AUTHENTICATED]),
  clusterRoleBinding('system:basic-user', 'system:basic-user', [AUTHENTICATED]),
  clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [AUTHENTICATED, UNAUTHENTICATED]),
];

// Creates the default ClusterRoles and ClusterRoleBindings that are missing.
function bootstrap(store) {
  const reg = store.registry;
  const roles = reg.byPlural(RBAC, 'v1', 'clusterroles');
  const bindings = reg.byPlural(RBAC, 'v1', 'clusterrolebindings');
  for (const r of BOOTSTRAP_ROLES) if (!store.tryGet(roles, '', r.metadata.name)) store.create(roles, r);
  for (const b of BOOTSTRAP_BINDINGS) if (!store.tryGet(bindings, '', b.metadata.name)) store.create(bindings, b);
}

// ---- the authorizer

// As the real authorizer names the grant: `RoleBinding "b/ns" of Role "r" to User "u"`.
function describeBinding(b, user) {
  const ns = b.metadata.namespace || '';
  const subject = (b.subjects || []).find((s) => subjectApplies(s, user, ns)) || {};
  const who = subject.kind === 'ServiceAccount' ? `${subject.name}/${subject.namespace || ns}` : subject.name;
  const name = b.kind === 'RoleBinding' ? `${b.metadata.name}/${ns}` : b.metadata.name;
  return `${b.kind} "${name}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${subject.kind} "${who}"`;
}

class Rbac {
  constructor(store) {
    this.store = store;
    const reg = store.registry;
    this.res = {
      roles: reg.byPlural(RBAC, 'v1', 'roles'),
      roleBindings: reg.byPlural(RBAC, 'v1', 'rolebindings'),
      clusterRoles: reg.byPlural(RBAC, 'v1', 'clusterroles'),
      clusterRoleBindings: reg.byPlural(RBAC, 'v1', 'clusterrolebindings'),
    };
  }

  // The rules of a ClusterRole, with aggregation resolved now (the real
  // cluster's aggregation controller writes them into the object; computing
  // them here also works while nothing runs that controller).
  clusterRoleRules(role, seen = new Set()) {
    if (seen.has(role.metadata.name)) return [];
    seen.add(role.metadata.name);
    const selectors = (role.aggregationRule && role.aggregationRule.clusterRoleSelectors) || [];
    if (!selectors.length) return role.rules || [];
    const matchers = selectors.map(labelSelectorFromObject);
    const rules = [];
    for (const other of this.store.list(this.res.clusterRoles, null).items) {
      if (other.metadata.name === role.metadata.name) continue;
      if (matchers.some((m) => m(other.metadata.labels || {}))) rules.push(...this.clusterRoleRules(other, seen));
    }
    return rules;
  }

  // The rules of a binding's roleRef, or an error text as the real authorizer words it.
  refRules(binding) {
    const ref = binding.roleRef || {};
    if (ref.kind === 'ClusterRole') {
      const role = this.store.tryGet(this.res.clusterRoles, '', ref.name);
      if (!role) return { error: `clusterrole.${RBAC} "${ref.name}" not found` };
      return { rules: this.clusterRoleRules(role) };
    }
    if (ref.kind === 'Role') {
      const role = this.store.tryGet(this.res.roles, binding.metadata.namespace, ref.name);
      if (!role) return { error: `role.${RBAC} "${ref.name}" not found` };
      return { rules: role.rules || [] };
    }
    return { error: `unsupported role reference kind: "${ref.kind}"` };
  }

  // visit(rule, binding) returns true to stop; -> errors[]
  visitRules(user, namespace, visit) {
    const errs = [];
    const bindings = this.store.list(this.res.clusterRoleBindings, null).items
      .map((b) => ({ b, ns: '' }));
    if (namespace) {
      for (const b of this.store.list(this.res.roleBindings, namespace).items) bindings.push({ b, ns: namespace });
    }
    for (const { b, ns } of bindings) {
      if (!(b.subjects || []).some((s) => subjectApplies(s, user, ns))) continue;
      const { rules, error } = this.refRules(b);
      if (error) { errs.push(error); continue; }
      for (const rule of rules) if (visit(rule, b)) return { stopped: true, errs };
    }
    return { stopped: false, errs };
  }

  // -> {allowed, reason}; reason is the RBAC part of a denial ("" or "RBAC: ...").
  authorize(user, attrs) {
    if ((user.groups || []).includes(MASTERS)) return { allowed: true, reason: '' };
    // The default policy holds even if someone deletes its objects.
    const groups = user.groups || [];
    const builtin = [];
    if (groups.includes(AUTHENTICATED)) builtin.push(...DISCOVERY_RULES, ...BASIC_USER_RULES, ...PUBLIC_INFO_RULES);
    if (groups.includes(UNAUTHENTICATED)) builtin.push(...PUBLIC_INFO_RULES);
    if (builtin.some((r) => ruleAllows(r, attrs))) return { allowed: true, reason: '' };
    let by = null;
    const { errs } = this.visitRules(user, attrs.resource ? attrs.namespace : '', (rule, binding) => {
      if (ruleAllows(rule, attrs)) { by = binding; return true; }
      return false;
    });
    if (by) return { allowed: true, reason: `RBAC: allowed by ${describeBinding(by, user)}` };
    return { allowed: false, reason: errs.length ? `RBAC: [${errs.join(', ')}]` : '' };
  }

  // Every rule that applies to user in namespace (cluster-wide ones only for
  // ''), as the rule resolver's RulesFor. -> {rules, errs}
  rulesOf(user, namespace) {
    const rules = [];
    const groups = user.groups || [];
    if (groups.includes(AUTHENTICATED)) rules.push(...DISCOVERY_RULES, ...BASIC_USER_RULES, ...PUBLIC_INFO_RULES);
    if (groups.includes(UNAUTHENTICATED)) rules.push(...PUBLIC_INFO_RULES);
    const { errs } = this.visitRules(user, namespace, (rule) => { rules.push(rule); return false; });
    return { rules, errs };
  }

  // ConfirmNoEscalation: null when user holds every permission of rules in
  // namespace, else the real error text naming the missing ones.
  escalation(user, namespace, rules) {
    const { rules: owned, errs } = this.rulesOf(user, namespace);
    const missing = uncovered(owned, rules);
    if (!missing.length) return null;
    const described = [...new Set(compactRules(missing).map(compactString))].sort();
    let msg = `user ${goQuote(user.username)} (groups=${goList(user.groups || [])}) is attempting to grant RBAC permissions not currently held:\n${described.join('\n')}`;
    if (errs.length) msg += `; resolution errors: [${errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`}]`;
    return msg;
  }

  // The rules a binding in namespace would grant (GetRoleReferenceRules);
  // a missing role is the registry's 404.
  roleRefRules(ref, namespace) {
    if (ref.kind === 'ClusterRole') {
      const role = this.store.tryGet(this.res.clusterRoles, '', ref.name);
      if (!role) throw notFound(this.res.clusterRoles, ref.name);
      return this.clusterRoleRules(role);
    }
    if (ref.kind === 'Role') {
      const role = this.store.tryGet(this.res.roles, namespace, ref.name);
      if (!role) throw notFound(this.res.roles, ref.name);
      return role.rules || [];
    }
    throw new ApiError(400, 'BadRequest', `unsupported role reference kind: "${ref.kind}"`);
  }

  // Escalation prevention of the RBAC storage (pkg/registry/rbac/*/policybased):
  // throws the 403 (or the 404 of a missing role) unless user may write obj.
  // req: {resource: roles|clusterroles|rolebindings|clusterrolebindings,
  // namespace, name (of the request URL; '' for a create)}; old: the stored
  // object of an update.
  checkWrite(user, req, obj, old) {
    if ((user.groups || []).includes(MASTERS)) return;
    if (old && onlyGCFieldsChange(obj, old)) return;
    const name = (obj.metadata && obj.metadata.name) || '';
    const deny = (text) => forbiddenWrite(req.resource, name, text);
    if (req.resource === 'roles' || req.resource === 'clusterroles') {
      const escalate = { verb: 'escalate', apiGroup: RBAC, resource: req.resource, namespace: req.namespace, name: req.name };
      if (this.authorize(user, escalate).allowed) return;
      const missing = this.escalation(user, req.namespace, obj.rules || []);
      if (missing) throw deny(missing);
      if (req.resource === 'clusterroles' && (obj.aggregationRule || (old && old.aggregationRule))
          && this.escalation(user, req.namespace, FULL_AUTHORITY)) {
        throw deny('must have cluster-admin privileges to use the aggregationRule');
      }
      return;
    }
    if (req.resource === 'rolebindings' || req.resource === 'clusterrolebindings') {
      const ref = obj.roleRef || {};
      const refResource = { ClusterRole: 'clusterroles', Role: 'roles' }[ref.kind];
      // bind is checked in the binding's namespace ('' for a ClusterRoleBinding).
      const bind = { verb: 'bind', apiGroup: ref.apiGroup || '', resource: refResource, namespace: req.namespace, name: ref.name };
      if (refResource && this.authorize(user, bind).allowed) return;
      const missing = this.escalation(user, req.namespace, this.roleRefRules(ref, req.namespace));
      if (missing) throw deny(missing);
    }
  }

  // For SelfSubjectRulesReview: -> {resourceRules, nonResourceRules, incomplete, evaluationError}
  rulesFor(user, namespace) {
    const all = [];
    if ((user.groups || []).includes(AUTHENTICATED)) all.push(...DISCOVERY_RULES, ...BASIC_USER_RULES, ...PUBLIC_INFO_RULES);
    const { errs } = this.visitRules(user, namespace, (rule) => { all.push(rule); return false; });
    const resourceRules = [];
    const nonResourceRules = [];
    for (const r of all) {
      if (r.nonResourceURLs && r.nonResourceURLs.length) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
      else {
        const rr = { verbs: r.verbs, apiGroups: r.apiGroups || [], resources: r.resources || [] };
        if (r.resourceNames && r.resourceNames.length) rr.resourceNames = r.resourceNames;
        resourceRules.push(rr);
      }
    }
    const out = { resourceRules, nonResourceRules, incomplete: errs.length > 0 };
    if (errs.length) out.evaluationError = errs.join(', ');
    return out;
  }
}

// ---- escalation checks (pkg/registry/rbac/validation: policy_comparator.go,
// policy_compact.go; pkg/apis/rbac/v1/evaluation_helpers.go CompactString)

const FULL_AUTHORITY = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

// A rule split into rules of one verb, one group, one resource and one resource name.
function breakdownRule(rule) {
  const out = [];
  for (const group of rule.apiGroups || []) {
    for (const resource of rule.resources || []) {
      for (const verb of rule.verbs || []) {
        const names = rule.resourceNames || [];
        if (names.length) for (const n of names) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [n] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs || []) {
    for (const verb of rule.verbs || []) out.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return out;
}

const hasAll = (set, wanted) => (wanted || []).every((w) => (set || []).includes(w));

function resourcesCover(owner, wanted) {
  if ((owner || []).includes('*') || hasAll(owner, wanted)) return true;
  return (wanted || []).every((r) => (owner || []).includes(r)
    || (r.includes('/') && (owner || []).includes(`*/${r.slice(r.indexOf('/') + 1)}`)));
}

function nonResourceURLsCover(owner, wanted) {
  return (wanted || []).every((path) => (owner || []).some((o) => o === path
    || (o.endsWith('*') && path.startsWith(o.replace(/\*+$/, '')))));
}

// Does owner (a rule as held) cover sub (one broken-down rule)?
function ruleCovers(owner, sub) {
  const verbs = (owner.verbs || []).includes('*') || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups || []).includes('*') || hasAll(owner.apiGroups, sub.apiGroups);
  const ownerNames = owner.resourceNames || [];
  const names = !(sub.resourceNames || []).length ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, sub.resourceNames);
  return verbs && groups && resourcesCover(owner.resources, sub.resources)
    && nonResourceURLsCover(owner.nonResourceURLs, sub.nonResourceURLs) && names;
}

// The broken-down rules of wanted that no rule of owned covers.
function uncovered(owned, wanted) {
  return wanted.flatMap(breakdownRule).filter((sub) => !owned.some((o) => ruleCovers(o, sub)));
}

// Rules of one group and resource (and at most one name) merged into one with all their verbs.
function compactRules(rules) {
  const out = [];
  const simple = new Map();
  for (const r of rules) {
    const isSimple = (r.apiGroups || []).length === 1 && (r.resources || []).length === 1
      && (r.resourceNames || []).length <= 1 && !(r.nonResourceURLs || []).length;
    if (!isSimple) { out.push(r); continue; }
    const key = JSON.stringify([r.apiGroups[0], r.resources[0], (r.resourceNames || [])[0]]);
    const seen = simple.get(key);
    if (seen) for (const v of r.verbs || []) { if (!seen.verbs.includes(v)) seen.verbs.push(v); }
    else simple.set(key, { ...r, verbs: [...(r.verbs || [])] });
  }
  return [...out, ...simple.values()];
}

const goQuote = (s) => JSON.stringify(String(s));
const goList = (list) => `[${list.map(goQuote).join(' ')}]`;

// `{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}`
function compactString(r) {
  const parts = [];
  if ((r.apiGroups || []).length) parts.push(`APIGroups:${goList(r.apiGroups)}`);
  if ((r.resources || []).length) parts.push(`Resources:${goList(r.resources)}`);
  if ((r.nonResourceURLs || []).length) parts.push(`NonResourceURLs:${goList(r.nonResourceURLs)}`);
  if ((r.resourceNames || []).length) parts.push(`ResourceNames:${goList(r.resourceNames)}`);
  if ((r.verbs || []).length) parts.push(`Verbs:${goList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

// IsOnlyMutatingGCFields: an update that changes nothing but ownerReferences
// and finalizers (and what the server sets itself) grants nothing new.
function onlyGCFieldsChange(obj, old) {
  const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]])) : x));
  const strip = (o) => {
    const { apiVersion, kind, metadata = {}, ...rest } = o;
    const { ownerReferences, finalizers, managedFields, selfLink, resourceVersion, uid, creationTimestamp, generation, ...meta } = metadata;
    return canon({ rest, meta });
  };
  return strip(obj) === strip(old);
}

// NewForbidden(rbac.authorization.k8s.io/<resource>, name, err).
function forbiddenWrite(resource, name, text) {
  const what = name ? `${resource}.${RBAC} ${goQuote(name)}` : `${resource}.${RBAC}`;
  return new ApiError(403, 'Forbidden', `${what} is forbidden: ${text}`, { name, group: RBAC, kind: resource });
}

// The real 403 text: `pods "x" is forbidden: User "u" cannot get resource
// "pods" in API group "" in the namespace "ns"[: reason]`.
function forbiddenTail(user, attrs) {
  const who = user ? user.username : '';
  if (!attrs.resource) return `User "${who}" cannot ${attrs.verb} path "${attrs.path}"`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const group = attrs.apiGroup || '';
  if (attrs.namespace) return `User "${who}" cannot ${attrs.verb} resource "${resource}" in API group "${group}" in the namespace "${attrs.namespace}"`;
  return `User "${who}" cannot ${attrs.verb} resource "${resource}" in API group "${group}" at the cluster scope`;
}

function forbiddenMessage(user, attrs, reason = '') {
  const tail = forbiddenTail(user, attrs) + (reason ? `: ${reason}` : '');
  if (!attrs.resource) return `forbidden: ${tail}`;
  const qualified = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  return attrs.name ? `${qualified} "${attrs.name}" is forbidden: ${tail}` : `${qualified} is forbidden: ${tail}`;
}

// -> a 403 ApiError with the real message and details.
function forbiddenError(user, attrs, reason = '') {
  const details = {};
  if (attrs.name) details.name = attrs.name;
  if (attrs.apiGroup) details.group = attrs.apiGroup;
  if (attrs.resource) details.kind = attrs.resource;
  return new ApiError(403, 'Forbidden', forbiddenMessage(user, attrs, reason), details);
}

module.exports = {
  Rbac, bootstrap, ruleAllows, subjectApplies, forbiddenTail, forbiddenMessage, forbiddenError,
  breakdownRule, ruleCovers, uncovered, compactRules, compactString,
  BOOTSTRAP_ROLES, BOOTSTRAP_BINDINGS, MASTERS, AUTHENTICATED, UNAUTHENTICATED,
};
