'use strict';
// Custom resources against their CRD version's openAPIV3Schema: defaulting,
// pruning of unknown fields and validation, in that order as the real API
// server applies them. Validation is ajv on a translation of the structural
// schema; the Kubernetes extensions are honoured as follows:
//   x-kubernetes-preserve-unknown-fields  no pruning below that node
//   x-kubernetes-int-or-string            integer or string, whatever `type` says
//   x-kubernetes-embedded-resource        apiVersion and kind required, metadata kept
//   nullable                              null accepted (and kept by pruning)
//   x-kubernetes-validations (CEL rules)  IGNORED: not evaluated
//   x-kubernetes-list-type/map-keys       `set` and `map` uniqueness is checked

const Ajv = require('ajv');
const addFormats = require('ajv-formats');
const { cause, child, pointerToPath, show } = require('./validate-util');

// Schema patterns are Go (RE2) expressions: inline flags such as (?i), \z,
// (?P<name>...). They are translated to JavaScript; a pattern that still
// does not compile accepts everything rather than failing the whole CRD.
function goRegExp(pattern, flags) {
  let extra = '';
  // RE2 flags apply from where they stand; here they apply to the whole expression.
  let src = pattern.replace(/\(\?([imsU]+)\)/g, (m, f) => { extra += f.replace(/U/g, ''); return ''; });
  src = src.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$').replace(/\\A/g, '^')
    .replace(/\\p([A-Z])/g, '\\p{$1}').replace(/\\P([A-Z])/g, '\\P{$1}');
  const all = [...new Set((flags + extra).split(''))].join('');
  try {
    return new RegExp(src, all);
  } catch (e) {
    return { test: () => true };
  }
}
goRegExp.code = 'goRegExp';

const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateFormats: true, code: { regExp: goRegExp } });
addFormats(ajv);
// Formats Kubernetes names that ajv-formats does not know are accepted as is.
for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'password', 'binary']) {
  if (!ajv.formats[f]) ajv.addFormat(f, true);
}
ajv.addFormat('int-or-string', true);

// crd uid -> {key, validators: Map(version -> fn)}; a new resourceVersion of
// the CRD replaces the compiled validators.
const compiled = new Map();

function versionOf(crd, version) {
  return ((crd.spec && crd.spec.versions) || []).find((v) => v.name === version);
}

function schemaOf(res) {
  const v = versionOf(res.crd, res.version);
  return (v && v.schema && v.schema.openAPIV3Schema) || { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
}

// A structural schema node -> an ajv schema node.
function toAjv(s, isRoot) {
  if (!s || typeof s !== 'object') return {};
  const out = {};
  for (const k of ['enum', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength',
    'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'multipleOf', 'uniqueItems', 'required', 'format']) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  // OpenAPI v3.0's boolean exclusive bounds.
  if (s.exclusiveMinimum === true) { out.exclusiveMinimum = s.minimum; delete out.minimum; }
  if (s.exclusiveMaximum === true) { out.exclusiveMaximum = s.maximum; delete out.maximum; }
  if (s.exclusiveMinimum === false) delete out.exclusiveMinimum;
  if (s.exclusiveMaximum === false) delete out.exclusiveMaximum;
  if (s['x-kubernetes-int-or-string']) {
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    delete out.format;
  } else if (s.type) {
    out.type = s.nullable ? [s.type, 'null'] : s.type;
    if (s.enum && s.nullable) out.enum = [...s.enum, null];
  }
  if (s.properties) {
    out.properties = {};
    for (const [k, v] of Object.entries(s.properties)) {
      if (isRoot && k === 'metadata') continue; // ObjectMeta is validated as for every kind
      out.properties[k] = toAjv(v);
    }
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') out.additionalProperties = toAjv(s.additionalProperties);
  if (s.items) out.items = toAjv(s.items);
  // Value validations only (structural schemas forbid types in these).
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    if (!Array.isArray(s[k])) continue;
    const sub = s[k].map((x) => toAjv(x));
    if (k === 'anyOf' && out.anyOf) out.allOf = [...(out.allOf || []), { anyOf: sub }];
    else if (k === 'allOf' && out.allOf) out.allOf.push(...sub);
    else out[k] = sub;
  }
  if (s.not) out.not = toAjv(s.not);
  if (s['x-kubernetes-embedded-resource']) out.required = [...new Set([...(out.required || []), 'apiVersion', 'kind'])];
  return out;
}

function validatorFor(res) {
  const crd = res.crd;
  const uid = (crd.metadata && (crd.metadata.uid || crd.metadata.name)) || '';
  const key = `${(crd.metadata && crd.metadata.resourceVersion) || ''}/${crd.metadata && crd.metadata.generation}`;
  let entry = compiled.get(uid);
  if (!entry || entry.key !== key) {
    entry = { key, validators: new Map() };
    compiled.set(uid, entry);
  }
  if (!entry.validators.has(res.version)) entry.validators.set(res.version, ajv.compile(toAjv(schemaOf(res), true)));
  return entry.validators.get(res.version);
}

function valueAt(obj, pointer) {
  return pointer.split('/').slice(1).reduce((o, k) => (o == null ? o : o[k.replace(/~1/g, '/').replace(/~0/g, '~')]), obj);
}

// ajv errors -> causes worded as the real server words CRD validation.
function toCauses(obj, errors) {
  const causes = [];
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const e of errors) {
    const field = pointerToPath(obj, e.instancePath);
    const value = valueAt(obj, e.instancePath);
    const where = `${field || '<root>'} in body`;
    const p = e.params;
    switch (e.keyword) {
      case 'required': causes.push(cause.required(child(field, p.missingProperty))); break;
      case 'type':
        if (anyOfPaths.has(e.instancePath)) break;
        causes.push(cause.invalid(field, typeName(value), `${where} must be of type ${[].concat(p.type)[0]}: ${show(typeName(value))}`));
        break;
      case 'anyOf':
        causes.push(cause.invalid(field, value, anyOfPaths.has(e.instancePath) && isIntOrStringError(errors, e) ? `${where} must be of type integer or string` : `${where} must validate at least one schema (anyOf)`));
        break;
      case 'enum': causes.push(cause.notSupported(field, value, p.allowedValues.filter((a) => a !== null))); break;
      case 'pattern': causes.push(cause.invalid(field, value, `${where} should match '${p.pattern}'`)); break;
      case 'minimum': causes.push(cause.invalid(field, value, `${where} should be greater than or equal to ${p.limit}`)); break;
      case 'maximum': causes.push(cause.invalid(field, value, `${where} should be less than or equal to ${p.limit}`)); break;
      case 'exclusiveMinimum': causes.push(cause.invalid(field, value, `${where} should be greater than ${p.limit}`)); break;
      case 'exclusiveMaximum': causes.push(cause.invalid(field, value, `${where} should be less than ${p.limit}`)); break;
      case 'minLength': causes.push(cause.invalid(field, value, `${where} should be at least ${p.limit} chars long`)); break;
      case 'maxLength': causes.push({ field, reason: 'FieldValueTooLong', message: `Too long: may not be more than ${p.limit} bytes` }); break;
      case 'minItems': causes.push(cause.invalid(field, value, `${where} should have at least ${p.limit} items`)); break;
      case 'maxItems': causes.push({ field, reason: 'FieldValueTooMany', message: `Too many: ${value.length}: must have at most ${p.limit} items` }); break;
      case 'format': causes.push(cause.invalid(field, value, `${where} must be of type ${p.format}: ${show(value)}`)); break;
      default: causes.push(cause.invalid(field, value, `${where} ${e.message}`));
    }
  }
  return causes;
}

function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function isIntOrStringError(errors, e) {
  return errors.some((x) => x.instancePath === e.instancePath && x.keyword === 'type' && x.params.type === 'integer');
}

// x-kubernetes-list-type set/map: items (or their key fields) are unique.
function listTypeCauses(schema, value, path, out) {
  if (!schema || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const t = schema['x-kubernetes-list-type'];
    if (t === 'set' || t === 'map') {
      const seen = new Set();
      value.forEach((item, i) => {
        const keys = t === 'map' ? (schema['x-kubernetes-list-map-keys'] || []).map((k) => item && item[k]) : item;
        const id = JSON.stringify(keys);
        if (seen.has(id)) out.push(cause.duplicate(`${path}[${i}]`, t === 'map' ? Object.fromEntries((schema['x-kubernetes-list-map-keys'] || []).map((k) => [k, item && item[k]])) : item));
        seen.add(id);
      });
    }
    value.forEach((v, i) => listTypeCauses(schema.items, v, `${path}[${i}]`, out));
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const sub = (schema.properties && schema.properties[k]) || (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : null);
    if (sub) listTypeCauses(sub, v, child(path, k), out);
  }
}

// Causes for a custom resource (already defaulted and pruned).
function validateCustom(res, obj) {
  const validate = validatorFor(res);
  const causes = validate(obj) ? [] : toCauses(obj, validate.errors || []);
  const schema = schemaOf(res);
  const { metadata, ...rest } = obj;
  listTypeCauses({ ...schema, properties: { ...(schema.properties || {}), metadata: undefined } }, rest, '', causes);
  return causes;
}

// Walks value and schema together; onUnknown(parent, key, path) for each field
// the schema does not allow. Fills `default`s when `fill` is set.
function walk(schema, value, path, { fill, onUnknown, root }) {
  if (!schema || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => walk(schema.items, v, `${path}[${i}]`, { fill, onUnknown }));
    return;
  }
  const props = schema.properties;
  if (fill && props) {
    for (const [k, sub] of Object.entries(props)) {
      if (value[k] === undefined && sub && sub.default !== undefined) value[k] = structuredClone(sub.default);
    }
  }
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const k of Object.keys(value)) {
    const p = child(path, k);
    if ((root || embedded) && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) {
      if (k !== 'metadata' && props && props[k]) walk(props[k], value[k], p, { fill, onUnknown });
      continue;
    }
    if (props && Object.prototype.hasOwnProperty.call(props, k)) walk(props[k], value[k], p, { fill, onUnknown });
    else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, value[k], p, { fill, onUnknown });
    else if (schema.additionalProperties === true || preserve) continue;
    else onUnknown(value, k, p);
  }
}

// Applies the schema's defaults and removes unknown fields, in place; returns obj.
function defaultAndPrune(res, obj) {
  const schema = schemaOf(res);
  walk(schema, obj, '', { fill: true, root: true, onUnknown: (parent, key) => { delete parent[key]; } });
  return obj;
}

// The paths that pruning would remove (strict field validation).
function unknownCustomFields(res, obj) {
  const out = [];
  walk(schemaOf(res), structuredClone(obj), '', { fill: false, root: true, onUnknown: (parent, key, p) => out.push(p) });
  return out;
}

module.exports = { validateCustom, defaultAndPrune, unknownCustomFields, toAjv, schemaOf };
