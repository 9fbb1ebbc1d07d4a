'use strict';
// Schema metadata shared by strategic merge patch (patch.js) and server-side apply (ssa.js).
//
// A FieldMeta describes one position in an object: how a list there is merged (list type and keys for
// server-side apply, patch strategy and merge key for strategic merge patch), whether a map or struct is
// atomic, and how to descend. Positions the tables know nothing about get the API defaults: maps and
// structs are granular, lists are atomic / replaced.
//
// Built-in kinds come from patchmeta-table.js; custom resources from the CRD's structural schema
// (x-kubernetes-list-type, x-kubernetes-list-map-keys, x-kubernetes-map-type), as the API server does.

const { TYPES, KINDS } = require('./patchmeta-table');

class FieldMeta {
  // spec: a field entry (see patchmeta-table.js) or a node built from a CRD schema
  //   { t, list, keys, def, atomic, smp, mk, fields: {name: spec}, item: spec, mapOf: spec }
  // mapEntry: this position is an entry of a map (not a declared struct field)
  constructor(spec, mapEntry = false) {
    this.spec = spec || {};
    this.mapEntry = mapEntry;
  }

  get typeEntry() { return this.spec.t ? TYPES[this.spec.t] : undefined; }

  // Child of an object: a struct field, or an entry of a map.
  child(name) {
    const s = this.spec;
    if (s.fields && Object.prototype.hasOwnProperty.call(s.fields, name)) return new FieldMeta(s.fields[name]);
    if (s.mapOf) return new FieldMeta(s.mapOf, true);
    const te = this.typeEntry;
    if (te && Object.prototype.hasOwnProperty.call(te, name) && name !== '.') return new FieldMeta(te[name]);
    return new FieldMeta({});
  }

  // Element of a list.
  item() {
    const s = this.spec;
    if (s.item) return new FieldMeta(s.item);
    return new FieldMeta(s.t ? { t: s.t } : {});
  }

  // Server-side apply: 'atomic' | 'set' | 'map'
  get listType() { return this.spec.list || 'atomic'; }
  get listKeys() { return this.spec.keys || []; }
  keyDefault(key) { return this.spec.def ? this.spec.def[key] : undefined; }

  // Server-side apply: the map/struct at this position is replaced whole.
  get atomic() {
    if (this.spec.atomic) return true;
    const te = this.typeEntry;
    return !!(te && te['.'] === 'atomic');
  }

  // Strategic merge patch: strategies at this position ('merge', 'retainKeys', 'replace') and merge key.
  get patchStrategies() { return this.spec.smp ? this.spec.smp.split(',') : []; }
  get patchMergeKey() { return this.spec.mk || ''; }
}

function kindKey(apiVersion, kind) { return `${apiVersion}/${kind}`; }

// Metadata walker for a built-in kind, or null when the kind is not in the table.
function patchMetaFor(apiVersion, kind) {
  const k = KINDS[kindKey(apiVersion, kind)];
  return k ? new FieldMeta({ t: k[0] }) : null;
}

function hasBuiltinMeta(apiVersion, kind) { return !!KINDS[kindKey(apiVersion, kind)]; }

// The object as the API server sees a new, empty object of this kind (see patchmeta-table.js).
function zeroObject(apiVersion, kind) {
  const k = KINDS[kindKey(apiVersion, kind)];
  return k ? JSON.parse(JSON.stringify(k[1])) : {};
}

// Walker for a custom resource, from the served version's openAPIV3Schema of a CRD.
function patchMetaFromCRD(crd, version) {
  const versions = (crd && crd.spec && crd.spec.versions) || [];
  const v = versions.find((x) => x.name === version) || versions[0];
  const schema = (v && v.schema && v.schema.openAPIV3Schema) || (crd && crd.spec && crd.spec.validation &&
    crd.spec.validation.openAPIV3Schema) || {};
  const root = specFromSchema(schema);
  root.fields = Object.assign({}, root.fields, { metadata: { t: 'meta.ObjectMeta' } });
  delete root.mapOf;
  return new FieldMeta(root);
}

function specFromSchema(s) {
  if (!s || typeof s !== 'object') return {};
  const out = {};
  if (s.type === 'array' || s.items) {
    const lt = s['x-kubernetes-list-type'];
    if (lt === 'set' || lt === 'map') out.list = lt;
    if (lt === 'map') out.keys = s['x-kubernetes-list-map-keys'] || [];
    out.item = specFromSchema(s.items);
    if (out.keys && s.items && s.items.properties) {
      for (const key of out.keys) {
        const p = s.items.properties[key];
        if (p && p.default !== undefined) (out.def = out.def || {})[key] = p.default;
      }
    }
    return out;
  }
  if (s['x-kubernetes-map-type'] === 'atomic') out.atomic = 1;
  if (s.properties) {
    out.fields = {};
    for (const [name, sub] of Object.entries(s.properties)) out.fields[name] = specFromSchema(sub);
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') out.mapOf = specFromSchema(s.additionalProperties);
  else if (!s.properties && (s['x-kubernetes-preserve-unknown-fields'] || s.type === 'object')) out.mapOf = {};
  return out;
}

// ---- the same metadata as the OpenAPI extensions /openapi/v3 publishes (kubectl reads them)

// OpenAPI definition name -> type name of the table (io.k8s.api.core.v1.PodSpec -> core.PodSpec).
function typeOfDefinition(definition) {
  let m;
  if ((m = /^io\.k8s\.apimachinery\.pkg\.apis\.meta\.v1\.(\w+)$/.exec(definition))) return `meta.${m[1]}`;
  if ((m = /^io\.k8s\.apiextensions-apiserver\.pkg\.apis\.apiextensions\.v1\.(\w+)$/.exec(definition))) return `apiextensions.${m[1]}`;
  if ((m = /^io\.k8s\.api\.([\w-]+)\.v1\.(\w+)$/.exec(definition))) return `${m[1]}.${m[2]}`;
  return null;
}

// The extensions of a field of a definition ({} when none): x-kubernetes-patch-strategy,
// -patch-merge-key, -list-type, -list-map-keys, and -map-type for an atomic map.
function openapiExtensions(definition, field) {
  const entry = TYPES[typeOfDefinition(definition)];
  const spec = field !== '.' && entry && Object.prototype.hasOwnProperty.call(entry, field) ? entry[field] : null;
  const ext = {};
  if (!spec) return ext;
  if (spec.smp) ext['x-kubernetes-patch-strategy'] = spec.smp;
  if (spec.mk) ext['x-kubernetes-patch-merge-key'] = spec.mk;
  if (spec.list) ext['x-kubernetes-list-type'] = spec.list;
  if (spec.keys) ext['x-kubernetes-list-map-keys'] = [...spec.keys];
  if (spec.atomic) ext['x-kubernetes-map-type'] = 'atomic';
  return ext;
}

// The extensions of a definition itself: a struct that is atomic wherever it is used.
function openapiDefinitionExtensions(definition) {
  const entry = TYPES[typeOfDefinition(definition)];
  return entry && entry['.'] === 'atomic' ? { 'x-kubernetes-map-type': 'atomic' } : {};
}

module.exports = {
  FieldMeta, patchMetaFor, patchMetaFromCRD, hasBuiltinMeta, zeroObject, openapiExtensions, openapiDefinitionExtensions,
  typeOfDefinition, TYPES, KINDS,
};
