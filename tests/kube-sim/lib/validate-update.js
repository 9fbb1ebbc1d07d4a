'use strict';
// What an update may not change, per kind, with the real API server's
// messages. Both objects are already defaulted, so defaults never count as a
// change.

const u = require('./validate-util');
const { cause, same } = u;

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];
const STS_MESSAGE = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";
const POD_MESSAGE = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';
const PVC_MESSAGE = 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';

const without = (o, keys) => Object.fromEntries(Object.entries(o || {}).filter(([k]) => !keys.includes(k)));

function immutable(causes, field, now, before) {
  if (!same(now, before)) causes.push(cause.invalid(field, now === undefined ? null : now, 'field is immutable'));
}

function statefulSet(causes, obj, old) {
  const spec = obj.spec || {};
  const prev = old.spec || {};
  if (!same(without(spec, STS_MUTABLE), without(prev, STS_MUTABLE))) causes.push(cause.forbidden('spec', STS_MESSAGE));
}

function pod(causes, obj, old) {
  const spec = structuredClone(obj.spec || {});
  const prev = structuredClone(old.spec || {});
  // The fields an update may change are copied over before comparing.
  for (const list of ['containers', 'initContainers']) {
    (spec[list] || []).forEach((c, i) => {
      const p = (prev[list] || [])[i];
      if (p && c) p.image = c.image;
    });
  }
  prev.activeDeadlineSeconds = spec.activeDeadlineSeconds;
  const oldTolerations = (old.spec && old.spec.tolerations) || [];
  const newTolerations = spec.tolerations || [];
  const kept = oldTolerations.every((t) => newTolerations.some((n) => same(n, t)));
  if (kept) prev.tolerations = spec.tolerations;
  if (prev.terminationGracePeriodSeconds < 0 && spec.terminationGracePeriodSeconds === 1) prev.terminationGracePeriodSeconds = 1;
  // spec.nodeName is set once, through the binding (or by the scheduler's stand-in).
  if (!prev.nodeName && spec.nodeName) prev.nodeName = spec.nodeName;
  if (!same(spec, prev)) causes.push(cause.forbidden('spec', POD_MESSAGE));
  if (!kept) causes.push(cause.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
}

function pvc(causes, obj, old) {
  const spec = obj.spec || {};
  const prev = old.spec || {};
  const strip = (s) => {
    const c = structuredClone(s);
    if (c.resources) delete c.resources.requests;
    delete c.volumeAttributesClassName;
    // A claim is bound by filling volumeName once.
    if (!prev.volumeName) delete c.volumeName;
    return c;
  };
  if (!same(strip(spec), strip(prev))) causes.push(cause.forbidden('spec', PVC_MESSAGE));
  const now = spec.resources && spec.resources.requests && spec.resources.requests.storage;
  const before = prev.resources && prev.resources.requests && prev.resources.requests.storage;
  if (now !== undefined && before !== undefined && u.parseQuantity(now) < u.parseQuantity(before)) {
    causes.push(cause.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  }
}

function service(causes, obj, old) {
  const spec = obj.spec || {};
  const prev = old.spec || {};
  if (prev.clusterIP && prev.clusterIP !== spec.clusterIP && spec.type !== 'ExternalName') {
    causes.push(cause.invalid('spec.clusterIPs[0]', [spec.clusterIP || ''], 'may not change once set'));
    causes.push(cause.invalid('spec.clusterIP', spec.clusterIP || '', 'field is immutable'));
  }
}

function configLike(causes, obj, old) {
  if (old.immutable === true) {
    if (!same(obj.data, old.data)) causes.push(cause.forbidden('data', 'field is immutable when `immutable` is set'));
    if (!same(obj.binaryData, old.binaryData)) causes.push(cause.forbidden('binaryData', 'field is immutable when `immutable` is set'));
    if (obj.immutable !== true) causes.push(cause.forbidden('immutable', 'field is immutable when `immutable` is set'));
  }
  if (obj.kind === 'Secret' && (obj.type || 'Opaque') !== (old.type || 'Opaque')) {
    causes.push(cause.invalid('type', obj.type, 'field is immutable'));
  }
}

// Causes for updating `old` to `obj` (both of kind res.kind).
function validateUpdate(res, obj, old) {
  const causes = [];
  if (!old) return causes;
  const spec = obj.spec || {};
  const prev = old.spec || {};
  switch (res.kind) {
    case 'StatefulSet': statefulSet(causes, obj, old); break;
    case 'Deployment':
    case 'ReplicaSet':
      immutable(causes, 'spec.selector', spec.selector, prev.selector);
      break;
    case 'Job':
      immutable(causes, 'spec.selector', spec.selector, prev.selector);
      immutable(causes, 'spec.completions', spec.completions, prev.completions);
      immutable(causes, 'spec.completionMode', spec.completionMode, prev.completionMode);
      break;
    case 'Pod': pod(causes, obj, old); break;
    case 'PersistentVolumeClaim': pvc(causes, obj, old); break;
    case 'Service': service(causes, obj, old); break;
    case 'ConfigMap':
    case 'Secret': configLike(causes, obj, old); break;
    case 'PodDisruptionBudget': break; // mutable since policy/v1
    case 'CustomResourceDefinition':
      immutable(causes, 'spec.scope', spec.scope, prev.scope);
      if (spec.names && prev.names && spec.names.plural !== prev.names.plural) {
        causes.push(cause.invalid('spec.names.plural', spec.names.plural, 'field is immutable'));
      }
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      if (!same(obj.roleRef, old.roleRef)) causes.push(cause.invalid('roleRef', obj.roleRef, 'cannot change roleRef'));
      break;
    default:
  }
  return causes;
}

module.exports = { validateUpdate, STS_MESSAGE, POD_MESSAGE, PVC_MESSAGE };
