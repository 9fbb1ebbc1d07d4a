'use strict';
// StatefulSet identity, storage and revision helpers, after
// pkg/controller/statefulset/stateful_set_utils.go.

const { computeHash, podFromTemplate, newControllerRef, deepEqual } = require('./util');

const REVISION_LABEL = 'controller-revision-hash';
const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
const HASH_LABEL = 'controller.kubernetes.io/hash';

function startOrdinal(set) { return (set.spec.ordinals && set.spec.ordinals.start) || 0; }

function replicaCount(set) { return set.spec.replicas ?? 1; }

// The ordinal of a pod of this set from its name, or -1.
function ordinalOf(set, pod) {
  const m = /^(.*)-(\d+)$/.exec(pod.metadata.name);
  if (!m || m[1] !== set.metadata.name) return -1;
  return Number(m[2]);
}

function inRange(set, pod) {
  const o = ordinalOf(set, pod);
  const start = startOrdinal(set);
  return o >= start && o < start + replicaCount(set);
}

function podName(set, ordinal) { return `${set.metadata.name}-${ordinal}`; }

function claimName(template, set, ordinal) { return `${template.metadata.name}-${set.metadata.name}-${ordinal}`; }

function strategy(set) {
  const s = set.spec.updateStrategy || {};
  const type = s.type || 'RollingUpdate';
  const partition = (s.rollingUpdate && s.rollingUpdate.partition) || 0;
  return { type, partition };
}

function retentionPolicy(set) {
  const p = set.spec.persistentVolumeClaimRetentionPolicy || {};
  return { whenDeleted: p.whenDeleted || 'Retain', whenScaled: p.whenScaled || 'Retain' };
}

// What the real controller stores in a ControllerRevision: a strategic merge
// patch that replaces the pod template.
function revisionData(set) {
  return { spec: { template: { ...structuredClone(set.spec.template || {}), $patch: 'replace' } } };
}

function applyRevision(set, revision) {
  const out = structuredClone(set);
  const tmpl = structuredClone(revision.data.spec.template);
  delete tmpl.$patch;
  out.spec.template = tmpl;
  return out;
}

function newRevision(set, revisionNumber, collisionCount) {
  const data = revisionData(set);
  const hash = computeHash(data, collisionCount);
  const labels = { ...((set.spec.template.metadata && set.spec.template.metadata.labels) || {}), [HASH_LABEL]: hash };
  const rev = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${set.metadata.name.slice(0, 223)}-${hash}`,
      namespace: set.metadata.namespace,
      labels,
      ownerReferences: [newControllerRef(set)],
    },
    data,
    revision: revisionNumber,
  };
  if (set.metadata.annotations) rev.metadata.annotations = { ...set.metadata.annotations };
  return rev;
}

function sameRevisionData(a, b) { return deepEqual(a.data, b.data); }

function claimsFor(set, ordinal) {
  return (set.spec.volumeClaimTemplates || []).map((t) => {
    const labels = { ...((t.metadata && t.metadata.labels) || {}), ...((set.spec.selector && set.spec.selector.matchLabels) || {}) };
    const claim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: claimName(t, set, ordinal), namespace: set.metadata.namespace, labels },
      spec: structuredClone(t.spec || {}),
    };
    if (t.metadata && t.metadata.annotations) claim.metadata.annotations = { ...t.metadata.annotations };
    return { template: t.metadata.name, claim };
  });
}

// A pod of the set at a revision (newStatefulSetPod + setPodRevision).
function newPod(setAtRevision, revisionName, ordinal, nodeName, nowISO) {
  const set = setAtRevision;
  const pod = podFromTemplate(set.spec.template, set, nodeName, nowISO);
  const name = podName(set, ordinal);
  pod.metadata.name = name;
  pod.metadata.labels[POD_NAME_LABEL] = name;
  pod.metadata.labels[POD_INDEX_LABEL] = String(ordinal);
  pod.metadata.labels[REVISION_LABEL] = revisionName;
  pod.spec.hostname = name;
  if (set.spec.serviceName) pod.spec.subdomain = set.spec.serviceName;
  const claims = claimsFor(set, ordinal);
  const names = new Set(claims.map((c) => c.template));
  pod.spec.volumes = [
    ...claims.map((c) => ({ name: c.template, persistentVolumeClaim: { claimName: c.claim.metadata.name } })),
    ...(pod.spec.volumes || []).filter((v) => !names.has(v.name)),
  ];
  if (!pod.spec.volumes.length) delete pod.spec.volumes;
  return pod;
}

function identityMatches(set, pod) {
  const o = ordinalOf(set, pod);
  const l = pod.metadata.labels || {};
  return o >= 0 && l[POD_NAME_LABEL] === pod.metadata.name && l[POD_INDEX_LABEL] === String(o);
}

// The owner references a claim should carry under the set's retention policy
// (updateClaimOwnerRefForSetAndPod): references to the set and pod scrubbed,
// then the set (whenDeleted: Delete, pod not scaled down) or the pod
// (whenScaled: Delete, pod scaled down) added as controller.
function desiredClaimRefs(claim, set, pod) {
  const refs = claim.metadata.ownerReferences || [];
  const isSetRef = (r) => r.kind === 'StatefulSet' && r.name === set.metadata.name;
  const isPodRef = (r) => pod && r.kind === 'Pod' && r.name === pod.metadata.name;
  const unexpectedController = refs.some((r) => r.controller && !isSetRef(r) && !isPodRef(r));
  const out = refs.filter((r) => !isSetRef(r) && !isPodRef(r));
  if (unexpectedController) return out;
  const policy = retentionPolicy(set);
  const scaledDown = pod ? !inRange(set, pod) : false;
  if (policy.whenScaled === 'Delete' && scaledDown && pod) out.push(newControllerRef(pod));
  if (policy.whenDeleted === 'Delete' && !(policy.whenScaled === 'Delete' && scaledDown)) out.push(newControllerRef(set));
  return out;
}

module.exports = {
  REVISION_LABEL, POD_NAME_LABEL, POD_INDEX_LABEL, HASH_LABEL,
  startOrdinal, replicaCount, ordinalOf, inRange, podName, claimName, strategy, retentionPolicy,
  revisionData, applyRevision, newRevision, sameRevisionData, claimsFor, newPod, identityMatches, desiredClaimRefs,
};
