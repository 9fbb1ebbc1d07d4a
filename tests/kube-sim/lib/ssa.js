'use strict';
// Server-side apply and field ownership (metadata.managedFields), with the semantics of the API server's
// structured-merge-diff: an applier owns exactly the fields of its applied configuration; changing a field
// another manager owns is a conflict unless forced; fields an applier stops applying are removed unless
// someone else owns them; ordinary writes (create/update/patch) give the writer the fields it changed.

const { FieldMeta, patchMetaFor, zeroObject } = require('./patchmeta');
const { FieldSet, toFieldsV1, fromFieldsV1, fieldPE, valuePE, keyPE, pathString, comparePaths } = require('./fieldset');

const { clone, isObj, deepEqual: same, dropNulls } = require('./jsonutil');

// Paths never owned by anyone (the API server strips them from every field set).
const STRIPPED = [['f:apiVersion'], ['f:kind'], ['f:metadata'], ...['name', 'namespace', 'creationTimestamp',
  'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['f:metadata', 'f:' + f])];
const SERVER_SET_META = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink'];

class ApplyConflictError extends Error {
  constructor(conflicts) {
    super(conflictMessage(conflicts));
    this.name = 'ApplyConflictError';
    this.code = 409;
    this.reason = 'Conflict';
    // [{manager: 'name', operation, apiVersion, subresource, path: '.spec.replicas', printed: '"name" using v1'}]
    this.conflicts = conflicts.map(({ id, ...c }) => c);
    // metav1.StatusCause objects (JSON field 'reason' holds the cause type), for Status.details.causes.
    this.causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${c.printed}`, field: c.path }));
  }
}

function conflictMessage(conflicts) {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${conflicts[0].printed}: ${conflicts[0].path}`;
  const by = new Map();
  for (const c of conflicts) { if (!by.has(c.id)) by.set(c.id, c); }
  const lines = [];
  for (const id of [...by.keys()].sort()) {
    lines.push(`conflicts with ${by.get(id).printed}:`);
    for (const c of conflicts) if (c.id === id) lines.push(`- ${c.path}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

// ---------------------------------------------------------------- field sets of objects
function itemPE(item, meta) {
  if (meta.listType === 'set') {
    if (item === null || typeof item === 'object') throw new Error('a set may only hold scalar values');
    return valuePE(item);
  }
  if (!isObj(item)) throw new Error('associative list with keys may not have non-map elements');
  const fields = {};
  for (const k of meta.listKeys) {
    if (item[k] !== undefined) fields[k] = item[k];
    else if (meta.keyDefault(k) !== undefined) fields[k] = meta.keyDefault(k);
  }
  if (!Object.keys(fields).length) {
    throw new Error(`associative list with keys has an element that omits all key fields ${JSON.stringify(meta.listKeys)}`);
  }
  return keyPE(fields);
}

// The fields a configuration sets, as the API server computes them (leaves, list items, map entries,
// atomic values; struct fields only when empty).
// opts.lenient: list items whose path element cannot be computed are skipped instead of refused.
function toFieldSet(obj, meta, opts = {}) {
  const set = new FieldSet();
  const walk = (v, m, path) => {
    if (Array.isArray(v)) {
      if (m.listType === 'atomic') { set.add(path); return; }
      const im = m.item();
      const seen = new Set();
      for (const it of v) {
        let pe;
        try { pe = itemPE(it, m); } catch (e) { if (opts.lenient) continue; throw e; }
        if (seen.has(pe)) continue;
        seen.add(pe);
        walk(it, im, path.concat(pe));
        set.add(path.concat(pe));
      }
      return;
    }
    if (isObj(v)) {
      if (m.atomic && path.length) { set.add(path); return; }
      for (const [k, x] of Object.entries(v)) {
        const cm = m.child(k);
        const p = path.concat(fieldPE(k));
        walk(x, cm, p);
        if (x === null || (isObj(x) && !Object.keys(x).length) || cm.mapEntry) set.add(p);
      }
      return;
    }
    set.add(path);
  };
  walk(obj, meta, []);
  return set;
}

function indexItems(list, meta) {
  const pes = []; const map = new Map();
  for (const it of list || []) {
    const pe = itemPE(it, meta);
    if (!map.has(pe)) map.set(pe, it);
    pes.push(pe);
  }
  return { pes, map };
}

// Differences between two objects: {added, modified, removed} field sets.
function compare(lhs, rhs, meta) {
  const r = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const walk = (l, rv, m, path) => {
    if (l === undefined && rv === undefined) return;
    const container = (x) => Array.isArray(x) || isObj(x);
    const granularList = (Array.isArray(l) || Array.isArray(rv)) && m.listType !== 'atomic';
    const granularMap = (isObj(l) || isObj(rv)) && !(m.atomic && path.length);
    const compatible = (Array.isArray(l) || l === null || l === undefined) && (Array.isArray(rv) || rv === null || rv === undefined);
    const compatibleMap = (isObj(l) || l === null || l === undefined) && (isObj(rv) || rv === null || rv === undefined);
    if (granularList && compatible && (container(l) || container(rv))) {
      const im = m.item();
      const li = indexItems(l, m); const ri = indexItems(rv, m);
      for (const pe of new Set([...li.pes, ...ri.pes])) walk(li.map.get(pe), ri.map.get(pe), im, path.concat(pe));
    } else if (granularMap && compatibleMap && (container(l) || container(rv))) {
      for (const k of new Set([...Object.keys(l || {}), ...Object.keys(rv || {})])) {
        walk(l ? l[k] : undefined, rv ? rv[k] : undefined, m.child(k), path.concat(fieldPE(k)));
      }
    } else {
      if (l === undefined) r.added.add(path);
      else if (rv === undefined) r.removed.add(path);
      else if (!same(l, rv)) r.modified.add(path);
      return;
    }
    if (!path.length) return;
    if (l === undefined) r.added.add(path);
    else if (rv === undefined) r.removed.add(path);
  };
  walk(lhs, rhs, meta, []);
  return r;
}

// ---------------------------------------------------------------- merging and removal
function mergeValues(l, r, m) {
  if (r === undefined) return clone(l);
  if (l === undefined || l === null) return clone(r);
  if (Array.isArray(l) && Array.isArray(r) && m.listType !== 'atomic') return mergeLists(l, r, m);
  if (isObj(l) && isObj(r) && !m.atomic) {
    const out = {};
    for (const k of Object.keys(l)) out[k] = mergeValues(l[k], r[k], m.child(k));
    for (const k of Object.keys(r)) if (!(k in out)) out[k] = mergeValues(undefined, r[k], m.child(k));
    return out;
  }
  return clone(r);
}

// Items of both lists; the applied order wins for applied items, live-only items keep their place
// relative to their neighbours.
function mergeLists(l, r, m) {
  const im = m.item();
  const L = indexItems(l, m); const R = indexItems(r, m);
  const shared = R.pes.filter((pe) => L.map.has(pe));
  let s = 0;
  const out = []; const done = new Set();
  let li = 0; let ri = 0;
  while (li < L.pes.length || ri < R.pes.length) {
    if (li < L.pes.length && ri < R.pes.length) {
      const pe = L.pes[li];
      if (pe === R.pes[ri]) {
        done.add(pe); out.push(mergeValues(L.map.get(pe), R.map.get(pe), im)); li++; ri++; s++;
        continue;
      }
      if (R.map.has(pe) && s < shared.length && shared[s] !== pe) { li++; continue; }
    }
    if (li < L.pes.length) {
      const pe = L.pes[li];
      if (!R.map.has(pe)) { out.push(clone(l[li])); li++; continue; }
      if (done.has(pe)) li++;
    }
    if (ri < R.pes.length) {
      const pe = R.pes[ri];
      done.add(pe);
      out.push(mergeValues(L.map.get(pe), R.map.get(pe), im));
      ri++;
      if (s < shared.length && shared[s] === pe) s++;
    }
  }
  return out;
}

// Removes the given paths (and everything below them) as structured-merge-diff's RemoveItems does: a map
// or list whose every member is removed is left as null, which dropNulls() clears afterwards.
function removeItems(value, set, meta) {
  const prefixes = set.prefixes();
  const walk = (v, m, path) => {
    if (Array.isArray(v)) {
      if (!v.length || m.listType === 'atomic') return null;
      const im = m.item();
      const out = [];
      for (const it of v) {
        let pe;
        try { pe = itemPE(it, m); } catch (e) { out.push(clone(it)); continue; }
        const p = path.concat(pe);
        const k = FieldSet.key(p);
        if (set.has(k)) continue;
        out.push(prefixes.has(k) ? walk(it, im, p) : clone(it));
      }
      return out.length ? out : null;
    }
    if (isObj(v)) {
      if (!Object.keys(v).length || (m.atomic && path.length)) return null;
      const out = {};
      for (const [key, x] of Object.entries(v)) {
        const p = path.concat(fieldPE(key));
        const k = FieldSet.key(p);
        if (set.has(k)) continue;
        out[key] = prefixes.has(k) ? walk(x, m.child(key), p) : clone(x);
      }
      return Object.keys(out).length ? out : null;
    }
    return clone(v);
  };
  return walk(value, meta, []);
}

// structured-merge-diff's EnsureNamedFieldsAreMembers: a struct field (a field the schema names, as opposed
// to an entry of a map) with something below it in the set is made a member of the set as well.
function ensureNamedFieldsAreMembers(set, meta) {
  const out = new FieldSet();
  for (const path of set.toArrays()) {
    out.add(path);
    let m = meta;
    for (let i = 0; i < path.length - 1; i++) {
      const pe = path[i];
      if (pe.startsWith('f:')) {
        m = m.child(pe.slice(2));
        if (!m.mapEntry) out.add(path.slice(0, i + 1));
      } else m = m.item();
    }
  }
  return out;
}

// The field set of a stored object; list items whose key cannot be computed are left out.
function objectFieldSet(obj, meta) {
  return toFieldSet(obj, meta, { lenient: true });
}

// structured-merge-diff's Updater.prune: removes from `merged` what the applier owned last time (lastSet),
// no longer applies and no manager (the applier's new configuration included, in `managed`) owns; what was
// removed along with it but was never the applier's is added back.
function prune(merged, lastSet, managed, meta) {
  if (!lastSet || lastSet.empty()) return merged;
  const E = (s) => ensureNamedFieldsAreMembers(s, meta);
  const last = E(lastSet);
  const mergedSet = E(objectFieldSet(merged, meta));
  // removeItems of the previously applied set; then add back what any manager owns ...
  const pruned = removeItems(merged, last, meta);
  const prunedSet = E(objectFieldSet(pruned, meta));
  const ownedBack = removeItems(merged, mergedSet.difference(prunedSet.union(E(managed))), meta);
  // ... and what the applier never owned (dangling items).
  const keptSet = E(objectFieldSet(ownedBack, meta));
  return removeItems(merged, mergedSet.difference(keptSet).intersection(last), meta);
}


// ---------------------------------------------------------------- managedFields entries
function identity(e) {
  const id = { manager: e.manager, operation: e.operation };
  if (e.operation !== 'Apply') id.apiVersion = e.apiVersion;
  if (e.subresource) id.subresource = e.subresource;
  return JSON.stringify(id);
}

function printManager(e) {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

function decodeManagedFields(list) {
  return (list || []).filter((e) => e && e.manager !== undefined && e.fieldsType === 'FieldsV1').map((e) => ({
    manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time,
    subresource: e.subresource || '', set: fromFieldsV1(e.fieldsV1 || {}),
  }));
}

function encodeManagedFields(entries) {
  const secs = (t) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  const sorted = entries.filter((e) => !e.set.empty()).sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    if (secs(p.time) !== secs(q.time)) return secs(p.time) - secs(q.time);
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return (p.apiVersion || '') < (q.apiVersion || '') ? -1 : 1;
    return p.subresource < q.subresource ? -1 : p.subresource > q.subresource ? 1 : 0;
  });
  return sorted.map((e) => {
    const out = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
    if (e.time) out.time = e.time;
    out.fieldsType = 'FieldsV1';
    out.fieldsV1 = toFieldsV1(e.set);
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

function rfc3339(now) {
  const d = now instanceof Date ? now : now ? new Date(now) : new Date();
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The part of an object a write may own: server-set metadata dropped; .status only through the status
// subresource, and only .status there.
function ownable(obj, subresource, ignoreStatus) {
  const o = clone(obj) || {};
  if (isObj(o.metadata)) for (const f of SERVER_SET_META) delete o.metadata[f];
  if (subresource === 'status') {
    const keep = { apiVersion: o.apiVersion, kind: o.kind, status: o.status };
    if (isObj(o.metadata)) keep.metadata = { name: o.metadata.name, namespace: o.metadata.namespace };
    return dropUndefined(keep);
  }
  if (ignoreStatus) delete o.status;
  return o;
}
function withZero(obj, zero) {
  for (const [k, z] of Object.entries(zero)) {
    if (obj[k] === undefined) obj[k] = clone(z);
    else if (isObj(obj[k]) && isObj(z)) withZero(obj[k], z);
  }
  return obj;
}
const dropUndefined = (o) => { for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k]; return o; };

function stripSet(set) {
  let s = set;
  for (const p of STRIPPED) s = s.difference(new FieldSet([p]));
  return s;
}

function schemaFor(obj, opts) {
  if (opts.schema) return opts.schema;
  return (obj && patchMetaFor(obj.apiVersion, obj.kind)) || new FieldMeta({});
}

// ---------------------------------------------------------------- apply
// live: the stored object or null (create); applied: the configuration sent with apply-patch+yaml.
// opts: {manager, force, schema, now, apiVersion, subresource, ignoreStatus (default true)}
function apply(live, applied, opts = {}) {
  if (!opts.manager) throw new Error('fieldManager is required for apply patch');
  if (!isObj(applied)) throw new Error('applied configuration must be an object');
  const meta = schemaFor(applied, opts);
  const sub = opts.subresource || '';
  const ignoreStatus = opts.ignoreStatus !== false && !sub;
  const apiVersion = opts.apiVersion || applied.apiVersion || (live && live.apiVersion);
  const entries = decodeManagedFields(live && live.metadata && live.metadata.managedFields);
  const me = { manager: opts.manager, operation: 'Apply', apiVersion, subresource: sub };
  const myId = identity(me);
  const prev = entries.find((e) => identity(e) === myId);

  const config = ownable(applied, sub, ignoreStatus);
  const newSet = stripSet(toFieldSet(config, meta));
  const base = live ? clone(live) : {};
  if (base.metadata) delete base.metadata.managedFields;
  let merged = mergeValues(base, config, meta);

  const others = entries.filter((e) => identity(e) !== myId);
  if (prev) {
    // Every manager's fields count as owned, the applier's new configuration included, and so do the
    // fields the API server keeps out of field sets (apiVersion, kind, metadata.name...).
    const managed = others.reduce((acc, e) => acc.union(e.set), newSet).union(new FieldSet(STRIPPED));
    merged = prune(merged, prev.set, managed, meta) || {};
  }
  merged = dropNulls(merged);

  const before = live ? clone(live) : {};
  if (before.metadata) delete before.metadata.managedFields;
  const diff = compare(ownable(before, sub, ignoreStatus), ownable(merged, sub, ignoreStatus), meta);
  const changed = diff.added.union(diff.modified);
  const conflicts = [];
  for (const e of others) {
    for (const p of e.set.intersection(changed).toArrays()) conflicts.push({ id: identity(e), entry: e, path: p });
  }
  if (conflicts.length && !opts.force) {
    conflicts.sort((a, b) => (a.id !== b.id ? (a.id < b.id ? -1 : 1) : comparePaths(a.path, b.path)));
    throw new ApplyConflictError(conflicts.map((c) => dropUndefined({
      id: c.id, manager: c.entry.manager, operation: c.entry.operation,
      apiVersion: c.entry.operation === 'Update' ? c.entry.apiVersion : undefined,
      subresource: c.entry.subresource || undefined, path: pathString(c.path), printed: printManager(c.entry),
    })));
  }
  for (const e of others) e.set = e.set.difference(changed).difference(diff.removed);
  const mine = Object.assign(prev || me, { apiVersion, time: rfc3339(opts.now), set: newSet });
  const all = others.concat([mine]);
  const managedFields = encodeManagedFields(all);
  const object = merged;
  object.metadata = object.metadata || {};
  object.metadata.managedFields = managedFields;
  return { object, managedFields };
}

// ---------------------------------------------------------------- ordinary writes
// old: the stored object (null for create); updated: what will be stored.
// opts: {manager, operation ('Update'), apiVersion, now, schema, subresource, ignoreStatus}
// Returns the new managedFields list (the caller stores it in updated.metadata.managedFields).
function recordUpdate(old, updated, opts = {}) {
  const manager = opts.manager || 'unknown';
  const apiVersion = opts.apiVersion || (updated && updated.apiVersion);
  const sub = opts.subresource || '';
  const ignoreStatus = opts.ignoreStatus !== undefined ? opts.ignoreStatus && !sub : false;
  const meta = schemaFor(updated, opts);
  const entries = decodeManagedFields((old && old.metadata && old.metadata.managedFields) ||
    (!old && updated && updated.metadata && updated.metadata.managedFields));
  const me = { manager, operation: opts.operation || 'Update', apiVersion, subresource: sub };
  const myId = identity(me);

  // The API server compares typed objects: fields that always exist in a Go object of the kind (value
  // structs, non-omitempty fields) are never "added", even on create or when the stored JSON lacks them.
  const before = withZero(old ? clone(old) : {}, zeroObject(updated.apiVersion, updated.kind));
  if (before.metadata) delete before.metadata.managedFields;
  const after = clone(updated);
  if (after.metadata) delete after.metadata.managedFields;
  const diff = compare(ownable(before, sub, ignoreStatus), ownable(after, sub, ignoreStatus), meta);
  const changed = stripSet(diff.added.union(diff.modified));

  let mine = entries.find((e) => identity(e) === myId);
  const others = entries.filter((e) => e !== mine);
  for (const e of others) e.set = e.set.difference(changed).difference(diff.removed);
  const prevSet = mine ? mine.set : new FieldSet();
  const newSet = stripSet(prevSet.difference(diff.removed).union(changed));
  if (!mine) mine = me;
  if (!newSet.equals(prevSet) || !mine.time) mine.time = rfc3339(opts.now);
  mine.apiVersion = apiVersion;
  mine.set = newSet;
  return encodeManagedFields(others.concat([mine]));
}

module.exports = {
  apply, recordUpdate, ApplyConflictError, toFieldSet, compare, decodeManagedFields, encodeManagedFields,
};
