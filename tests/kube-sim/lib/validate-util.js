'use strict';
// Building blocks of validation with the real API server's wording: field
// paths (`spec.containers[0].image`), causes, name/label syntax checks and
// resource quantities. The messages are copied from apimachinery's validation
// package so that tests and users see what a real cluster would say.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

const MSG = {
  label: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  dns1035: "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  subdomain: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  qualifiedName: "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  labelValue: "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  configKey: "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  envName: "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
  port: 'must be between 1 and 65535, inclusive',
};

// Go's %v/%q rendering of a value, close enough for messages.
function show(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined || v === null) return '"null"';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const cause = {
  required: (field, detail) => ({ field, reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' }),
  invalid: (field, value, detail) => ({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${show(value)}${detail ? ': ' + detail : ''}` }),
  notSupported: (field, value, allowed) => ({
    field, reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${show(value)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
  }),
  duplicate: (field, value) => ({ field, reason: 'FieldValueDuplicate', message: `Duplicate value: ${show(value)}` }),
  notFound: (field, value) => ({ field, reason: 'FieldValueNotFound', message: `Not found: ${show(value)}` }),
  forbidden: (field, detail) => ({ field, reason: 'FieldValueForbidden', message: `Forbidden: ${detail}` }),
  tooLong: (field, max) => ({ field, reason: 'FieldValueTooLong', message: `Too long: may not be more than ${max} bytes` }),
};

// Appends a path segment the way field.Path renders it: names with dots and
// map keys go in brackets, array indexes as [i].
function child(path, key) {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${key}]`;
}

// ajv's "/spec/template/spec/containers/0/image" -> "spec.template.spec.containers[0].image",
// telling array indexes from map keys by looking at the object.
function pointerToPath(obj, pointer) {
  let path = '';
  let cur = obj;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      path = child(path, Number(seg));
      cur = cur[Number(seg)];
    } else {
      path = child(path, seg);
      cur = cur && typeof cur === 'object' ? cur[seg] : undefined;
    }
  }
  return path;
}

function dnsLabelErrors(v) {
  const e = [];
  if (v.length > 63) e.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(v)) e.push(MSG.label);
  return e;
}

function dns1035Errors(v) {
  const e = [];
  if (v.length > 63) e.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(v)) e.push(MSG.dns1035);
  return e;
}

function subdomainErrors(v) {
  const e = [];
  if (v.length > 253) e.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(v)) e.push(MSG.subdomain);
  return e;
}

// A path segment name (RBAC objects): anything but '/', '%', '.' and '..'.
function pathSegmentErrors(v) {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  for (const bad of ['/', '%']) if (v.includes(bad)) return [`may not contain '${bad}'`];
  return [];
}

function qualifiedNameErrors(key) {
  const e = [];
  const parts = key.split('/');
  let name = key;
  if (parts.length === 2) {
    const [prefix] = parts;
    name = parts[1];
    if (prefix.length === 0) e.push('prefix part must be non-empty');
    else for (const m of subdomainErrors(prefix)) e.push(`prefix part ${m}`);
  } else if (parts.length > 2) {
    return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) e.push('name part must be non-empty');
  else {
    if (name.length > 63) e.push('name part must be no more than 63 characters');
    if (!QUALIFIED_NAME.test(name)) e.push(MSG.qualifiedName);
  }
  return e;
}

function labelValueErrors(v) {
  const e = [];
  if (v.length > 63) e.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(v)) e.push(MSG.labelValue);
  return e;
}

function checkLabels(causes, path, labels) {
  if (!labels || typeof labels !== 'object') return;
  for (const [k, v] of Object.entries(labels)) {
    for (const m of qualifiedNameErrors(k)) causes.push(cause.invalid(path, k, m));
    if (typeof v === 'string') for (const m of labelValueErrors(v)) causes.push(cause.invalid(path, v, m));
  }
}

function checkAnnotations(causes, path, annotations) {
  if (!annotations || typeof annotations !== 'object') return;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of qualifiedNameErrors(k.toLowerCase())) causes.push(cause.invalid(path, k, m));
    size += k.length + String(v).length;
  }
  if (size > 256 * 1024) causes.push(cause.tooLong(path, 256 * 1024));
}

// IANA_SVC_NAME, for named ports.
function portNameErrors(v) {
  const e = [];
  if (v.length > 15) e.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(v)) e.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (v.includes('--')) e.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(v)) e.push('must contain at least one letter (a-z)');
  if (v.startsWith('-') || v.endsWith('-')) e.push('must not begin or end with a hyphen');
  return e;
}

function checkPortNumber(causes, path, v, { allowZero = false } = {}) {
  if (!Number.isInteger(v)) return; // the schema reports the type
  if ((allowZero && v === 0)) return;
  if (v < 1 || v > 65535) causes.push(cause.invalid(path, v, MSG.port));
}

// A port given as a number or an IANA name (targetPort, probe ports).
function checkIntOrName(causes, path, v) {
  if (typeof v === 'number') checkPortNumber(causes, path, v);
  else if (typeof v === 'string') {
    if (/^\d+$/.test(v)) checkPortNumber(causes, path, Number(v));
    else for (const m of portNameErrors(v)) causes.push(cause.invalid(path, v, m));
  }
}

const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const SUFFIX = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

// A resource.Quantity as a number of base units, or null when it does not parse.
function parseQuantity(q) {
  if (typeof q === 'number') return Number.isFinite(q) ? q : null;
  if (typeof q !== 'string') return null;
  const m = QUANTITY.exec(q.trim());
  if (!m || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(m[1])) return null;
  const num = Number(m[1]);
  const suffix = m[2];
  if (suffix in SUFFIX) return num * SUFFIX[suffix];
  const exp = /^[eE]([-+]?\d+)$/.exec(suffix);
  if (exp) return num * 10 ** Number(exp[1]);
  return null;
}

function checkQuantity(causes, path, q) {
  if (parseQuantity(q) === null) {
    causes.push(cause.invalid(path, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    return false;
  }
  if (parseQuantity(q) < 0) { causes.push(cause.invalid(path, q, 'must be greater than or equal to 0')); return false; }
  return true;
}

function checkNonNegative(causes, path, v) {
  if (Number.isInteger(v) && v < 0) causes.push(cause.invalid(path, v, 'must be greater than or equal to 0'));
}

// JSON with sorted keys: key order never counts as a difference.
function canonical(v) {
  return JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]])) : x));
}
const same = (a, b) => canonical(a) === canonical(b);

module.exports = {
  MSG, cause, show, child, pointerToPath, canonical, same,
  DNS1123_LABEL, DNS1123_SUBDOMAIN, CONFIG_KEY, ENV_NAME,
  dnsLabelErrors, dns1035Errors, subdomainErrors, pathSegmentErrors, qualifiedNameErrors, labelValueErrors,
  checkLabels, checkAnnotations, portNameErrors, checkPortNumber, checkIntOrName,
  parseQuantity, checkQuantity, checkNonNegative,
};
