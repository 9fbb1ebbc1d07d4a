'use strict';
// Helpers the workload controllers share: pod state as the real controllers
// judge it (k8s.io/kubernetes/pkg/api/v1/pod), owner references, template
// hashes and int-or-percent values.

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

// JSON with sorted keys, so key order never changes a hash or a comparison.
function canonical(value) {
  return JSON.stringify(value, (k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((key) => [key, v[key]]));
    }
    return v;
  });
}

function deepEqual(a, b) { return canonical(a) === canonical(b); }

function fnv32a(str) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(str, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// k8s.io/apimachinery/pkg/util/rand.SafeEncodeString of the decimal hash, as
// pod-template-hash and controller revision names are made.
function computeHash(value, collisionCount) {
  let s = canonical(value);
  if (collisionCount) s += `#${collisionCount}`;
  return String(fnv32a(s)).split('').map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
}

function condition(obj, type) {
  return ((obj.status && obj.status.conditions) || []).find((c) => c.type === type);
}

function isPodReady(pod) {
  const c = condition(pod, 'Ready');
  return !!c && c.status === 'True';
}

function podPhase(pod) { return (pod.status && pod.status.phase) || ''; }

function isTerminal(pod) { return ['Succeeded', 'Failed'].includes(podPhase(pod)); }

function isTerminating(obj) { return !!obj.metadata.deletionTimestamp; }

// Pods a ReplicaSet or Job counts as its own running work.
function isActive(pod) { return !isTerminal(pod) && !isTerminating(pod); }

function isRunningAndReady(pod) { return podPhase(pod) === 'Running' && isPodReady(pod); }

// Ready for at least minReadySeconds (podutil.IsPodAvailable).
function isPodAvailable(pod, minReadySeconds, nowMs) {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const c = condition(pod, 'Ready');
  const since = Date.parse(c.lastTransitionTime || '');
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= nowMs;
}

// Milliseconds until a ready pod becomes available, or null.
function msUntilAvailable(pod, minReadySeconds, nowMs) {
  if (!minReadySeconds || !isPodReady(pod)) return null;
  const since = Date.parse(condition(pod, 'Ready').lastTransitionTime || '');
  if (Number.isNaN(since)) return null;
  const left = since + minReadySeconds * 1000 - nowMs;
  return left > 0 ? left : null;
}

function controllerRef(obj) {
  return (obj.metadata.ownerReferences || []).find((r) => r.controller) || null;
}

function isControlledBy(obj, owner) {
  const ref = controllerRef(obj);
  return !!ref && ref.uid === owner.metadata.uid;
}

function newControllerRef(owner) {
  return {
    apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid,
    controller: true, blockOwnerDeletion: true,
  };
}

// controller.GetPodFromTemplate, plus the node binding (one node: the
// scheduler's choice is known in advance).
function podFromTemplate(template, owner, nodeName, nowISO) {
  const t = structuredClone(template || {});
  const tm = t.metadata || {};
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: owner.metadata.namespace,
      labels: { ...(tm.labels || {}) },
      ownerReferences: [newControllerRef(owner)],
    },
    spec: { ...(t.spec || {}) },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowISO }],
    },
  };
  if (tm.annotations) pod.metadata.annotations = { ...tm.annotations };
  if (tm.finalizers) pod.metadata.finalizers = [...tm.finalizers];
  if (nodeName && !pod.spec.nodeName) pod.spec.nodeName = nodeName;
  return pod;
}

// intstr.GetScaledValueFromIntOrPercent
function scaledValue(v, total, roundUp) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) {
    if (/^\d+$/.test(String(v))) return Number(v);
    throw new Error(`invalid value for IntOrString: invalid value "${v}"`);
  }
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

function setCondition(conditions, cond, nowISO) {
  const list = [...(conditions || [])];
  const i = list.findIndex((c) => c.type === cond.type);
  const next = { ...cond };
  if (i >= 0) {
    const old = list[i];
    next.lastTransitionTime = old.status === cond.status ? old.lastTransitionTime : nowISO;
    if ('lastUpdateTime' in cond || 'lastUpdateTime' in old) {
      const same = old.status === cond.status && old.reason === cond.reason && old.message === cond.message;
      next.lastUpdateTime = same ? old.lastUpdateTime : nowISO;
    }
    if ('lastProbeTime' in old && !('lastProbeTime' in next)) next.lastProbeTime = old.lastProbeTime;
    list[i] = next;
  } else {
    next.lastTransitionTime = nowISO;
    if ('lastUpdateTime' in cond) next.lastUpdateTime = nowISO;
    list.push(next);
  }
  return list;
}

function labelsMatch(selectorLabels, labels) {
  return Object.entries(selectorLabels || {}).every(([k, v]) => (labels || {})[k] === v);
}

module.exports = {
  canonical, deepEqual, computeHash, condition, isPodReady, podPhase, isTerminal, isTerminating, isActive,
  isRunningAndReady, isPodAvailable, msUntilAvailable, controllerRef, isControlledBy, newControllerRef,
  podFromTemplate, scaledValue, setCondition, labelsMatch,
};
