'use strict';
// The strategic-merge and list metadata of the built-in types: what the real
// OpenAPI document carries as x-kubernetes-patch-strategy,
// x-kubernetes-patch-merge-key, x-kubernetes-list-type and
// x-kubernetes-list-map-keys (from the Go struct tags of k8s.io/api). The
// kubernetes-models declarations lose these, so the table below restores them
// for the kinds this cluster serves. kubectl apply's client-side patch and
// the server's strategic merge patch both read them.
//
// definition name -> field -> [patchStrategy, mergeKey, listType, listMapKeys]

const CONDITIONS = ['merge', 'type', 'map', ['type']];

const TABLE = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    finalizers: ['merge', null, 'set'],
    ownerReferences: ['merge', 'uid', 'map', ['uid']],
    managedFields: [null, null, 'atomic'],
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': { matchExpressions: [null, null, 'atomic'] },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement': { values: [null, null, 'atomic'] },
  'io.k8s.api.core.v1.PodSpec': {
    containers: ['merge', 'name', 'map', ['name']],
    initContainers: ['merge', 'name', 'map', ['name']],
    ephemeralContainers: ['merge', 'name', 'map', ['name']],
    volumes: ['merge,retainKeys', 'name', 'map', ['name']],
    imagePullSecrets: ['merge', 'name', 'map', ['name']],
    hostAliases: ['merge', 'ip', 'map', ['ip']],
    topologySpreadConstraints: ['merge', 'topologyKey', 'map', ['topologyKey', 'whenUnsatisfiable']],
    resourceClaims: ['merge,retainKeys', 'name', 'map', ['name']],
    schedulingGates: ['merge', 'name', 'map', ['name']],
    tolerations: [null, null, 'atomic'],
    readinessGates: [null, null, 'atomic'],
  },
  'io.k8s.api.core.v1.Container': {
    ports: ['merge', 'containerPort', 'map', ['containerPort', 'protocol']],
    env: ['merge', 'name', 'map', ['name']],
    volumeMounts: ['merge', 'mountPath', 'map', ['mountPath']],
    volumeDevices: ['merge', 'devicePath', 'map', ['devicePath']],
    resizePolicy: [null, null, 'atomic'],
    args: [null, null, 'atomic'],
    command: [null, null, 'atomic'],
    envFrom: [null, null, 'atomic'],
  },
  'io.k8s.api.core.v1.EphemeralContainer': {
    ports: ['merge', 'containerPort', 'map', ['containerPort', 'protocol']],
    env: ['merge', 'name', 'map', ['name']],
    volumeMounts: ['merge', 'mountPath', 'map', ['mountPath']],
    volumeDevices: ['merge', 'devicePath', 'map', ['devicePath']],
  },
  'io.k8s.api.core.v1.ServiceSpec': {
    ports: ['merge', 'port', 'map', ['port', 'protocol']],
    clusterIPs: [null, null, 'atomic'],
    ipFamilies: [null, null, 'atomic'],
    externalIPs: [null, null, 'atomic'],
  },
  'io.k8s.api.core.v1.ServiceStatus': { conditions: CONDITIONS },
  'io.k8s.api.core.v1.PodStatus': {
    conditions: ['merge', 'type', 'map', ['type']],
    podIPs: ['merge', 'ip', 'map', ['ip']],
    hostIPs: ['merge', 'ip', 'atomic'],
  },
  'io.k8s.api.core.v1.NodeStatus': {
    conditions: ['merge', 'type', 'map', ['type']],
    addresses: ['merge', 'type', 'map', ['type']],
  },
  'io.k8s.api.core.v1.NamespaceStatus': { conditions: CONDITIONS },
  'io.k8s.api.core.v1.PersistentVolumeClaimStatus': { conditions: CONDITIONS },
  'io.k8s.api.core.v1.PersistentVolumeClaimSpec': { accessModes: [null, null, 'atomic'] },
  'io.k8s.api.core.v1.EndpointSubset': { addresses: [null, null, 'atomic'], ports: [null, null, 'atomic'] },
  'io.k8s.api.core.v1.Endpoints': { subsets: [null, null, 'atomic'] },
  'io.k8s.api.core.v1.ServiceAccount': { secrets: ['merge', 'name', 'map', ['name']] },
  'io.k8s.api.apps.v1.DeploymentSpec': { strategy: ['retainKeys'] },
  'io.k8s.api.apps.v1.DeploymentStatus': { conditions: CONDITIONS },
  'io.k8s.api.apps.v1.StatefulSetSpec': { volumeClaimTemplates: [null, null, 'atomic'] },
  'io.k8s.api.apps.v1.StatefulSetStatus': { conditions: CONDITIONS },
  'io.k8s.api.apps.v1.ReplicaSetStatus': { conditions: CONDITIONS },
  'io.k8s.api.apps.v1.DaemonSetStatus': { conditions: CONDITIONS },
  'io.k8s.api.batch.v1.JobStatus': { conditions: ['merge', 'type', 'atomic'] },
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': { conditions: CONDITIONS },
  'io.k8s.api.networking.v1.NetworkPolicySpec': {
    ingress: [null, null, 'atomic'], egress: [null, null, 'atomic'], policyTypes: [null, null, 'atomic'],
  },
  'io.k8s.api.networking.v1.NetworkPolicyIngressRule': { ports: [null, null, 'atomic'], from: [null, null, 'atomic'] },
  'io.k8s.api.networking.v1.NetworkPolicyEgressRule': { ports: [null, null, 'atomic'], to: [null, null, 'atomic'] },
  'io.k8s.api.rbac.v1.Role': { rules: [null, null, 'atomic'] },
  'io.k8s.api.rbac.v1.ClusterRole': { rules: [null, null, 'atomic'] },
  'io.k8s.api.rbac.v1.RoleBinding': { subjects: [null, null, 'atomic'] },
  'io.k8s.api.rbac.v1.ClusterRoleBinding': { subjects: [null, null, 'atomic'] },
  'io.k8s.api.discovery.v1.EndpointSlice': { endpoints: [null, null, 'atomic'], ports: [null, null, 'atomic'] },
};

// {patchStrategy, patchMergeKey, listType, listMapKeys} of a field of a
// definition, or null.
function patchMetaFor(definition, field) {
  const row = TABLE[definition] && TABLE[definition][field];
  if (!row) return null;
  const [patchStrategy, patchMergeKey, listType, listMapKeys] = row;
  return { patchStrategy: patchStrategy || null, patchMergeKey: patchMergeKey || null, listType: listType || null, listMapKeys: listMapKeys || null };
}

// The OpenAPI extensions of that field ({} when none).
function extensionsFor(definition, field) {
  const m = patchMetaFor(definition, field);
  const ext = {};
  if (!m) return ext;
  if (m.patchStrategy) ext['x-kubernetes-patch-strategy'] = m.patchStrategy;
  if (m.patchMergeKey) ext['x-kubernetes-patch-merge-key'] = m.patchMergeKey;
  if (m.listType) ext['x-kubernetes-list-type'] = m.listType;
  if (m.listMapKeys) ext['x-kubernetes-list-map-keys'] = m.listMapKeys;
  return ext;
}

module.exports = { patchMetaFor, extensionsFor, PATCH_META_TABLE: TABLE };
