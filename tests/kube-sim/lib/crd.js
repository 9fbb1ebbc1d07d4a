'use strict';
// apiextensions.k8s.io/v1 CustomResourceDefinitions: their own validation
// (names, versions, structural schemas), the registry resources they add, the
// status the real server gives an accepted CRD, and (from crd-schema.js) the
// defaulting, pruning and validation of the custom resources themselves.

const { makeResource, ALL_VERBS } = require('./registry');
const u = require('./validate-util');
const { cause } = u;
const { validateCustom, defaultAndPrune, unknownCustomFields } = require('./crd-schema');

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];

// Structural schema rules (apiextensions validation), reported at their path
// below spec.versions[i].schema.openAPIV3Schema.
function checkStructural(causes, s, path, { root = false, underPreserve = false } = {}) {
  if (!s || typeof s !== 'object') return;
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  if (s.type !== undefined && !TYPES.includes(s.type)) causes.push(cause.notSupported(`${path}.type`, s.type, TYPES));
  if (!s.type && !intOrString && !preserve && !underPreserve) {
    causes.push(cause.required(`${path}.type`, 'must not be empty for specified object fields'));
  }
  if (root && s.type !== undefined && s.type !== 'object') causes.push(cause.invalid(`${path}.type`, s.type, 'must be object at the root'));
  if (intOrString && s.type !== undefined) causes.push(cause.forbidden(`${path}.type`, 'must be empty if x-kubernetes-int-or-string is true'));
  if (s.properties && s.additionalProperties !== undefined && s.additionalProperties !== false) {
    causes.push(cause.forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
  }
  if (preserve === false && s['x-kubernetes-preserve-unknown-fields'] === false) {
    causes.push(cause.invalid(`${path}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'));
  }
  if (s['x-kubernetes-embedded-resource'] && s.type !== 'object') {
    causes.push(cause.invalid(`${path}.type`, s.type, 'must be object if x-kubernetes-embedded-resource is true'));
  }
  if (s.type === 'array' && !s.items) causes.push(cause.required(`${path}.items`, 'must be specified'));
  const lt = s['x-kubernetes-list-type'];
  if (lt !== undefined && !['atomic', 'set', 'map'].includes(lt)) causes.push(cause.notSupported(`${path}.x-kubernetes-list-type`, lt, ['atomic', 'set', 'map']));
  if (lt === 'map' && !(s['x-kubernetes-list-map-keys'] || []).length) {
    causes.push(cause.required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
  }
  if (root && s.properties && s.properties.metadata) {
    const meta = s.properties.metadata;
    const extra = Object.keys(meta.properties || {}).filter((k) => k !== 'name' && k !== 'generateName');
    if (extra.length) causes.push(cause.forbidden(`${path}.properties[metadata]`, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
  const below = { underPreserve: underPreserve || preserve };
  for (const [k, v] of Object.entries(s.properties || {})) checkStructural(causes, v, `${path}.properties[${k}]`, below);
  if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) checkStructural(causes, s.items, `${path}.items`, below);
  if (Array.isArray(s.items)) causes.push(cause.forbidden(`${path}.items`, 'items must be a schema object and not an array'));
  if (s.additionalProperties && typeof s.additionalProperties === 'object') checkStructural(causes, s.additionalProperties, `${path}.additionalProperties`, below);
}

// Causes for a CRD object (its own validity, not that of its resources).
function validateCRD(crd) {
  const causes = [];
  const spec = (crd && crd.spec) || {};
  const names = spec.names || {};
  const name = crd && crd.metadata && crd.metadata.name;
  if (!spec.group) causes.push(cause.required('spec.group'));
  else {
    for (const m of u.subdomainErrors(spec.group)) causes.push(cause.invalid('spec.group', spec.group, m));
    if (!spec.group.includes('.')) causes.push(cause.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  }
  if (name && names.plural && spec.group && name !== `${names.plural}.${spec.group}`) {
    causes.push(cause.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  if (!['Namespaced', 'Cluster'].includes(spec.scope)) {
    if (!spec.scope) causes.push(cause.required('spec.scope'));
    else causes.push(cause.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  }
  for (const f of ['plural', 'kind']) if (!names[f]) causes.push(cause.required(`spec.names.${f}`));
  for (const f of ['plural', 'singular']) {
    if (names[f]) for (const m of u.dnsLabelErrors(names[f])) causes.push(cause.invalid(`spec.names.${f}`, names[f], m));
  }
  for (const f of ['kind', 'listKind']) {
    if (names[f] && !/^[A-Za-z][-a-zA-Z0-9]*$/.test(names[f])) {
      causes.push(cause.invalid(`spec.names.${f}`, names[f], "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"));
    }
  }
  if (names.kind && names.listKind && names.kind === names.listKind) causes.push(cause.invalid('spec.names.listKind', names.listKind, 'kind and listKind may not be the same'));
  (names.shortNames || []).forEach((s, i) => {
    for (const m of u.dnsLabelErrors(s)) causes.push(cause.invalid(`spec.names.shortNames[${i}]`, s, m));
  });
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) causes.push(cause.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  const seen = new Set();
  let storage = 0;
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    if (!v || typeof v !== 'object') return;
    if (!v.name) causes.push(cause.required(`${p}.name`));
    else {
      for (const m of u.dns1035Errors(v.name)) causes.push(cause.invalid(`${p}.name`, v.name, m));
      if (seen.has(v.name)) causes.push(cause.duplicate(`${p}.name`, v.name));
      seen.add(v.name);
    }
    if (v.storage) storage++;
    const schema = v.schema && v.schema.openAPIV3Schema;
    if (!schema) causes.push(cause.required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
    else checkStructural(causes, schema, `${p}.schema.openAPIV3Schema`, { root: true });
    const sub = v.subresources || {};
    if (sub.scale) {
      if (!sub.scale.specReplicasPath) causes.push(cause.required(`${p}.subresources.scale.specReplicasPath`));
      if (!sub.scale.statusReplicasPath) causes.push(cause.required(`${p}.subresources.scale.statusReplicasPath`));
    }
  });
  if (versions.length && storage !== 1) causes.push(cause.invalid('spec.versions', versions.map((v) => v && v.name), 'must have exactly one version marked as storage version'));
  if (versions.length && !versions.some((v) => v && v.served)) causes.push(cause.invalid('spec.versions', versions.map((v) => v && v.name), 'must have at least one version marked as served'));
  const conv = spec.conversion && spec.conversion.strategy;
  if (conv !== undefined && !['None', 'Webhook'].includes(conv)) causes.push(cause.notSupported('spec.conversion.strategy', conv, ['None', 'Webhook']));
  return causes;
}

// The defaults of a CRD object itself; idempotent.
function defaultCRD(crd) {
  const spec = crd && crd.spec;
  if (!spec || typeof spec !== 'object') return crd;
  const names = spec.names || {};
  if (names.kind) {
    if (!names.singular) names.singular = names.kind.toLowerCase();
    if (!names.listKind) names.listKind = `${names.kind}List`;
  }
  if (!spec.conversion) spec.conversion = { strategy: 'None' };
  for (const v of Array.isArray(spec.versions) ? spec.versions : []) {
    if (v && typeof v === 'object' && v.served === undefined) v.served = true;
  }
  return crd;
}

// The registry resources of a CRD: one per served version, the storage
// version first (discovery's preferred version), then the others in order.
function resourcesFromCRD(crd) {
  const spec = crd.spec || {};
  const names = spec.names || {};
  const versions = (spec.versions || []).filter((v) => v && v.served !== false);
  versions.sort((a, b) => (b.storage ? 1 : 0) - (a.storage ? 1 : 0));
  return versions.map((v) => {
    const sub = v.subresources || {};
    const subresources = [];
    if (sub.status) subresources.push('status');
    if (sub.scale) subresources.push('scale');
    const res = makeResource(spec.group, v.name, names.kind, names.plural, spec.scope !== 'Cluster',
      names.shortNames || [], subresources, names.categories || [], Boolean(sub.status), {
        crd, listKind: names.listKind || `${names.kind}List`, scale: sub.scale || null,
        storage: Boolean(v.storage), printerColumns: v.additionalPrinterColumns || [],
      });
    res.singular = names.singular || names.kind.toLowerCase();
    res.verbs = ALL_VERBS;
    return res;
  });
}

// status of an accepted CRD: what `kubectl wait --for condition=established` reads.
function crdStatus(crd, now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')) {
  const spec = crd.spec || {};
  const names = { ...(spec.names || {}) };
  const cond = (type, reason, message) => ({ type, status: 'True', lastTransitionTime: now, reason, message });
  return {
    acceptedNames: names,
    conditions: [
      cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    storedVersions: (spec.versions || []).filter((v) => v && v.storage).map((v) => v.name),
  };
}

module.exports = {
  validateCRD, defaultCRD, resourcesFromCRD, crdStatus, validateCustom, defaultAndPrune, unknownCustomFields,
};
