'use strict';
// The resources the API serves: the built-in kinds below, plus those that
// CustomResourceDefinitions add while the cluster runs. Discovery, routing and
// the store all read this one table.

const { EventEmitter } = require('events');

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

// [group, version, kind, plural, namespaced, shortNames, subresources, categories, hasStatus]
const BUILTIN = [
  ['', 'v1', 'Namespace', 'namespaces', false, ['ns'], ['status'], [], true],
  ['', 'v1', 'ConfigMap', 'configmaps', true, ['cm'], [], [], false],
  ['', 'v1', 'Secret', 'secrets', true, [], [], [], false],
  ['', 'v1', 'Service', 'services', true, ['svc'], ['status', 'proxy'], ['all'], true],
  ['', 'v1', 'Endpoints', 'endpoints', true, ['ep'], [], [], false],
  ['', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa'], ['token'], [], false],
  ['', 'v1', 'Pod', 'pods', true, ['po'], ['status', 'log', 'proxy', 'eviction', 'exec', 'binding'], ['all'], true],
  ['', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, ['pvc'], ['status'], [], true],
  ['', 'v1', 'PersistentVolume', 'persistentvolumes', false, ['pv'], ['status'], [], true],
  ['', 'v1', 'Event', 'events', true, ['ev'], [], [], false],
  ['', 'v1', 'Node', 'nodes', false, ['no'], ['status', 'proxy'], [], true],
  ['apps', 'v1', 'StatefulSet', 'statefulsets', true, ['sts'], ['status', 'scale'], ['all'], true],
  ['apps', 'v1', 'Deployment', 'deployments', true, ['deploy'], ['status', 'scale'], ['all'], true],
  ['apps', 'v1', 'ReplicaSet', 'replicasets', true, ['rs'], ['status', 'scale'], ['all'], true],
  ['apps', 'v1', 'ControllerRevision', 'controllerrevisions', true, [], [], [], false],
  ['batch', 'v1', 'Job', 'jobs', true, [], ['status'], ['all'], true],
  ['policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb'], ['status'], [], true],
  ['networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, ['netpol'], [], [], false],
  ['discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true, [], [], [], false],
  ['rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true, [], [], [], false],
  ['rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true, [], [], [], false],
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false, [], [], [], false],
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false, [], [], [], false],
  ['coordination.k8s.io', 'v1', 'Lease', 'leases', true, [], [], [], false],
  ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['crd', 'crds'], ['status'], [], true],
  ['authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, [], [], [], false],
  ['authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', false, [], [], [], false],
  ['authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', false, [], [], [], false],
  ['authorization.k8s.io', 'v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true, [], [], [], false],
  ['authentication.k8s.io', 'v1', 'TokenReview', 'tokenreviews', false, [], [], [], false],
  ['authentication.k8s.io', 'v1', 'SelfSubjectReview', 'selfsubjectreviews', false, [], [], [], false],
];

// Kinds that exist only as a create (reviews): no storage, no list/watch.
const CREATE_ONLY = new Set(['selfsubjectaccessreviews', 'subjectaccessreviews', 'selfsubjectrulesreviews', 'localsubjectaccessreviews', 'tokenreviews', 'selfsubjectreviews']);

function makeResource(group, version, kind, plural, namespaced, shortNames, subresources, categories, hasStatus, extra) {
  return {
    group, version, kind, plural,
    singular: kind.toLowerCase(),
    namespaced, shortNames, subresources, categories, hasStatus,
    apiVersion: group ? `${group}/${version}` : version,
    verbs: CREATE_ONLY.has(plural) ? ['create'] : ALL_VERBS,
    ...extra,
  };
}

class Registry extends EventEmitter {
  constructor() {
    super();
    this.resources = new Map(); // `${group}/${version}/${plural}` -> resource
    for (const row of BUILTIN) this.add(makeResource(...row));
  }

  all() { return [...this.resources.values()]; }

  byPlural(group, version, plural) {
    return this.resources.get(`${group}/${version}/${plural}`);
  }

  byKind(apiVersion, kind) {
    for (const r of this.resources.values()) if (r.apiVersion === apiVersion && r.kind === kind) return r;
    return undefined;
  }

  // The resource of a kind in any version of its group (the storage version).
  byGroupKind(group, kind) {
    for (const r of this.resources.values()) if (r.group === group && r.kind === kind) return r;
    return undefined;
  }

  add(resource) {
    this.resources.set(`${resource.group}/${resource.version}/${resource.plural}`, resource);
    this.emit('changed');
  }

  remove(group, plural) {
    for (const [key, r] of this.resources) if (r.group === group && r.plural === plural) this.resources.delete(key);
    this.emit('changed');
  }

  // [{group, versions: [...], preferredVersion}] in a stable order: core first.
  groups() {
    const byGroup = new Map();
    for (const r of this.resources.values()) {
      if (!byGroup.has(r.group)) byGroup.set(r.group, []);
      const versions = byGroup.get(r.group);
      if (!versions.includes(r.version)) versions.push(r.version);
    }
    return [...byGroup.entries()].map(([group, versions]) => ({
      group, versions, preferredVersion: versions[0],
    }));
  }
}

module.exports = { Registry, makeResource, ALL_VERBS };
