'use strict';
const { parseBool } = require('./selectors');
// Subresources: status, scale, pods/log, pods/exec (lib/exec.js),
// pods|services/proxy, pods/eviction, pods/binding, serviceaccounts/token;
// pods/attach and pods/portforward are refused with a reason.

const { Writable } = require('stream');
const errors = require('./errors');
const writes = require('./writes');
const { isDryRun } = require('./handlers');
const ri = require('./requestinfo');
const { labelSelectorFromObject } = require('./selectors');
const { now } = require('./store');
const exec = require('./exec');

function labelSelectorString(sel) {
  if (!sel) return '';
  const parts = Object.entries(sel.matchLabels || {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions || []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values || []).join(',')})`);
  }
  return parts.join(',');
}

function toScale(obj) {
  const m = obj.metadata;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: obj.spec.replicas ?? 1 },
    status: { replicas: (obj.status && obj.status.replicas) || 0, selector: labelSelectorString(obj.spec.selector) },
  };
}

async function scale(ctx) {
  const { store, mods } = ctx.server;
  const res = ctx.resource;
  const obj = store.get(res, ctx.namespace, ctx.info.name);
  if (ctx.verb === 'get') return ctx.server.send(ctx, 200, toScale(obj));
  const current = toScale(obj);
  const body = ri.parseBody(await ri.readBody(ctx.req), ctx.req.headers['content-type']);
  let wanted;
  if (ctx.verb === 'update') wanted = body;
  else if (ctx.verb === 'patch') {
    const type = String(ctx.req.headers['content-type'] || '').split(';')[0];
    if (type === 'application/json-patch+json') wanted = mods.patch.jsonPatch(current, body);
    else if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') wanted = mods.patch.jsonMergePatch(current, body);
    else if (type === 'application/apply-patch+yaml') wanted = mods.patch.jsonMergePatch(current, { spec: body.spec || {} });
    else throw errors.unsupportedMediaType(`unsupported patch type ${type} for the scale subresource`);
  } else throw errors.methodNotAllowed(`${ctx.verb} is not supported on ${res.plural}/scale`);
  const replicas = wanted && wanted.spec ? wanted.spec.replicas : undefined;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw errors.invalid(null, 'Scale', ctx.info.name, [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
  }
  const rv = wanted.metadata && wanted.metadata.resourceVersion;
  const updated = { ...obj, spec: { ...obj.spec, replicas } };
  if (rv) updated.metadata = { ...obj.metadata, resourceVersion: rv };
  const stored = writes.store(ctx, obj, updated, null);
  return ctx.server.send(ctx, 200, toScale(stored));
}

async function status(ctx) {
  if (ctx.verb === 'get') {
    const obj = ctx.server.store.get(ctx.resource, ctx.namespace, ctx.info.name);
    return ctx.server.send(ctx, 200, writes.withType(ctx.resource, obj));
  }
  if (ctx.verb === 'update') return writes.update(ctx, 'status');
  if (ctx.verb === 'patch') return writes.patch(ctx, 'status');
  throw errors.methodNotAllowed(`${ctx.verb} is not supported on ${ctx.resource.plural}/status`);
}

async function logs(ctx) {
  const { kubelet, store } = ctx.server;
  const pod = store.get(ctx.resource, ctx.namespace, ctx.info.name);
  const q = ctx.query;
  const bool = (k) => parseBool(q.get(k));
  const num = (k) => (q.get(k) === null ? undefined : Number(q.get(k)));
  const opts = {
    container: exec.chooseContainer(pod, q.get('container')), follow: bool('follow'), previous: bool('previous'),
    timestamps: bool('timestamps'), tailLines: num('tailLines'), sinceSeconds: num('sinceSeconds'),
    sinceTime: q.get('sinceTime') || undefined, limitBytes: num('limitBytes'),
  };
  if (!kubelet) throw errors.badRequest('no kubelet serves logs in this cluster');
  const http = ctx.res;
  // Headers go out with the first byte, so that a kubelet error before any
  // output still becomes a Status.
  const out = new Writable({
    write(chunk, enc, cb) {
      if (!http.headersSent) http.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
      if (http.writableEnded || http.destroyed) return cb();
      return http.write(chunk, cb);
    },
  });
  http.on('close', () => out.destroy());
  await kubelet.logs(ctx.namespace, ctx.info.name, opts, out);
  // Writes queue in `out` until each reaches the socket: flush before ending.
  if (!out.destroyed) await new Promise((resolve) => { out.end(resolve); out.on('error', resolve); });
  if (!http.headersSent) http.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  if (!http.writableEnded) http.end();
}

function splitProxyName(name) {
  const parts = name.split(':');
  let scheme = '';
  if (parts.length > 1 && /^https?$/.test(parts[0])) scheme = parts.shift();
  return { scheme, name: parts[0], port: parts[1] || '' };
}

function containerPort(pod, port) {
  if (/^\d+$/.test(port)) return Number(port);
  for (const c of pod.spec.containers || []) for (const p of c.ports || []) if (p.name === port) return p.containerPort;
  throw errors.badRequest(`no port named "${port}" in pod ${pod.metadata.name}`);
}

function ready(pod) {
  return ((pod.status && pod.status.conditions) || []).some((c) => c.type === 'Ready' && c.status === 'True')
    && !pod.metadata.deletionTimestamp;
}

async function proxy(ctx) {
  const { kubelet, store, registry } = ctx.server;
  if (!kubelet || !kubelet.proxy) throw errors.badRequest('no kubelet serves proxies in this cluster');
  const target = splitProxyName(ctx.info.name);
  const path = (ctx.info.rest || '/') + (ctx.url.search || '');
  const podsRes = registry.byPlural('', 'v1', 'pods');
  if (ctx.resource.kind === 'Pod') {
    const pod = store.get(podsRes, ctx.namespace, target.name);
    const port = target.port ? containerPort(pod, target.port) : 80;
    return kubelet.proxy(ctx.namespace, target.name, port, path, ctx.req, ctx.res);
  }
  if (ctx.resource.kind === 'Service') {
    const svc = store.get(ctx.resource, ctx.namespace, target.name);
    const ports = (svc.spec && svc.spec.ports) || [];
    const sp = target.port ? ports.find((p) => p.name === target.port || String(p.port) === target.port) : ports[0];
    if (!sp) throw new errors.ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${target.name}"`);
    const selector = (svc.spec && svc.spec.selector) || {};
    const pods = Object.keys(selector).length
      ? store.list(podsRes, ctx.namespace, { labelSelector: labelSelectorFromObject({ matchLabels: selector }) }).items.filter(ready)
      : [];
    if (!pods.length) throw new errors.ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${target.name}"`);
    const pod = pods[Math.floor(Math.random() * pods.length)];
    const tp = sp.targetPort === undefined ? sp.port : sp.targetPort;
    return kubelet.proxy(ctx.namespace, pod.metadata.name, containerPort(pod, String(tp)), path, ctx.req, ctx.res);
  }
  throw errors.badRequest(`proxy is not supported for ${ctx.resource.plural}`);
}

function tooManyRequests(message, cause) {
  const e = new errors.ApiError(429, 'TooManyRequests', message, { causes: cause ? [cause] : [] });
  return e;
}

// How often the eviction retries its budget's status write after a
// conflict (the real server retries too, with a bound of its own).
const EVICTION_CONFLICT_RETRIES = 5;

// Checks the pod's PodDisruptionBudget and takes one disruption from it (the
// status write), reading the budget afresh after a conflict; the last
// conflict is the answer when every try conflicts.
function checkDisruptionBudget(ctx, pod, dryRun) {
  const { store, registry } = ctx.server;
  const pdbRes = registry.byPlural('policy', 'v1', 'poddisruptionbudgets');
  const matching = () => store.list(pdbRes, ctx.namespace).items
    .filter((p) => p.spec && p.spec.selector && Object.keys(p.spec.selector).length
      && labelSelectorFromObject(p.spec.selector)(pod.metadata.labels || {}));
  for (let attempt = 1; ; attempt += 1) {
    const pdbs = matching();
    if (pdbs.length > 1) throw errors.internal('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    if (pdbs.length === 0) return;
    const pdb = pdbs[0];
    const st = pdb.status || {};
    const msg = "Cannot evict pod as it would violate the pod's disruption budget.";
    if (st.observedGeneration !== undefined && st.observedGeneration < (pdb.metadata.generation || 1)) {
      throw tooManyRequests(msg, { reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} is still being processed by the server.` });
    }
    const allowed = st.disruptionsAllowed || 0;
    if (allowed < 0) throw errors.forbidden('pdb disruptions allowed is negative');
    const unhealthyOk = !ready(pod) && (st.currentHealthy || 0) >= (st.desiredHealthy || 0) && (st.desiredHealthy || 0) > 0;
    if (unhealthyOk) return;
    if (allowed === 0) {
      throw tooManyRequests(msg, { reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${st.desiredHealthy || 0} healthy pods and has ${st.currentHealthy || 0} currently` });
    }
    if (dryRun) return;
    const disruptedPods = { ...(st.disruptedPods || {}), [pod.metadata.name]: now() };
    try {
      store.update(pdbRes, { ...pdb, status: { ...st, disruptionsAllowed: allowed - 1, disruptedPods } }, { subresource: 'status' });
      return;
    } catch (e) {
      if (e.code !== 409 || attempt >= EVICTION_CONFLICT_RETRIES) throw e;
    }
  }
}

// policy/v1 Eviction: delete the pod unless a PodDisruptionBudget forbids it.
async function eviction(ctx) {
  const { store } = ctx.server;
  if (ctx.verb !== 'create') throw errors.methodNotAllowed('eviction supports only create');
  const body = ri.parseBody(await ri.readBody(ctx.req), ctx.req.headers['content-type']) || {};
  if (body.metadata && body.metadata.name && body.metadata.name !== ctx.info.name) {
    throw errors.badRequest(`name in URL does not match name in Eviction object`);
  }
  const pod = store.get(ctx.resource, ctx.namespace, ctx.info.name);
  const deleteOptions = body.deleteOptions || {};
  const dryRun = isDryRun(ctx, deleteOptions);
  const phase = pod.status && pod.status.phase;
  const ignorePDB = pod.metadata.deletionTimestamp || ['Succeeded', 'Failed', 'Pending'].includes(phase);
  if (!ignorePDB) checkDisruptionBudget(ctx, pod, dryRun);
  store.delete(ctx.resource, ctx.namespace, ctx.info.name, {
    dryRun, gracePeriodSeconds: deleteOptions.gracePeriodSeconds, preconditions: deleteOptions.preconditions,
    propagationPolicy: deleteOptions.propagationPolicy,
  });
  return ctx.server.send(ctx, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

async function token(ctx) {
  const { store, auth } = ctx.server;
  if (ctx.verb !== 'create') throw errors.methodNotAllowed('token supports only create');
  const sa = store.get(ctx.resource, ctx.namespace, ctx.info.name);
  const body = ri.parseBody(await ri.readBody(ctx.req), ctx.req.headers['content-type']) || {};
  const spec = { audiences: [], expirationSeconds: 3600, ...(body.spec || {}) };
  if (spec.expirationSeconds < 600) {
    throw errors.invalid(null, 'TokenRequest', ctx.info.name, [{ field: 'spec.expirationSeconds', message: 'Invalid value: may not specify a duration less than 10 minutes' }]);
  }
  let boundPod;
  const ref = spec.boundObjectRef;
  if (ref && ref.kind === 'Pod') {
    boundPod = store.get(ctx.server.registry.byPlural('', 'v1', 'pods'), ctx.namespace, ref.name);
    if (ref.uid && ref.uid !== boundPod.metadata.uid) throw errors.conflict(ctx.resource, ctx.info.name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record`);
  }
  const issued = await auth.issueToken(sa, { audiences: spec.audiences, expirationSeconds: spec.expirationSeconds, boundPod });
  return ctx.server.send(ctx, 201, {
    kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: ctx.info.name, namespace: ctx.namespace, creationTimestamp: null },
    spec, status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
  });
}

async function binding(ctx) {
  const { store } = ctx.server;
  const body = ri.parseBody(await ri.readBody(ctx.req), ctx.req.headers['content-type']) || {};
  const node = body.target && body.target.name;
  if (!node) throw errors.invalid(null, 'Binding', ctx.info.name, [{ field: 'target.name', message: 'Required value', reason: 'FieldValueRequired' }]);
  const pod = store.get(ctx.resource, ctx.namespace, ctx.info.name);
  if (pod.spec.nodeName) throw errors.conflict(ctx.resource, ctx.info.name, `pod ${ctx.info.name} is already assigned to node "${pod.spec.nodeName}"`);
  if (!isDryRun(ctx)) store.update(ctx.resource, { ...pod, spec: { ...pod.spec, nodeName: node } });
  return ctx.server.send(ctx, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

const HANDLERS = { status, scale, log: logs, proxy, eviction, token, binding, exec: exec.handle };

async function handle(ctx) {
  const sub = ctx.info.subresource;
  if (sub === 'attach' || sub === 'portforward') {
    throw errors.badRequest(`pods/${sub} is not supported by this cluster: use "kubectl exec", the pod proxy or "kube-sim run" instead`);
  }
  const h = HANDLERS[sub];
  if (!h) throw new errors.ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  return h(ctx);
}

module.exports = { handle, toScale, labelSelectorString };
