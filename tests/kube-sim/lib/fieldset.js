'use strict';
// Field sets of server-side apply: sets of paths into an object, and their FieldsV1 encoding.
//
// A path is an array of path elements, each a string in FieldsV1 form:
//   'f:<field>'            struct field or map key
//   'k:{"name":"zk"}'      item of a list-map, key fields sorted by name, compact JSON
//   'v:"value"'            item of a set (JSON of the value)
//   'i:<n>'                item of a list by index
// A FieldSet holds paths as strings (JSON of the array) so the set operations are plain Set operations.

class FieldSet {
  constructor(paths) {
    this.paths = new Set();
    if (paths) for (const p of paths) this.add(p);
  }
  static key(path) { return JSON.stringify(path); }
  add(path) { this.paths.add(typeof path === 'string' ? path : FieldSet.key(path)); return this; }
  has(path) { return this.paths.has(typeof path === 'string' ? path : FieldSet.key(path)); }
  get size() { return this.paths.size; }
  empty() { return this.paths.size === 0; }
  toArrays() { return [...this.paths].map((k) => JSON.parse(k)); }
  union(o) { const r = new FieldSet(); r.paths = new Set([...this.paths, ...o.paths]); return r; }
  difference(o) { const r = new FieldSet(); for (const p of this.paths) if (!o.paths.has(p)) r.paths.add(p); return r; }
  intersection(o) { const r = new FieldSet(); for (const p of this.paths) if (o.paths.has(p)) r.paths.add(p); return r; }
  // Paths that are this path or lie below it.
  withoutPrefix(prefix) {
    const r = new FieldSet();
    for (const p of this.toArrays()) if (!startsWith(p, prefix)) r.add(p);
    return r;
  }
  // Keys of the paths that lie strictly above some path of the set.
  prefixes() {
    const r = new Set();
    for (const p of this.toArrays()) for (let i = 1; i < p.length; i++) r.add(FieldSet.key(p.slice(0, i)));
    return r;
  }
  equals(o) { return this.size === o.size && [...this.paths].every((p) => o.paths.has(p)); }
}

function startsWith(path, prefix) {
  if (path.length < prefix.length) return false;
  return prefix.every((pe, i) => path[i] === pe);
}

// ---- element order, as the API server writes FieldsV1: '.' first, then fields, keys, values, indexes
const KIND_RANK = { f: 0, k: 1, v: 2, i: 3 };

function compareValues(a, b) {
  const rank = (v) => (v === null ? 0 : typeof v === 'boolean' ? 1 : typeof v === 'number' ? 2 : typeof v === 'string' ? 3 : 4);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (typeof a === 'number' || typeof a === 'boolean') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const sa = JSON.stringify(a); const sb = JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function comparePE(a, b) {
  if (a === b) return 0;
  const ka = a[0]; const kb = b[0];
  if (ka !== kb) return KIND_RANK[ka] - KIND_RANK[kb];
  const ra = a.slice(2); const rb = b.slice(2);
  if (ka === 'f') return ra < rb ? -1 : ra > rb ? 1 : 0;
  if (ka === 'i') return Number(ra) - Number(rb);
  if (ka === 'v') return compareValues(JSON.parse(ra), JSON.parse(rb));
  const fa = Object.entries(JSON.parse(ra)); const fb = Object.entries(JSON.parse(rb));
  for (let i = 0; i < Math.max(fa.length, fb.length); i++) {
    if (i >= fa.length) return -1;
    if (i >= fb.length) return 1;
    if (fa[i][0] !== fb[i][0]) return fa[i][0] < fb[i][0] ? -1 : 1;
    const c = compareValues(fa[i][1], fb[i][1]);
    if (c) return c;
  }
  return 0;
}

function comparePaths(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = comparePE(a[i], b[i]);
    if (c) return c;
  }
  return a.length - b.length;
}

// ---- FieldsV1 encoding
function toFieldsV1(set) {
  const root = { members: false, children: new Map() };
  for (const path of set.toArrays()) {
    let node = root;
    for (const pe of path) {
      if (!node.children.has(pe)) node.children.set(pe, { members: false, children: new Map() });
      node = node.children.get(pe);
    }
    node.members = true;
  }
  const emit = (node) => {
    const out = {};
    if (node.members && node.children.size) out['.'] = {};
    for (const pe of [...node.children.keys()].sort(comparePE)) out[pe] = emit(node.children.get(pe));
    return out;
  };
  return emit(root);
}

function fromFieldsV1(obj) {
  const set = new FieldSet();
  const walk = (node, path) => {
    const keys = Object.keys(node || {});
    if (path.length && (keys.length === 0 || keys.includes('.'))) set.add(path);
    for (const k of keys) {
      if (k === '.') continue;
      if (!/^[fkvi]:/.test(k)) throw new Error(`invalid FieldsV1 path element "${k}"`);
      walk(node[k], path.concat(k));
    }
  };
  walk(obj, []);
  return set;
}

// ---- path elements for values
function fieldPE(name) { return 'f:' + name; }
function valuePE(v) { return 'v:' + JSON.stringify(v); }
function keyPE(fields) {
  const sorted = {};
  for (const k of Object.keys(fields).sort()) sorted[k] = fields[k];
  return 'k:' + JSON.stringify(sorted);
}

// '.spec.template.spec.containers[name="zk"].ports[containerPort=2181,protocol="TCP"]', as in conflict messages.
function pathString(path) {
  return path.map((pe) => {
    const rest = pe.slice(2);
    switch (pe[0]) {
      case 'f': return '.' + rest;
      case 'k': return '[' + Object.entries(JSON.parse(rest)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',') + ']';
      case 'v': return `[=${rest}]`;
      case 'i': return `[${rest}]`;
      default: return '{{invalid path element}}';
    }
  }).join('');
}

module.exports = { FieldSet, toFieldsV1, fromFieldsV1, fieldPE, valuePE, keyPE, pathString, comparePaths, startsWith };
