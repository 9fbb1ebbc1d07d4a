'use strict';
// Request bodies in the Kubernetes protobuf encoding. kubectl's typed clients
// (create configmap, auth can-i, drain's evictions, create token, ...) send
// `application/vnd.kubernetes.protobuf`, and accept JSON back. The message
// schemas come from the gzipped FileDescriptorProtos that every Kubernetes Go
// binary embeds: they are read once from the kubectl on PATH, so they always
// match the client that sends them.

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const errors = require('./errors');

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"
const GZIP = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0x02, 0xff]);
const T = { DOUBLE: 1, FLOAT: 2, INT64: 3, UINT64: 4, INT32: 5, FIXED64: 6, FIXED32: 7, BOOL: 8, STRING: 9, MESSAGE: 11, BYTES: 12, UINT32: 13, ENUM: 14, SFIXED32: 15, SFIXED64: 16, SINT32: 17, SINT64: 18 };
const ZERO_TIME = -62135596800; // Go's zero time.Time, which JSON writes as null
// Pointer integers where an explicit 0 means something (gogo writes non-pointer zeros too).
const KEEP_ZERO = new Set(['replicas', 'parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'terminationGracePeriodSeconds',
  'gracePeriodSeconds', 'expirationSeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'ttlSecondsAfterFinished', 'runAsUser',
  'runAsGroup', 'fsGroup', 'defaultMode', 'mode', 'minAvailable', 'maxUnavailable', 'maxSurge', 'partition', 'intVal', 'port', 'containerPort',
  'targetPort', 'exitCode', 'deletionGracePeriodSeconds', 'suspend', 'priority', 'limit', 'seconds']);

// --- wire format
function reader(buf) {
  let pos = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  return {
    done: () => pos >= buf.length,
    // -> [fieldNumber, wireType, value]
    next() {
      const key = Number(varint());
      const wire = key & 7;
      const field = key >>> 3;
      let value;
      if (wire === 0) value = varint();
      else if (wire === 1) { value = buf.subarray(pos, pos + 8); pos += 8; }
      else if (wire === 2) { const len = Number(varint()); value = buf.subarray(pos, pos + len); pos += len; }
      else if (wire === 5) { value = buf.subarray(pos, pos + 4); pos += 4; }
      else throw new Error(`unsupported wire type ${wire}`);
      if (pos > buf.length) throw new Error('truncated message');
      return [field, wire, value];
    },
  };
}

function fields(buf) {
  const out = [];
  const r = reader(buf);
  while (!r.done()) out.push(r.next());
  return out;
}

// --- descriptors (descriptor.proto field numbers)
function parseField(buf) {
  const f = { name: '', number: 0, label: 1, type: 0, typeName: '', jsonName: '' };
  for (const [n, , v] of fields(buf)) {
    if (n === 1) f.name = v.toString();
    else if (n === 3) f.number = Number(v);
    else if (n === 4) f.label = Number(v);
    else if (n === 5) f.type = Number(v);
    else if (n === 6) f.typeName = v.toString();
    else if (n === 10) f.jsonName = v.toString();
  }
  return f;
}

function parseMessage(buf, prefix, table) {
  const msg = { name: '', fields: new Map(), mapEntry: false };
  const nested = [];
  for (const [n, , v] of fields(buf)) {
    if (n === 1) msg.name = v.toString();
    else if (n === 2) { const f = parseField(v); msg.fields.set(f.number, f); }
    else if (n === 3) nested.push(v);
    else if (n === 7) for (const [on, , ov] of fields(v)) if (on === 7) msg.mapEntry = ov === 1n;
  }
  const full = `${prefix}.${msg.name}`;
  table.set(full, msg);
  for (const nb of nested) parseMessage(nb, full, table);
}

let TABLE = null;

function kubectlPath() {
  if (process.env.KUBE_SIM_KUBECTL) return process.env.KUBE_SIM_KUBECTL;
  for (const dir of (process.env.PATH || '/usr/bin').split(':')) {
    const p = path.join(dir, 'kubectl');
    if (fs.existsSync(p)) return p;
  }
  return null;
}

function table() {
  if (TABLE) return TABLE;
  const bin = kubectlPath();
  if (!bin) throw errors.unsupportedMediaType('protobuf bodies need the kubectl binary for their schemas; send application/json');
  const data = fs.readFileSync(bin);
  const t = new Map();
  for (let i = data.indexOf(GZIP); i >= 0; i = data.indexOf(GZIP, i + 1)) {
    let fd;
    try { fd = zlib.gunzipSync(data.subarray(i, i + (4 << 20)), { finishFlush: zlib.constants.Z_SYNC_FLUSH }); } catch (e) { continue; }
    try {
      const parts = fields(fd);
      const name = parts.find(([n]) => n === 1);
      if (!name || !/generated\.proto$/.test(name[2].toString())) continue;
      const pkg = (parts.find(([n]) => n === 2) || [0, 0, Buffer.from('')])[2].toString();
      for (const [n, , v] of parts) if (n === 4) parseMessage(v, `.${pkg}`, t);
    } catch (e) { /* not a descriptor */ }
  }
  if (!t.size) throw errors.unsupportedMediaType(`no protobuf schemas found in ${bin}; send application/json`);
  TABLE = t;
  return t;
}

// --- values
function goDuration(ns) {
  if (ns === 0) return '0s';
  let s = '';
  let rest = ns;
  const h = Math.floor(rest / 3.6e12); rest -= h * 3.6e12;
  const m = Math.floor(rest / 6e10); rest -= m * 6e10;
  if (h) s += `${h}h`;
  if (h || m) s += `${m}m`;
  return `${s}${rest / 1e9}s`;
}

function special(typeName, buf, t) {
  const short = typeName.split('.').slice(-1)[0];
  if (/\.apimachinery\.pkg\.apis\.meta\.v1\.(Time|MicroTime)$/.test(typeName)) {
    let seconds = 0; let nanos = 0;
    for (const [n, , v] of fields(buf)) { if (n === 1) seconds = Number(BigInt.asIntN(64, v)); if (n === 2) nanos = Number(v); }
    if (seconds === ZERO_TIME) return null;
    const iso = new Date(seconds * 1000).toISOString();
    return short === 'MicroTime' ? iso.replace(/\.\d+Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`) : iso.replace(/\.\d+Z$/, 'Z');
  }
  if (/\.meta\.v1\.Duration$/.test(typeName)) {
    for (const [n, , v] of fields(buf)) if (n === 1) return goDuration(Number(BigInt.asIntN(64, v)));
    return '0s';
  }
  if (/\.api\.resource\.Quantity$/.test(typeName)) {
    for (const [n, , v] of fields(buf)) if (n === 1) return v.toString();
    return '0';
  }
  if (/\.util\.intstr\.IntOrString$/.test(typeName)) {
    let type = 0; let intVal = 0; let strVal = '';
    for (const [n, , v] of fields(buf)) { if (n === 1) type = Number(v); if (n === 2) intVal = Number(BigInt.asIntN(32, v)); if (n === 3) strVal = v.toString(); }
    return type === 1 ? strVal : intVal;
  }
  if (/\.runtime\.RawExtension$/.test(typeName) || /\.meta\.v1\.FieldsV1$/.test(typeName) || /\.apiextensions\.v1\.JSON$/.test(typeName)) {
    for (const [n, , v] of fields(buf)) if (n === 1) return v.length ? JSON.parse(v.toString()) : null;
    return null;
  }
  return undefined;
}

function scalar(f, wire, v) {
  switch (f.type) {
    case T.STRING: return v.toString('utf8');
    case T.BYTES: return Buffer.from(v).toString('base64');
    case T.BOOL: return v !== 0n;
    case T.INT32: return Number(BigInt.asIntN(32, v));
    case T.INT64: case T.UINT64: case T.UINT32: case T.ENUM: return Number(BigInt.asIntN(64, v));
    case T.SINT32: case T.SINT64: { const n = BigInt.asUintN(64, v); return Number((n >> 1n) ^ -(n & 1n)); }
    case T.DOUBLE: return v.readDoubleLE(0);
    case T.FLOAT: return v.readFloatLE(0);
    case T.FIXED32: return v.readUInt32LE(0);
    case T.SFIXED32: return v.readInt32LE(0);
    case T.FIXED64: case T.SFIXED64: return Number(v.readBigInt64LE(0));
    default: return undefined;
  }
}

function decodeMessage(typeName, buf, t) {
  const sp = special(typeName, buf, t);
  if (sp !== undefined) return sp;
  const msg = t.get(typeName);
  if (!msg) throw errors.badRequest(`unknown protobuf message ${typeName}`);
  const out = {};
  for (const [n, wire, v] of fields(buf)) {
    const f = msg.fields.get(n);
    if (!f) continue;
    const key = f.jsonName || f.name;
    let value;
    if (f.type === T.MESSAGE) {
      const sub = t.get(f.typeName);
      if (sub && sub.mapEntry) {
        const entry = decodeMessage(f.typeName, v, t);
        out[key] = out[key] || {};
        out[key][entry.key === undefined ? '' : entry.key] = entry.value === undefined ? (sub.fields.get(2).type === T.STRING ? '' : null) : entry.value;
        continue;
      }
      value = decodeMessage(f.typeName, v, t);
    } else if (wire === 2 && f.type !== T.STRING && f.type !== T.BYTES) {
      // packed repeated scalars
      const r = reader(v);
      const items = [];
      while (!r.done()) items.push(scalar(f, 0, r.next()[2]));
      out[key] = (out[key] || []).concat(items);
      continue;
    } else {
      value = scalar(f, wire, v);
    }
    if (f.label === 3) (out[key] = out[key] || []).push(value);
    else out[key] = value;
  }
  // What JSON would omit: empty strings, zero times, zero integers (but the pointer ones above).
  for (const [k, v] of Object.entries(out)) {
    if (v === '' || v === null || (v === 0 && !KEEP_ZERO.has(k))) delete out[k];
  }
  return out;
}

function messageFor(apiVersion, kind, t) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const label = group.split('.')[0];
  const candidates = [...t.keys()].filter((k) => k.endsWith(`.${version}.${kind}`));
  return candidates.find((k) => k.endsWith(`.${label}.${version}.${kind}`))
    || candidates.find((k) => k.includes('.apimachinery.pkg.apis.meta.'))
    || candidates[0];
}

function isProtobuf(contentType) {
  return /^application\/vnd\.kubernetes\.protobuf\b/.test(String(contentType || ''));
}

// buf: the request body -> a JSON object with apiVersion and kind.
function decode(buf) {
  if (!buf.subarray(0, 4).equals(MAGIC)) throw errors.badRequest('protobuf body without the "k8s\\0" prefix');
  const t = table();
  let apiVersion = ''; let kind = ''; let raw = Buffer.alloc(0);
  for (const [n, , v] of fields(buf.subarray(4))) {
    if (n === 1) for (const [tn, , tv] of fields(v)) { if (tn === 1) apiVersion = tv.toString(); if (tn === 2) kind = tv.toString(); }
    if (n === 2) raw = v;
  }
  const type = messageFor(apiVersion, kind, t);
  if (!type) throw errors.unsupportedMediaType(`no protobuf schema for ${apiVersion} ${kind}; send application/json`);
  try {
    return { apiVersion, kind, ...decodeMessage(type, raw, t) };
  } catch (e) {
    if (e instanceof errors.ApiError) throw e;
    throw errors.badRequest(`cannot decode the protobuf body as ${apiVersion} ${kind}: ${e.message}`);
  }
}

module.exports = { decode, isProtobuf };
