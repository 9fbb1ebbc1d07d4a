'use strict';
const { parseBool } = require('./selectors');
// What an HTTP request means to the API: the resource path parsed as the real
// server's RequestInfo does, the RBAC attributes it needs, the Forbidden text,
// the body, and what the client accepts.

const yaml = require('js-yaml');
const errors = require('./errors');
const protobuf = require('./protobuf');

// Subresources of a Namespace: /api/v1/namespaces/<ns>/status is the Namespace,
// /api/v1/namespaces/<ns>/pods is the pods in it.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

// -> null for a non-resource path, else {group, version, namespace, resource,
//    name, subresource, rest, watchPath}
function parseResourcePath(pathname) {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group;
  let version;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    parts.splice(0, 2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    parts.splice(0, 3);
  } else {
    return null;
  }
  const info = { group, version, namespace: '', resource: '', name: '', subresource: '', rest: '', watchPath: false };
  if (parts[0] === 'watch') { info.watchPath = true; parts.shift(); }
  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1];
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts.splice(0, 2);
  }
  info.resource = parts[0] || '';
  info.name = parts[1] || '';
  info.subresource = parts[2] || '';
  // Proxy paths keep the rest, slashes included (pods/<name>/proxy/<path...>).
  info.rest = parts.length > 3 ? '/' + parts.slice(3).map(encodeURIComponent).join('/') : '';
  if (info.resource === 'namespaces' && info.name) info.namespace = info.name;
  if (!info.resource) return null;
  return info;
}

// The RBAC verb of a resource request.
function verbFor(method, info, query) {
  const watching = info.watchPath || parseBool(query.get('watch'));
  switch (method) {
    case 'GET': case 'HEAD':
      if (watching) return 'watch';
      return info.name ? 'get' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return info.name ? 'delete' : 'deletecollection';
    default: return method.toLowerCase();
  }
}

// `pods "p" is forbidden: User "u" cannot get resource "pods/log" in API group "" in the namespace "ns"`
function forbiddenMessage(user, attrs, reason) {
  let msg;
  if (attrs.resource === undefined) {
    msg = `forbidden: User "${user.username}" cannot ${attrs.verb} path "${attrs.path}"`;
  } else {
    const qualified = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
    const named = attrs.name ? ` "${attrs.name}"` : '';
    const sub = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
    msg = `${qualified}${named} is forbidden: User "${user.username}" cannot ${attrs.verb} resource "${sub}" in API group "${attrs.apiGroup}" ${scope}`;
  }
  return reason ? `${msg}: ${reason}` : msg;
}

function forbiddenError(user, attrs, reason) {
  const details = attrs.resource === undefined ? undefined
    : { name: attrs.name || undefined, group: attrs.apiGroup || undefined, kind: attrs.resource };
  return errors.forbidden(forbiddenMessage(user, attrs, reason), details);
}

const MAX_BODY = 16 * 1024 * 1024;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new errors.ApiError(413, 'RequestEntityTooLarge', 'request entity too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// JSON, YAML (apply patches; kubectl sends JSON there too, which is YAML), or
// the Kubernetes protobuf encoding of kubectl's typed clients.
function parseBody(body, contentType) {
  if (Buffer.isBuffer(body) && protobuf.isProtobuf(contentType)) return body.length ? protobuf.decode(body) : undefined;
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (jsonErr) {
    if (/yaml/.test(contentType || '')) {
      try { return yaml.load(text); } catch (e) { throw errors.badRequest(`error decoding YAML: ${e.message}`); }
    }
    throw errors.badRequest(`couldn't get version/kind; json parse error: ${jsonErr.message}`);
  }
}

// Accept: application/json;as=Table;v=v1;g=meta.k8s.io, application/json
// -> {table: 'v1'|'v1beta1'|null, partial: null|'PartialObjectMetadata'|'PartialObjectMetadataList', discovery: bool}
function parseAccept(header) {
  const out = { table: null, partial: null, discovery: null };
  for (const clause of String(header || '').split(',')) {
    const [type, ...paramList] = clause.split(';').map((s) => s.trim());
    if (type !== 'application/json' && type !== '*/*') continue;
    const params = Object.fromEntries(paramList.map((p) => p.split('=').map((s) => s.trim())));
    if (params.as === 'Table' && params.g === 'meta.k8s.io' && !out.table) out.table = params.v || 'v1';
    if (/^PartialObjectMetadata/.test(params.as || '') && params.g === 'meta.k8s.io' && !out.partial) out.partial = params.v || 'v1';
    if (params.as === 'APIGroupDiscoveryList' && params.g === 'apidiscovery.k8s.io' && !out.discovery) out.discovery = params.v;
  }
  return out;
}

module.exports = { parseResourcePath, verbFor, forbiddenMessage, forbiddenError, readBody, parseBody, parseAccept };
