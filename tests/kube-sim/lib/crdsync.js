'use strict';
// CustomResourceDefinitions become served resources: whenever a CRD is
// written (through the API or in-process) its resources are (re)registered and
// its status says Established/NamesAccepted; when it goes, so do its resources
// and every custom object of them, as the real apiextensions server does.

const { now } = require('./store');

function isCRD(res) {
  return res && res.group === 'apiextensions.k8s.io' && res.kind === 'CustomResourceDefinition';
}

function wantedStatus(crd) {
  const status = structuredClone(crd.status || {});
  const names = crd.spec && crd.spec.names ? crd.spec.names : {};
  status.acceptedNames = {
    plural: names.plural, singular: names.singular || (names.kind || '').toLowerCase(), kind: names.kind,
    listKind: names.listKind || `${names.kind}List`,
    ...(names.shortNames ? { shortNames: names.shortNames } : {}),
    ...(names.categories ? { categories: names.categories } : {}),
  };
  const conditions = status.conditions || [];
  const set = (type, reason, message) => {
    const existing = conditions.find((c) => c.type === type);
    if (existing && existing.status === 'True') return;
    const cond = { type, status: 'True', lastTransitionTime: now(), reason, message };
    if (existing) Object.assign(existing, cond); else conditions.push(cond);
  };
  set('NamesAccepted', 'NoConflicts', 'no conflicts found');
  set('Established', 'InitialNamesAccepted', 'the initial names have been accepted');
  status.conditions = conditions;
  status.storedVersions = (crd.spec.versions || []).filter((v) => v.storage).map((v) => v.name);
  return status;
}

function watchCRDs(server) {
  const { store, registry } = server;
  const registered = new Map(); // crd name -> {group, plural}

  const unregister = (name) => {
    const r = registered.get(name);
    if (!r) return [];
    registry.remove(r.group, r.plural);
    registered.delete(name);
    return r.resources;
  };

  const register = (crd) => {
    let resources;
    try {
      resources = server.mods.crd.resourcesFromCRD(crd);
    } catch (e) {
      server.log(`CRD ${crd.metadata.name}: cannot serve its resources: ${e.message}`);
      return;
    }
    unregister(crd.metadata.name);
    if (!resources.length) return;
    for (const r of resources) registry.add(r);
    registered.set(crd.metadata.name, { group: resources[0].group, plural: resources[0].plural, resources });
  };

  const establish = (res, crd) => {
    setImmediate(() => {
      const live = store.tryGet(res, '', crd.metadata.name);
      if (!live || live.metadata.deletionTimestamp) return;
      const status = wantedStatus(live);
      if (JSON.stringify(status) === JSON.stringify(live.status || {})) return;
      try {
        store.update(res, { ...live, status }, { subresource: 'status' });
      } catch (e) {
        if (e.code !== 409) server.log(`CRD ${crd.metadata.name}: status update failed: ${e.message}`);
        else establish(res, crd);
      }
    });
  };

  // Removes every custom object of the resources a deleted CRD served.
  const purge = (resources) => {
    for (const r of resources) {
      for (const o of store.list(r, null).items) {
        try {
          const live = store.get(r, o.metadata.namespace, o.metadata.name);
          if (live.metadata.finalizers && live.metadata.finalizers.length) {
            store.update(r, { ...live, metadata: { ...live.metadata, finalizers: [] } });
          }
          if (store.tryGet(r, o.metadata.namespace, o.metadata.name)) store.delete(r, o.metadata.namespace, o.metadata.name);
        } catch (e) { /* already gone */ }
      }
    }
  };

  const onEvent = ({ type, res, object }) => {
    if (!isCRD(res)) return;
    if (type === 'DELETED') {
      const resources = unregister(object.metadata.name);
      purge(resources || []);
      return;
    }
    if (object.metadata.deletionTimestamp) return;
    register(object);
    establish(res, object);
  };

  const crdRes = registry.all().find(isCRD);
  if (crdRes) {
    for (const crd of store.list(crdRes, null).items) {
      register(crd);
      establish(crdRes, crd);
    }
  }
  store.on('event', onEvent);
  return () => store.removeListener('event', onEvent);
}

module.exports = { watchCRDs, wantedStatus };
