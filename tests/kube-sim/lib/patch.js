'use strict';
// The three patch types the API server accepts besides apply: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902) and Kubernetes strategic merge patch. Pure functions: inputs are never modified.

const { FieldMeta } = require('./patchmeta');

// An error the API server turns into a Status: code 422 (the patch does not apply to the object) or
// 400 (the patch document itself is malformed).
class PatchError extends Error {
  constructor(message, code = 422) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
    this.reason = code === 400 ? 'BadRequest' : 'Invalid';
  }
}

const { clone, isObj, deepEqual, dropNulls } = require('./jsonutil');

// ---------------------------------------------------------------- RFC 7386
function jsonMergePatch(target, patch) {
  if (!isObj(patch)) return clone(patch);
  const out = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k], v);
  }
  return out;
}

// ---------------------------------------------------------------- RFC 6902
function parsePointer(ptr) {
  if (typeof ptr !== 'string') throw new PatchError(`invalid JSON pointer: ${JSON.stringify(ptr)}`, 400);
  if (ptr === '') return [];
  if (ptr[0] !== '/') throw new PatchError(`JSON pointer must start with "/": "${ptr}"`, 400);
  return ptr.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr, tok, ptr, forAdd) {
  if (forAdd && tok === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(tok)) throw new PatchError(`invalid array index "${tok}" in path "${ptr}"`);
  const i = Number(tok);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(`array index ${i} out of bounds in path "${ptr}"`);
  return i;
}

// Returns [container, token] for the parent of ptr inside doc.
function locateParent(doc, tokens, ptr, op) {
  let cur = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, ptr, false)];
    else if (isObj(cur) && Object.prototype.hasOwnProperty.call(cur, t)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined || cur === null || typeof cur !== 'object') {
      throw new PatchError(`${op} operation does not apply: doc is missing path: "${ptr}": missing value`);
    }
  }
  return cur;
}

function getAt(doc, ptr, op) {
  const tokens = parsePointer(ptr);
  if (tokens.length === 0) return doc;
  const parent = locateParent(doc, tokens, ptr, op);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, ptr, false)];
  if (!Object.prototype.hasOwnProperty.call(parent, last)) {
    throw new PatchError(`${op} operation does not apply: doc is missing key: ${ptr}: missing value`);
  }
  return parent[last];
}

function jsonPatch(target, ops) {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be a JSON array of operations', 400);
  let doc = clone(target);
  ops.forEach((op, n) => {
    if (!isObj(op) || typeof op.op !== 'string') throw new PatchError(`invalid JSON patch operation at index ${n}: missing "op"`, 400);
    if (typeof op.path !== 'string') throw new PatchError(`invalid JSON patch operation at index ${n}: missing "path"`, 400);
    const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
    if (needsValue && !('value' in op)) throw new PatchError(`invalid JSON patch operation at index ${n}: "${op.op}" requires "value"`, 400);
    switch (op.op) {
      case 'add': doc = addAt(doc, op.path, clone(op.value), 'add'); break;
      case 'remove': doc = removeAt(doc, op.path, 'remove').doc; break;
      case 'replace': {
        getAt(doc, op.path, 'replace');
        doc = setExisting(doc, op.path, clone(op.value));
        break;
      }
      case 'move': {
        if (typeof op.from !== 'string') throw new PatchError(`invalid JSON patch operation at index ${n}: "move" requires "from"`, 400);
        if (op.path !== op.from && op.path.startsWith(op.from + '/')) {
          throw new PatchError(`move operation does not apply: "from" ${op.from} is a prefix of "path" ${op.path}`);
        }
        const r = removeAt(doc, op.from, 'move');
        doc = addAt(r.doc, op.path, r.value, 'move');
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string') throw new PatchError(`invalid JSON patch operation at index ${n}: "copy" requires "from"`, 400);
        doc = addAt(doc, op.path, clone(getAt(doc, op.from, 'copy')), 'copy');
        break;
      }
      case 'test': {
        let cur;
        try { cur = getAt(doc, op.path, 'test'); } catch (e) { throw new PatchError(`testing value ${op.path} failed: ${e.message}`); }
        if (!deepEqual(cur, op.value)) throw new PatchError(`testing value ${op.path} failed: test failed`);
        break;
      }
      default: throw new PatchError(`unexpected JSON patch operation "${op.op}" at index ${n}`, 400);
    }
  });
  return doc;
}

function addAt(doc, ptr, value, op) {
  const tokens = parsePointer(ptr);
  if (tokens.length === 0) return value;
  const parent = locateParent(doc, tokens, ptr, op);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, ptr, true), 0, value);
  else parent[last] = value;
  return doc;
}

function setExisting(doc, ptr, value) {
  const tokens = parsePointer(ptr);
  if (tokens.length === 0) return value;
  const parent = locateParent(doc, tokens, ptr, 'replace');
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent[arrayIndex(parent, last, ptr, false)] = value;
  else parent[last] = value;
  return doc;
}

function removeAt(doc, ptr, op) {
  const tokens = parsePointer(ptr);
  if (tokens.length === 0) throw new PatchError(`${op} operation does not apply: cannot remove the whole document`);
  const parent = locateParent(doc, tokens, ptr, op);
  const last = tokens[tokens.length - 1];
  let value;
  if (Array.isArray(parent)) value = parent.splice(arrayIndex(parent, last, ptr, false), 1)[0];
  else {
    if (!Object.prototype.hasOwnProperty.call(parent, last)) {
      throw new PatchError(`${op} operation does not apply: doc is missing path: "${ptr}": missing value`);
    }
    value = parent[last];
    delete parent[last];
  }
  return { doc, value };
}

// ---------------------------------------------------------------- strategic merge patch
const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

// Custom resources have no patch metadata, so the API server refuses strategic merge patches for them.
function strategicMergeUnsupported(res) {
  if (!res || !res.crd) return null;
  return {
    code: 415,
    reason: 'UnsupportedMediaType',
    message: 'the body of the request was in an unknown format - accepted media types include: ' +
      'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
  };
}

// meta: a FieldMeta (patchMetaFor(apiVersion, kind)); without one every list is replaced.
function strategicMergePatch(target, patch, meta) {
  if (!isObj(patch)) throw new PatchError('strategic merge patch must be a JSON object', 400);
  return mergeMap(isObj(target) ? clone(target) : {}, clone(patch), meta || new FieldMeta({}));
}

function mergeMap(original, patch, meta) {
  if (DIRECTIVE in patch) {
    const d = patch[DIRECTIVE];
    if (d === 'replace') { delete patch[DIRECTIVE]; return stripDirectives(patch); }
    if (d === 'delete') return {};
    if (d !== 'merge') throw new PatchError(`Unknown patch type: ${d} in map: ${JSON.stringify(patch)}`, 400);
    delete patch[DIRECTIVE];
  }
  applyRetainKeys(original, patch);
  applySetElementOrder(original, patch, meta);

  for (let [k, pv] of Object.entries(patch)) {
    let deleteList = false;
    if (k.startsWith(DELETE_PRIMITIVE)) { k = k.slice(DELETE_PRIMITIVE.length); deleteList = true; }
    if (pv === null) { delete original[k]; continue; }
    const child = meta.child(k);
    if (deleteList) {
      if (!Array.isArray(pv)) throw new PatchError(`invalid ${DELETE_PRIMITIVE}${k}: must be a list`, 400);
      if (Array.isArray(original[k])) original[k] = original[k].filter((x) => !pv.some((d) => deepEqual(d, x)));
      continue;
    }
    const ov = original[k];
    const sameKind = (Array.isArray(ov) && Array.isArray(pv)) || (isObj(ov) && isObj(pv));
    if (ov === undefined || !sameKind) {
      const v = stripDirectives(dropNulls(pv));
      if (v === undefined) delete original[k]; else original[k] = v;
      continue;
    }
    if (isObj(pv)) {
      original[k] = child.patchStrategies.includes('replace') ? stripDirectives(pv) : mergeMap(ov, pv, child);
    } else {
      original[k] = child.patchStrategies.includes('merge') ? mergeList(ov, pv, child) : stripDirectives(pv);
    }
  }
  return original;
}

function applyRetainKeys(original, patch) {
  if (!(RETAIN_KEYS in patch)) return;
  const keep = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(keep)) throw new PatchError('invalid patch: $retainKeys must be a list of field names', 400);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PRIMITIVE) || k.startsWith(SET_ORDER)) continue;
    if (!keep.includes(k)) throw new PatchError(`invalid patch: field "${k}" is not listed in $retainKeys`, 400);
  }
  for (const k of Object.keys(original)) if (!keep.includes(k)) delete original[k];
}

// $setElementOrder/<field>: the merged list is ordered as listed; items only on the server keep their
// place relative to their neighbours in the live list.
function applySetElementOrder(original, patch, meta) {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    const field = key.slice(SET_ORDER.length);
    if (!Array.isArray(order)) throw new PatchError(`invalid patch: ${key} must be a list`, 400);
    const child = meta.child(field);
    const mk = child.patchMergeKey;
    const inOrig = Array.isArray(original[field]);
    const inPatch = Array.isArray(patch[field]);
    let merged;
    if (inOrig && inPatch) merged = child.patchStrategies.includes('merge') ? mergeList(original[field], patch[field], child) : stripDirectives(patch[field]);
    else if (inPatch) merged = stripDirectives(patch[field]);
    else if (inOrig) merged = original[field];
    else continue;
    delete patch[field];
    const present = (x) => order.some((o) => sameItem(o, x, mk));
    original[field] = orderItems(merged.filter(present), merged.filter((x) => !present(x)), order,
      inOrig ? original[field] : [], mk);
  }
}

function sameItem(a, b, mk) {
  if (!mk) return deepEqual(a, b);
  return isObj(a) && isObj(b) && mk in a && mk in b && deepEqual(a[mk], b[mk]);
}
const indexIn = (list, x, mk) => list.findIndex((y) => sameItem(y, x, mk));

// Patch items sorted by patch order, server-only items by live order, then interleaved by live order.
function orderItems(patchItems, serverOnly, patchOrder, serverOrder, mk) {
  const sortBy = (items, order) => items.map((x, i) => [x, i]).sort((a, b) => {
    const ia = indexIn(order, a[0], mk); const ib = indexIn(order, b[0], mk);
    return ia >= 0 && ib >= 0 ? ia - ib : a[1] - b[1];
  }).map((p) => p[0]);
  const left = sortBy(serverOnly, serverOrder);
  const right = sortBy(patchItems, patchOrder);
  const out = [];
  let i = 0; let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mk); const ri = indexIn(serverOrder, right[j], mk);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]); else out.push(right[j++]);
    }
  }
  return out;
}

function mergeList(original, patch, meta) {
  if (original.length === 0 && patch.length === 0) return original;
  const mk = meta.patchMergeKey;
  const sample = patch.length ? patch[0] : original[0];
  let merged;
  let cleanPatch = patch;
  if (!isObj(sample)) {
    merged = [];
    for (const x of original.concat(patch)) if (!merged.some((y) => deepEqual(x, y))) merged.push(x);
  } else {
    if (!mk) throw new PatchError('cannot merge lists without merge key', 400);
    let orig = original.slice();
    cleanPatch = [];
    let replace = false;
    for (const item of patch) {
      if (!isObj(item)) throw new PatchError(`invalid list item in patch: ${JSON.stringify(item)}`, 400);
      if (!(DIRECTIVE in item)) { cleanPatch.push(item); continue; }
      const d = item[DIRECTIVE];
      if (d === 'delete') {
        if (!(mk in item)) throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mk}`, 400);
        orig = orig.filter((o) => !(isObj(o) && deepEqual(o[mk], item[mk])));
      } else if (d === 'replace') replace = true;
      else if (d === 'merge') throw new PatchError('merging lists cannot yet be specified in the patch', 400);
      else throw new PatchError(`Unknown patch type: ${d} in map: ${JSON.stringify(item)}`, 400);
    }
    if (replace) return stripDirectives(cleanPatch);
    const item = meta.item();
    merged = orig;
    for (const p of cleanPatch) {
      if (!(mk in p)) throw new PatchError(`map: ${JSON.stringify(p)} does not contain declared merge key: ${mk}`, 400);
      const at = merged.findIndex((o) => isObj(o) && deepEqual(o[mk], p[mk]));
      if (at >= 0) merged[at] = mergeMap(merged[at], p, item);
      else merged.push(stripDirectives(dropNulls(p)));
    }
  }
  const inPatch = (x) => cleanPatch.some((p) => sameItem(p, x, mk));
  return orderItems(merged.filter(inPatch), merged.filter((x) => !inPatch(x)), cleanPatch, original, mk);
}

// A new value taken from the patch: maps carrying $patch vanish (as on the real server), other directive keys
// are dropped (they only mean something while merging).
function stripDirectives(v) {
  if (Array.isArray(v)) return v.filter((x) => !(isObj(x) && DIRECTIVE in x)).map(stripDirectives);
  if (!isObj(v)) return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    if (isObj(x) && DIRECTIVE in x) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}


module.exports = { jsonMergePatch, jsonPatch, strategicMergePatch, strategicMergeUnsupported, PatchError };
