'use strict';
// Writes through the API: create (POST), update (PUT) and patch (merge,
// strategic, JSON patch, server-side apply). Every write runs the same
// admission: type and namespace checks, unknown-field handling per
// fieldValidation, defaulting, RBAC escalation prevention for roles and
// bindings, validation (422 before anything is stored), and
// metadata.managedFields for the field manager; dryRun=All stores nothing.

const errors = require('./errors');
const { parseBool } = require('./selectors');
const ri = require('./requestinfo');
const { isDryRun } = require('./handlers');
const { now } = require('./store');

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function fieldManager(ctx) {
  const explicit = ctx.query.get('fieldManager');
  if (explicit !== null && explicit !== '') {
    if (explicit.length > 128) throw errors.badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
    return explicit;
  }
  const ua = ctx.req.headers['user-agent'] || '';
  return ua.split('/')[0] || 'unknown';
}

function fieldValidation(ctx) {
  const v = ctx.query.get('fieldValidation') || 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(v)) {
    throw errors.badRequest(`fieldValidation: invalid value "${v}", must be one of Ignore, Warn or Strict`);
  }
  return v;
}

async function readObject(ctx) {
  const body = ri.parseBody(await ri.readBody(ctx.req), ctx.req.headers['content-type']);
  if (body === undefined || body === null) throw errors.badRequest('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
  return body;
}

function checkTypeMeta(ctx, obj, res = ctx.resource) {
  if (typeof obj !== 'object' || Array.isArray(obj)) throw errors.badRequest('the body of the request must be a JSON object');
  if (obj.apiVersion && obj.apiVersion !== res.apiVersion) {
    throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${res.apiVersion})`);
  }
  if (obj.kind && obj.kind !== res.kind) {
    throw errors.badRequest(`${obj.kind} in version "${res.version}" cannot be handled as a ${res.kind}: no kind "${obj.kind}" is registered for version "${res.apiVersion}"`);
  }
  obj.apiVersion = res.apiVersion;
  obj.kind = res.kind;
  obj.metadata = obj.metadata || {};
}

function checkNamespace(ctx, obj) {
  const res = ctx.resource;
  if (!res.namespaced) { delete obj.metadata.namespace; return; }
  if (!ctx.namespace) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  if (obj.metadata.namespace && obj.metadata.namespace !== ctx.namespace) {
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  obj.metadata.namespace = ctx.namespace;
}

function checkName(ctx, obj) {
  if (obj.metadata.name && obj.metadata.name !== ctx.info.name) {
    throw errors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${ctx.info.name})`);
  }
  obj.metadata.name = ctx.info.name;
}

// Removes a field named like "spec.template.spec.containers[0].foo".
function deletePath(obj, path) {
  const parts = [];
  for (const seg of path.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(seg);
    if (!m) return;
    if (m[1]) parts.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) parts.push(Number(idx[1]));
  }
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return;
    cur = cur[p];
  }
  if (cur && typeof cur === 'object') delete cur[parts[parts.length - 1]];
}

// Unknown fields (per fieldValidation), defaulting and validation, in the
// order of the real server: decoding, defaulting, validation. -> obj
function admit(ctx, obj, old, { subresource = null } = {}) {
  const { mods } = ctx.server;
  const res = ctx.resource;
  // Status belongs to the status subresource, as in the real strategies'
  // PrepareForCreate/PrepareForUpdate: a create starts without one (a Pod as
  // Pending), a main-resource update keeps the stored one.
  if (res.hasStatus && subresource !== 'status') {
    if (!old) {
      if (res.kind === 'Pod' && res.group === '') obj.status = { phase: 'Pending' };
      else if (res.kind !== 'Namespace') delete obj.status;
    } else if (old.status !== undefined) obj.status = structuredClone(old.status);
    else delete obj.status;
  }
  const unknown = mods.validate.unknownFields(res, obj) || [];
  if (unknown.length) {
    const mode = fieldValidation(ctx);
    if (mode === 'Strict') {
      throw errors.badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    if (mode === 'Warn') for (const f of unknown) ctx.warnings.push(`unknown field "${f}"`);
    for (const f of unknown) deletePath(obj, f);
  }
  if (res.crd) mods.crd.defaultAndPrune(res, obj);
  else mods.defaults.applyDefaults(res, obj, old || undefined);
  if (!old && res.kind === 'Service' && res.group === '') allocateClusterIP(ctx, obj);
  checkRbacEscalation(ctx, obj, old);
  let causes = mods.validate.validate(res, obj, old || undefined) || [];
  const decode = causes.filter((c) => c.decode);
  if (decode.length) {
    const c = decode[0];
    throw errors.badRequest(`${res.kind} in version "${res.version}" cannot be handled as a ${res.kind}: ${c.field ? `${c.field}: ` : ''}${c.message}`);
  }
  if (subresource === 'status') causes = causes.filter((c) => !c.field || /^(status|metadata)(\.|\[|$)/.test(c.field));
  if (causes.length) throw errors.invalid(res, res.kind, obj.metadata.name || obj.metadata.generateName || '', causes);
  return obj;
}

// Roles and bindings: the RBAC storage's escalation prevention, which the
// real server runs after admission and before validation (an authenticator
// stand-in without RBAC skips it).
function checkRbacEscalation(ctx, obj, old) {
  const res = ctx.resource;
  const { auth } = ctx.server;
  if (res.crd || res.group !== RBAC_GROUP || !auth || typeof auth.checkRbacWrite !== 'function') return;
  auth.checkRbacWrite(ctx.user, {
    resource: res.plural, namespace: ctx.namespace || '', name: (ctx.info && ctx.info.name) || '',
  }, obj, old || null);
}

function allocateClusterIP(ctx, svc) {
  const { mods, store } = ctx.server;
  if (!mods.defaults.serviceNeedsClusterIP || !mods.defaults.serviceNeedsClusterIP(svc)) return;
  const used = store.list(ctx.resource, null).items.flatMap((s) => (s.spec && s.spec.clusterIPs) || (s.spec && s.spec.clusterIP ? [s.spec.clusterIP] : []));
  const ip = ctx.server.allocateClusterIP(used);
  svc.spec.clusterIP = ip;
  svc.spec.clusterIPs = [ip];
}

// managedFields after a write. As the real field manager does, managedFields
// sent with a main-resource write replace the stored ones (kubectl uses that
// to hand client-side-apply fields over to server-side apply), [{}] resets
// them, and none or an empty list keeps the stored ones.
function recordManager(ctx, old, obj, subresource) {
  const { ssa } = ctx.server.mods;
  const res = ctx.resource;
  const sent = obj.metadata.managedFields;
  let base = old;
  if (old && !subresource && Array.isArray(sent) && sent.length) {
    const reset = sent.length === 1 && Object.keys(sent[0] || {}).length === 0;
    base = { ...old, metadata: { ...old.metadata, managedFields: reset ? [] : sent } };
  }
  if (!old && Array.isArray(sent) && sent.length === 1 && Object.keys(sent[0] || {}).length === 0) delete obj.metadata.managedFields;
  obj.metadata.managedFields = ssa.recordUpdate(base, obj, {
    manager: fieldManager(ctx), operation: 'Update', apiVersion: res.apiVersion, now: now(), subresource: subresource || undefined,
    schema: schemaFor(ctx),
  });
  if (!obj.metadata.managedFields || !obj.metadata.managedFields.length) delete obj.metadata.managedFields;
}

function withType(res, obj) { return { apiVersion: res.apiVersion, kind: res.kind, ...obj }; }

async function create(ctx) {
  const res = ctx.resource;
  const obj = await readObject(ctx);
  checkTypeMeta(ctx, obj);
  checkNamespace(ctx, obj);
  const dryRun = isDryRun(ctx);
  fieldValidation(ctx);
  delete obj.metadata.resourceVersion;
  delete obj.metadata.uid; // the server's to choose (defaulting may, for a Job)
  admit(ctx, obj, null);
  recordManager(ctx, null, obj, null);
  const created = ctx.server.store.create(res, obj, { dryRun });
  ctx.server.send(ctx, 201, withType(res, created));
}

// Stores `obj` over `old` after admission (PUT and non-apply PATCH).
function store(ctx, old, obj, subresource) {
  const res = ctx.resource;
  const dryRun = isDryRun(ctx);
  admit(ctx, obj, old, { subresource });
  recordManager(ctx, old, obj, subresource);
  return withType(res, ctx.server.store.update(res, obj, { dryRun, subresource }));
}

async function update(ctx, subresource = null) {
  const obj = await readObject(ctx);
  checkTypeMeta(ctx, obj);
  checkNamespace(ctx, obj);
  checkName(ctx, obj);
  fieldValidation(ctx);
  const old = ctx.server.store.get(ctx.resource, ctx.namespace, ctx.info.name);
  ctx.server.send(ctx, 200, store(ctx, old, obj, subresource));
}

function patchType(ctx) {
  return String(ctx.req.headers['content-type'] || '').split(';')[0].trim();
}

function applyNonApplyPatch(ctx, type, old, body) {
  const { patch } = ctx.server.mods;
  const res = ctx.resource;
  try {
    switch (type) {
      case 'application/merge-patch+json':
        if (typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('a merge patch must be a JSON object');
        return patch.jsonMergePatch(old, body);
      case 'application/json-patch+json':
        if (!Array.isArray(body)) throw errors.badRequest('a JSON patch must be an array of operations');
        return patch.jsonPatch(old, body);
      case 'application/strategic-merge-patch+json':
        if (res.crd) {
          const u = patch.strategicMergeUnsupported(res);
          throw new errors.ApiError(u.code, u.reason, u.message);
        }
        if (typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('a strategic merge patch must be a JSON object');
        return patch.strategicMergePatch(old, body, schemaFor(ctx));
      default:
        throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${res.crd ? '' : ', application/strategic-merge-patch+json'}`);
    }
  } catch (e) {
    if (e instanceof errors.ApiError) throw e;
    if (e && e.name === 'PatchError') throw new errors.ApiError(e.code, e.reason, e.message);
    throw errors.invalid(res, res.kind, ctx.info.name, [{ field: 'patch', message: e.message }]);
  }
}

// Patch metadata (list merge keys and strategies) of the resource's kind.
function schemaFor(ctx) {
  const { patchmeta } = ctx.server.mods;
  const res = ctx.resource;
  return res.crd ? patchmeta.patchMetaFromCRD(res.crd, res.version) : patchmeta.patchMetaFor(res.apiVersion, res.kind);
}

function lastAppliedCovers(ctx, live, conflicts, schema) {
  const text = live && live.metadata && live.metadata.annotations && live.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
  if (!text) return false;
  try {
    const { pathString } = require('./fieldset'); // eslint-disable-line global-require
    const set = ctx.server.mods.ssa.toFieldSet(JSON.parse(text), schema);
    const paths = new Set(set.toArrays().map(pathString));
    return conflicts.every((c) => paths.has(c.path));
  } catch (e) {
    return false;
  }
}

async function serverSideApply(ctx, old, applied, subresource) {
  const { ssa } = ctx.server.mods;
  const res = ctx.resource;
  const manager = ctx.query.get('fieldManager');
  if (!manager) throw errors.invalid(null, 'PatchOptions.meta.k8s.io', '', [{ field: 'fieldManager', message: 'Required value: is required for apply patch', reason: 'FieldValueRequired' }]);
  if (typeof applied !== 'object' || Array.isArray(applied)) throw errors.badRequest('an apply patch must be an object');
  if (!applied.apiVersion || !applied.kind) throw errors.badRequest('apiVersion and kind must be set in an apply patch');
  checkTypeMeta(ctx, applied);
  checkNamespace(ctx, applied);
  checkName(ctx, applied);
  const force = parseBool(ctx.query.get('force'));
  fieldValidation(ctx);
  let result;
  const opts = { manager, force, schema: schemaFor(ctx), now: now(), subresource: subresource || undefined };
  try {
    try {
      result = ssa.apply(old, applied, opts);
    } catch (e) {
      // kubectl's move from client-side to server-side apply: conflicts on
      // fields of the last-applied configuration are forced (as the real
      // lastAppliedManager does, for the "kubectl" manager only).
      if (!(e && Array.isArray(e.conflicts) && manager === 'kubectl' && lastAppliedCovers(ctx, old, e.conflicts, opts.schema))) throw e;
      result = ssa.apply(old, applied, { ...opts, force: true });
    }
  } catch (e) {
    // ssa.apply's ApplyConflictError carries the real text ("Apply failed
    // with N conflict(s): ...") and its metav1 causes.
    if (e && Array.isArray(e.conflicts)) {
      const d = { name: ctx.info.name, kind: res.plural, causes: e.causes };
      if (res.group) d.group = res.group;
      throw new errors.ApiError(409, 'Conflict', e.message, d);
    }
    throw e;
  }
  const obj = result.object;
  obj.metadata = obj.metadata || {};
  obj.metadata.managedFields = result.managedFields;
  const dryRun = isDryRun(ctx);
  admit(ctx, obj, old, { subresource });
  if (!old) {
    delete obj.metadata.resourceVersion;
    return { code: 201, obj: withType(res, ctx.server.store.create(res, obj, { dryRun })) };
  }
  return { code: 200, obj: withType(res, ctx.server.store.update(res, obj, { dryRun, subresource })) };
}

// PATCH of the object or of its status subresource.
async function patch(ctx, subresource = null) {
  const res = ctx.resource;
  const type = patchType(ctx);
  const body = ri.parseBody(await ri.readBody(ctx.req), type);
  if (body === undefined) throw errors.badRequest('empty patch');
  const old = ctx.server.store.tryGet(res, ctx.namespace, ctx.info.name);
  if (type === 'application/apply-patch+yaml') {
    if (subresource && !old) throw errors.notFound(res, ctx.info.name);
    const { code, obj } = await serverSideApply(ctx, old, body, subresource);
    return ctx.server.send(ctx, code, obj);
  }
  if (!old) throw errors.notFound(res, ctx.info.name);
  fieldValidation(ctx);
  const patched = applyNonApplyPatch(ctx, type, old, body);
  if (!patched || typeof patched !== 'object' || !patched.metadata) throw errors.badRequest('the patch removed the object metadata');
  if (patched.metadata.name !== old.metadata.name) throw errors.badRequest('metadata.name: Invalid value: the name of an object cannot be changed by a patch');
  if (res.namespaced && patched.metadata.namespace !== old.metadata.namespace) {
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  checkTypeMeta(ctx, patched);
  return ctx.server.send(ctx, 200, store(ctx, old, patched, subresource));
}

module.exports = { create, update, patch, store, admit, fieldManager, readObject, checkTypeMeta, withType, deletePath };
