'use strict';
// /openapi/v3: the index of group-versions and one OpenAPI 3 document per
// group-version, with what kubectl 1.32 reads from them:
//  - components.schemas keyed like io.k8s.api.apps.v1.StatefulSet, the kinds
//    carrying x-kubernetes-group-version-kind (kubectl explain, and kubectl
//    apply's client-side strategic merge which finds the kind's schema by it),
//  - x-kubernetes-patch-strategy / -patch-merge-key / -list-type /
//    -list-map-keys on fields (strategic merge patch metadata),
//  - paths whose PATCH operations carry x-kubernetes-group-version-kind and a
//    `fieldValidation` query parameter (kubectl decides on server-side field
//    validation by finding it there).
// Built-in schemas come from kubernetes-models (openapi-models.js), their
// patch and list metadata from patchmeta-table.js (the table strategic merge
// patch and server-side apply use); a CRD's document is made from its
// versions' openAPIV3Schema.

const crypto = require('crypto');
const models = require('./openapi-models');
const { openapiExtensions, openapiDefinitionExtensions } = require('./patchmeta');

const REF = models.REF_PREFIX;
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';
const STATUS = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';
const DELETE_OPTIONS = 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions';
const PATCH = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';

const caches = new WeakMap(); // registry -> Map(gvPath -> {doc, hash})

function cacheOf(registry) {
  let c = caches.get(registry);
  if (!c) {
    c = new Map();
    caches.set(registry, c);
    registry.on('changed', () => c.clear());
  }
  return c;
}

const gvPathOf = (res) => (res.group ? `apis/${res.group}/${res.version}` : `api/${res.version}`);

// The real document's style: a reference is wrapped in allOf (so that a
// description or default can sit beside it), and fields get their patch
// metadata.
function decorate(name, schema) {
  const out = structuredClone(schema);
  const wrap = (s) => {
    if (!s || typeof s !== 'object') return s;
    if (s.$ref) {
      const { $ref, ...rest } = s;
      return { ...rest, allOf: [{ $ref }], default: {} };
    }
    if (s.items) s.items = wrap(s.items);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') s.additionalProperties = wrap(s.additionalProperties);
    return s;
  };
  for (const [field, prop] of Object.entries(out.properties || {})) {
    out.properties[field] = { ...wrap(prop), ...openapiExtensions(name, field) };
  }
  if (out.properties && !out.required) delete out.required;
  return Object.assign(out, openapiDefinitionExtensions(name));
}

function gvk(group, version, kind) { return { group, version, kind }; }

// Schemas for built-in kinds of one group-version: the kinds, their lists and
// every type they reach, plus the meta types that operations refer to.
function builtinSchemas(resources) {
  const schemas = {};
  const roots = [];
  const kinds = new Map(); // definition name -> gvk
  for (const res of resources) {
    const one = models.schemaOfKind(res.apiVersion, res.kind);
    if (!one) continue;
    roots.push(one.name);
    kinds.set(one.name, gvk(res.group, res.version, res.kind));
    const list = models.schemaOfKind(res.apiVersion, `${res.kind}List`);
    if (list) {
      roots.push(list.name);
      kinds.set(list.name, gvk(res.group, res.version, `${res.kind}List`));
    }
    if (res.subresources.includes('scale')) {
      const scale = models.schemaOfKind('autoscaling/v1', 'Scale');
      if (scale) roots.push(scale.name);
    }
  }
  for (const rel of ['apis/meta/v1/Status', 'apis/meta/v1/DeleteOptions', 'apis/meta/v1/Patch', 'apis/meta/v1/ObjectMeta', 'apis/meta/v1/ListMeta']) {
    const s = models.schemaOfApimachinery(rel);
    if (s) roots.push(s.name);
  }
  for (const [name, schema] of models.reachable(roots)) {
    const d = decorate(name, schema);
    if (kinds.has(name)) d['x-kubernetes-group-version-kind'] = [kinds.get(name)];
    schemas[name] = d;
  }
  if (schemas['io.k8s.api.autoscaling.v1.Scale']) {
    schemas['io.k8s.api.autoscaling.v1.Scale']['x-kubernetes-group-version-kind'] = [gvk('autoscaling', 'v1', 'Scale')];
  }
  return schemas;
}

// 'monitoring.coreos.com' -> 'com.coreos.monitoring', as the real server names CRD schemas.
const reverseGroup = (group) => group.split('.').reverse().join('.');

function crdSchemas(resources, schemas) {
  for (const res of resources) {
    const v = (res.crd.spec.versions || []).find((x) => x.name === res.version);
    const base = structuredClone((v && v.schema && v.schema.openAPIV3Schema) || { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    base.properties = base.properties || {};
    base.properties.apiVersion = base.properties.apiVersion || { type: 'string' };
    base.properties.kind = base.properties.kind || { type: 'string' };
    base.properties.metadata = { description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", allOf: [{ $ref: REF + OBJECT_META }] };
    base['x-kubernetes-group-version-kind'] = [gvk(res.group, res.version, res.kind)];
    const name = `${reverseGroup(res.group)}.${res.version}.${res.kind}`;
    schemas[name] = base;
    schemas[`${name}List`] = {
      description: `${res.listKind || res.kind + 'List'} is a list of ${res.kind}`,
      type: 'object',
      required: ['items'],
      properties: {
        apiVersion: { type: 'string' },
        items: { type: 'array', items: { allOf: [{ $ref: REF + name }] } },
        kind: { type: 'string' },
        metadata: { allOf: [{ $ref: REF + LIST_META }] },
      },
      'x-kubernetes-group-version-kind': [gvk(res.group, res.version, res.listKind || `${res.kind}List`)],
    };
  }
  const roots = [];
  for (const rel of ['apis/meta/v1/Status', 'apis/meta/v1/DeleteOptions', 'apis/meta/v1/Patch', 'apis/meta/v1/ObjectMeta', 'apis/meta/v1/ListMeta']) {
    const s = models.schemaOfApimachinery(rel);
    if (s) roots.push(s.name);
  }
  for (const [n, s] of models.reachable(roots)) schemas[n] = decorate(n, s);
  return schemas;
}

// ------------------------------------------------------------------ paths

const param = (name, where, description, schema = { type: 'string', uniqueItems: true }, required = where === 'path') => ({
  name, in: where, description, required, schema,
});
const P = {
  name: (res) => param('name', 'path', `name of the ${res.kind}`),
  namespace: () => param('namespace', 'path', 'object name and auth scope, such as for teams and projects'),
  pretty: () => param('pretty', 'query', "If 'true', then the output is pretty printed."),
  dryRun: () => param('dryRun', 'query', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: () => param('fieldManager', 'query', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.'),
  fieldValidation: () => param('fieldValidation', 'query', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.'),
  force: () => param('force', 'query', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.', { type: 'boolean', uniqueItems: true }),
  gracePeriodSeconds: () => param('gracePeriodSeconds', 'query', 'The duration in seconds before the object should be deleted.', { type: 'integer', uniqueItems: true }),
  propagationPolicy: () => param('propagationPolicy', 'query', "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
  labelSelector: () => param('labelSelector', 'query', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  fieldSelector: () => param('fieldSelector', 'query', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  limit: () => param('limit', 'query', 'limit is a maximum number of responses to return for a list call.', { type: 'integer', uniqueItems: true }),
  continue: () => param('continue', 'query', 'The continue option should be set when retrieving more results from the server.'),
  resourceVersion: () => param('resourceVersion', 'query', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  watch: () => param('watch', 'query', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', { type: 'boolean', uniqueItems: true }),
};

const JSON_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const content = (ref, types = JSON_TYPES) => Object.fromEntries(types.map((t) => [t, { schema: { $ref: REF + ref } }]));
const ok = (ref, codes = ['200']) => ({
  responses: Object.fromEntries([...codes.map((c) => [c, { description: c === '201' ? 'Created' : c === '202' ? 'Accepted' : 'OK', content: content(ref) }]), ['401', { description: 'Unauthorized' }]]),
});

function operations(res, kindRef, listRef, subresource) {
  const kindName = res.kind;
  const scope = res.namespaced ? 'Namespaced' : '';
  const tag = res.group ? `${res.group.split('.')[0]}_${res.version}` : `core_${res.version}`;
  const opId = (verb) => `${verb}${scope}${kindName}${subresource ? subresource[0].toUpperCase() + subresource.slice(1) : ''}`;
  const ext = (action, g = gvk(res.group, res.version, kindName)) => ({ 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': g });
  const subGvk = subresource === 'scale' ? gvk('autoscaling', 'v1', 'Scale') : undefined;
  const item = {
    get: { tags: [tag], description: `read the specified ${kindName}`, operationId: opId('read'), ...ok(kindRef), ...ext('get', subGvk) },
    put: {
      tags: [tag], description: `replace the specified ${kindName}`, operationId: opId('replace'),
      parameters: [P.dryRun(), P.fieldManager(), P.fieldValidation()],
      requestBody: { content: content(kindRef, ['*/*']), required: true }, ...ok(kindRef, ['200', '201']), ...ext('put', subGvk),
    },
    patch: {
      tags: [tag], description: `partially update the specified ${kindName}`, operationId: opId('patch'),
      parameters: [P.dryRun(), P.fieldManager(), P.fieldValidation(), P.force()],
      requestBody: {
        content: Object.fromEntries((res.crd
          ? ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']
          : ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'])
          .map((t) => [t, { schema: { $ref: REF + PATCH } }])),
        required: true,
      },
      ...ok(kindRef, ['200', '201']), ...ext('patch', subGvk),
    },
  };
  if (subresource) return { item };
  item.delete = {
    tags: [tag], description: `delete a ${kindName}`, operationId: opId('delete'),
    parameters: [P.dryRun(), P.gracePeriodSeconds(), P.propagationPolicy()],
    requestBody: { content: content(DELETE_OPTIONS, ['*/*']) }, ...ok(STATUS, ['200', '202']), ...ext('delete'),
  };
  const listParams = [P.labelSelector(), P.fieldSelector(), P.limit(), P.continue(), P.resourceVersion(), P.watch()];
  const collection = {
    get: { tags: [tag], description: `list or watch objects of kind ${kindName}`, operationId: opId('list'), parameters: listParams, ...ok(listRef), ...ext('list') },
    post: {
      tags: [tag], description: `create a ${kindName}`, operationId: opId('create'),
      parameters: [P.dryRun(), P.fieldManager(), P.fieldValidation()],
      requestBody: { content: content(kindRef, ['*/*']), required: true }, ...ok(kindRef, ['200', '201', '202']), ...ext('post'),
    },
    delete: {
      tags: [tag], description: `delete collection of ${kindName}`, operationId: opId('deleteCollection'),
      parameters: [...listParams.slice(0, 5), P.dryRun(), P.gracePeriodSeconds(), P.propagationPolicy()],
      requestBody: { content: content(DELETE_OPTIONS, ['*/*']) }, ...ok(STATUS), ...ext('deletecollection'),
    },
  };
  return { item, collection };
}

function resourcePaths(res, kindRef, listRef) {
  const prefix = `/${gvPathOf(res)}`;
  const base = res.namespaced ? `${prefix}/namespaces/{namespace}/${res.plural}` : `${prefix}/${res.plural}`;
  const common = (withName) => [...(withName ? [P.name(res)] : []), ...(res.namespaced ? [P.namespace()] : []), P.pretty()];
  const paths = {};
  if (res.verbs.length === 1 && res.verbs[0] === 'create') {
    const { collection } = operations(res, kindRef, listRef);
    paths[`${prefix}/${res.plural}`] = { post: collection.post, parameters: [P.pretty()] };
    return paths;
  }
  const { item, collection } = operations(res, kindRef, listRef);
  paths[base] = { ...collection, parameters: common(false) };
  paths[`${base}/{name}`] = { ...item, parameters: common(true) };
  if (res.namespaced) {
    const all = operations(res, kindRef, listRef).collection.get;
    paths[`${prefix}/${res.plural}`] = { get: { ...all, operationId: `list${res.kind}ForAllNamespaces` }, parameters: [P.pretty()] };
  }
  for (const sub of ['status', 'scale']) {
    if (!res.subresources.includes(sub)) continue;
    const ref = sub === 'scale' ? 'io.k8s.api.autoscaling.v1.Scale' : kindRef;
    paths[`${base}/{name}/${sub}`] = { ...operations(res, ref, listRef, sub).item, parameters: common(true) };
  }
  return paths;
}

// ------------------------------------------------------------------ documents

function build(registry, gvPath) {
  const resources = registry.all().filter((r) => gvPathOf(r) === gvPath);
  if (resources.length === 0) return null;
  const custom = resources.filter((r) => r.crd);
  const builtin = resources.filter((r) => !r.crd);
  const schemas = builtinSchemas(builtin);
  crdSchemas(custom, schemas);
  const paths = {};
  for (const res of builtin) {
    const one = models.schemaOfKind(res.apiVersion, res.kind);
    if (!one) continue;
    const list = models.schemaOfKind(res.apiVersion, `${res.kind}List`);
    Object.assign(paths, resourcePaths(res, one.name, list ? list.name : one.name));
  }
  for (const res of custom) {
    const name = `${reverseGroup(res.group)}.${res.version}.${res.kind}`;
    Object.assign(paths, resourcePaths(res, name, `${name}List`));
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

function entry(registry, gvPath) {
  const cache = cacheOf(registry);
  if (!cache.has(gvPath)) {
    const doc = build(registry, gvPath);
    const hash = doc ? crypto.createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase() : null;
    cache.set(gvPath, { doc, hash });
  }
  return cache.get(gvPath);
}

// GET /openapi/v3
function openapiV3Index(registry) {
  const gvPaths = [...new Set(registry.all().map(gvPathOf))].sort();
  const paths = {};
  for (const p of gvPaths) {
    const e = entry(registry, p);
    if (e.doc) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${e.hash}` };
  }
  return { paths };
}

// GET /openapi/v3/<gvPath> ('api/v1', 'apis/apps/v1'); null when unknown.
function openapiV3Doc(registry, gvPath) {
  const p = String(gvPath || '').replace(/^\/+|\/+$/g, '').replace(/^openapi\/v3\//, '');
  return entry(registry, p).doc;
}

// The hash that the index advertises for a group-version (for ETag and
// Cache-Control: immutable when the request's ?hash= matches).
function openapiV3Hash(registry, gvPath) {
  return entry(registry, gvPath).hash;
}

module.exports = { openapiV3Index, openapiV3Doc, openapiV3Hash };
