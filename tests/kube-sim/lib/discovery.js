'use strict';
// Discovery documents: /version, /api, /apis, /apis/<group>, and the
// APIResourceList of each group version, built from the registry so that
// custom resources appear as soon as their CRD is established. Only the legacy
// (unaggregated) form is served: kubectl asks for apidiscovery.k8s.io/v2 first,
// sees a plain application/json answer and falls back to it.

const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-kube-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

// subresource -> [kind, group, version, verbs] of what it serves
const SUBRESOURCES = {
  status: [null, null, null, ['get', 'patch', 'update']],
  scale: ['Scale', 'autoscaling', 'v1', ['get', 'patch', 'update']],
  log: ['Pod', '', 'v1', ['get']],
  proxy: [null, '', 'v1', ['create', 'delete', 'get', 'patch', 'update']],
  eviction: ['Eviction', 'policy', 'v1', ['create']],
  exec: ['PodExecOptions', '', 'v1', ['create', 'get']],
  binding: ['Binding', '', 'v1', ['create']],
  token: ['TokenRequest', 'authentication.k8s.io', 'v1', ['create']],
  finalize: ['Namespace', '', 'v1', ['update']],
};

function proxyKind(res) { return `${res.kind}ProxyOptions`; }

function apiVersions(serverAddress) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(g) {
  const gv = (v) => ({ groupVersion: `${g.group}/${v}`, version: v });
  return { name: g.group, versions: g.versions.map(gv), preferredVersion: gv(g.preferredVersion) };
}

function apiGroupList(registry) {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry.groups().filter((g) => g.group !== '').map(apiGroup),
  };
}

function apiGroupDoc(registry, group) {
  const g = registry.groups().find((x) => x.group === group);
  if (!g || group === '') return null;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) };
}

function resourceEntries(res) {
  const entries = [{
    name: res.plural,
    singularName: res.singular,
    namespaced: res.namespaced,
    kind: res.kind,
    verbs: res.verbs,
  }];
  if (res.shortNames && res.shortNames.length) entries[0].shortNames = res.shortNames;
  if (res.categories && res.categories.length) entries[0].categories = res.categories;
  for (const sub of res.subresources || []) {
    const [kind, group, version, verbs] = SUBRESOURCES[sub] || [res.kind, null, null, ['get']];
    const e = {
      name: `${res.plural}/${sub}`,
      singularName: '',
      namespaced: res.namespaced,
      kind: sub === 'proxy' ? proxyKind(res) : kind || res.kind,
      verbs,
    };
    if (group !== null && (group !== res.group || version !== res.version)) {
      e.group = group;
      e.version = version;
    }
    entries.push(e);
  }
  return entries;
}

// null when the group version is not served (a 404).
function apiResourceList(registry, group, version) {
  const resources = registry.all().filter((r) => r.group === group && r.version === version);
  if (!resources.length) return null;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: resources.flatMap(resourceEntries),
  };
}

module.exports = { VERSION, apiVersions, apiGroupList, apiGroupDoc, apiResourceList };
