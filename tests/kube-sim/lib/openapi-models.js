'use strict';
// The OpenAPI schemas of the built-in kinds, read from the type declarations
// (.d.ts) that the kubernetes-models package generates from the official
// Kubernetes OpenAPI document. Those declarations keep every field, its type,
// whether it is required and its description; the package's compiled
// validators do not expose the schemas themselves. The patch metadata that
// the declarations lose comes from patchmeta-table.js (through patchmeta.js).
//
// Definitions are named as in the real document (io.k8s.api.apps.v1.StatefulSet)
// and reference each other with $ref '#/components/schemas/<name>'.

const fs = require('fs');
const path = require('path');

const REF_PREFIX = '#/components/schemas/';

const cache = new Map(); // .d.ts path -> {name, schema, refs: Map(alias -> .d.ts path)}
const byName = new Map(); // definition name -> schema

function modelsRoot() {
  return path.dirname(path.dirname(require.resolve('kubernetes-models/v1/Pod')));
}

function apimachineryRoot() {
  const objectMeta = require.resolve('@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta');
  return path.resolve(path.dirname(objectMeta), '../../..');
}

// The package directory of an apiVersion: 'v1' -> v1, 'apps/v1' -> apps/v1.
function dtsFor(apiVersion, kind) {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind || '')) return null;
  const file = path.join(modelsRoot(), apiVersion, `${kind}.d.ts`);
  return fs.existsSync(file) ? file : null;
}

// The real document's name of the type declared in a .d.ts file.
function definitionName(file) {
  const base = path.basename(file, '.d.ts');
  const am = path.relative(apimachineryRoot(), file);
  if (!am.startsWith('..')) return `io.k8s.apimachinery.pkg.${path.dirname(am).split(path.sep).join('.')}.${base}`;
  const rel = path.relative(modelsRoot(), path.dirname(file)).split(path.sep);
  if (rel.length === 1) return `io.k8s.api.core.${rel[0]}.${base}`;
  const [group, version] = rel;
  if (group === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}.${base}`;
  if (group === 'apiregistration.k8s.io') return `io.k8s.kube-aggregator.pkg.apis.apiregistration.${version}.${base}`;
  return `io.k8s.api.${group.split('.')[0]}.${version}.${base}`;
}

function resolveImport(from, spec) {
  if (spec.startsWith('.')) return path.resolve(path.dirname(from), `${spec}.d.ts`);
  if (spec.startsWith('@kubernetes-models/apimachinery/')) {
    return path.join(apimachineryRoot(), `${spec.slice('@kubernetes-models/apimachinery/'.length)}.d.ts`);
  }
  return null;
}

function cleanDoc(lines) {
  return lines.map((l) => l.replace(/^\s*\/?\*+\/?\s?/, '').replace(/\s*\*\/\s*$/, ''))
    .join('\n').replace(/^\n+|\n+$/g, '');
}

// Splits `A | B` at the top level (outside <> and {}).
function splitTop(text, sep) {
  const out = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if ('<{['.includes(ch)) depth++;
    if ('>}]'.includes(ch)) depth--;
    if (ch === sep && depth === 0) { out.push(cur.trim()); cur = ''; } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function typeToSchema(t, ctx) {
  t = t.trim().replace(/;$/, '').trim();
  const alts = splitTop(t, '|');
  if (alts.length > 1) {
    if (alts.every((a) => /^"[^"]*"$/.test(a))) return { type: 'string', enum: alts.map((a) => JSON.parse(a)) };
    const set = new Set(alts);
    if (set.has('string') && set.has('number')) return { type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true };
    return {};
  }
  if (/^"[^"]*"$/.test(t)) return { type: 'string', enum: [JSON.parse(t)] };
  if (t === 'string') return { type: 'string' };
  if (t === 'number') return { type: 'integer' };
  if (t === 'boolean') return { type: 'boolean' };
  if (t === 'any' || t === 'unknown' || t === 'object' || t === '{}') return { 'x-kubernetes-preserve-unknown-fields': true };
  let m = /^Array<(.*)>$/s.exec(t);
  if (m) return { type: 'array', items: typeToSchema(m[1], ctx) };
  m = /^\{\s*\[key: string\]:\s*(.*?);?\s*\}$/s.exec(t);
  if (m) return { type: 'object', additionalProperties: typeToSchema(m[1], ctx) };
  m = /^I[A-Za-z0-9]+\["([a-zA-Z]+)"\]$/.exec(t); // the class repeating its own apiVersion/kind
  if (m) return { type: 'string' };
  if (ctx.refs.has(t)) return { $ref: REF_PREFIX + load(ctx.refs.get(t)).name };
  if (t === ctx.self) return { $ref: REF_PREFIX + ctx.name };
  return {};
}

// Reads one interface's properties: `"name"?: TYPE;` at four spaces, with the
// JSDoc block above it.
function parseInterface(body, ctx) {
  const schema = { type: 'object', properties: {} };
  const required = [];
  const lines = body.split('\n');
  let doc = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^ {4}\/\*\*/.test(line)) {
      doc = [];
      while (i < lines.length) { doc.push(lines[i]); if (lines[i].includes('*/')) break; i++; }
      continue;
    }
    const m = /^ {4}"([^"]+)"(\??): (.*)$/.exec(line);
    if (!m) continue;
    let type = m[3];
    while (!/;\s*$/.test(type) || (type.split('{').length !== type.split('}').length)) type += '\n' + lines[++i];
    const prop = typeToSchema(type, ctx);
    if ((m[1] === 'apiVersion' || m[1] === 'kind') && prop.enum && prop.enum.length === 1) delete prop.enum;
    const description = cleanDoc(doc);
    if (description) prop.description = description;
    schema.properties[m[1]] = prop;
    // TypeMeta's fields are optional in the real document.
    if (!m[2] && m[1] !== 'apiVersion' && m[1] !== 'kind') required.push(m[1]);
    doc = [];
  }
  if (required.length) schema.required = required;
  return schema;
}

function load(file) {
  if (cache.has(file)) return cache.get(file);
  const text = fs.readFileSync(file, 'utf8');
  const entry = { name: definitionName(file), schema: {}, refs: new Map() };
  cache.set(file, entry); // before recursing: types refer to themselves (JSONSchemaProps)
  for (const m of text.matchAll(/^import \{ ([^}]+) \} from "([^"]+)";$/gm)) {
    const target = resolveImport(file, m[2]);
    if (!target) continue;
    for (const alias of m[1].split(',').map((s) => s.trim())) entry.refs.set(alias, target);
  }
  const ctx = { refs: entry.refs, name: entry.name, self: null };
  const iface = /^(\/\*\*[\s\S]*?\*\/\n)?export interface (I[A-Za-z0-9]+)[^{]*\{\n([\s\S]*?)^\}/m.exec(text);
  const alias = /^(\/\*\*[\s\S]*?\*\/\n)?export declare type (I[A-Za-z0-9]+) = ([^;]+);/m.exec(text);
  if (iface) {
    ctx.self = iface[2];
    entry.schema = parseInterface(iface[3], ctx);
    if (iface[1]) entry.schema.description = cleanDoc(iface[1].split('\n'));
  } else if (alias) {
    entry.schema = typeToSchema(alias[3], ctx);
    if (alias[1]) entry.schema.description = cleanDoc(alias[1].split('\n'));
  }
  if (entry.name === 'io.k8s.apimachinery.pkg.apis.meta.v1.Time' || entry.name === 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime') {
    entry.schema.format = 'date-time';
  }
  if (entry.name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') {
    entry.schema = { description: entry.schema.description, type: 'string', 'x-kubernetes-int-or-string': true };
  }
  byName.set(entry.name, entry.schema);
  return entry;
}

// {name, definitions: Map(name -> schema)} for a built-in kind, every type it
// reaches included; null when kubernetes-models does not know the kind.
function schemaOfKind(apiVersion, kind) {
  const file = dtsFor(apiVersion, kind);
  if (!file) return null;
  const entry = load(file);
  return { name: entry.name, schema: entry.schema, definitions: byName };
}

// An apimachinery type by its path in the package ('apis/meta/v1/Status').
function schemaOfApimachinery(rel) {
  const file = path.join(apimachineryRoot(), `${rel}.d.ts`);
  if (!fs.existsSync(file)) return null;
  const entry = load(file);
  return { name: entry.name, schema: entry.schema, definitions: byName };
}

// Every definition reachable from a schema, as [name, schema] pairs.
function reachable(names) {
  const seen = new Map();
  const stack = [...names];
  while (stack.length) {
    const n = stack.pop();
    if (seen.has(n) || !byName.has(n)) continue;
    const s = byName.get(n);
    seen.set(n, s);
    JSON.stringify(s, (k, v) => {
      if (k === '$ref' && typeof v === 'string') stack.push(v.slice(REF_PREFIX.length));
      return v;
    });
  }
  return seen;
}

function resolveRef(schema) {
  let s = schema;
  for (let i = 0; s && i < 10; i++) {
    if (s.$ref) s = byName.get(s.$ref.slice(REF_PREFIX.length));
    else if (s.allOf && s.allOf.length === 1) s = s.allOf[0];
    else break;
  }
  return s || {};
}

module.exports = { schemaOfKind, schemaOfApimachinery, reachable, resolveRef, definitionName, REF_PREFIX };
