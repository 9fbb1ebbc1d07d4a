'use strict';
// Reads and deletes of stored objects: get, list (selectors, limit/continue),
// watch (chunked newline-delimited JSON events, bookmarks, timeouts, 410 as an
// ERROR event), delete with DeleteOptions and deletecollection.

const errors = require('./errors');
const { parseBool, parseLabelSelector, parseFieldSelector } = require('./selectors');
const ri = require('./requestinfo');
const tables = require('./tables');

const WATCH_DEFAULT_SECONDS = 1800;
const BOOKMARK_MS = 5000;

function isDryRun(ctx, opts) {
  const values = [...ctx.query.getAll('dryRun'), ...((opts && opts.dryRun) || [])];
  for (const v of values) if (v !== 'All' && v !== '') throw errors.badRequest(`Invalid dry run value: "${v}"; valid values are "All"`);
  return values.includes('All');
}

// An object (or list) as the client asked for it: a Table, partial metadata, or itself.
function render(ctx, body, { list = false } = {}) {
  if (ctx.accept && ctx.accept.table) {
    const items = list ? body.items : [body];
    const table = tables.toTable(ctx.resource, items, {
      version: ctx.accept.table,
      includeObject: ctx.query.get('includeObject') || 'Metadata',
      noHeaders: false,
    });
    if (list) table.metadata = { ...body.metadata };
    else table.metadata = { resourceVersion: body.metadata && body.metadata.resourceVersion };
    return table;
  }
  if (ctx.accept && ctx.accept.partial) {
    const apiVersion = `meta.k8s.io/${ctx.accept.partial}`;
    const partial = (o) => ({ kind: 'PartialObjectMetadata', apiVersion, metadata: o.metadata });
    if (list) return { kind: 'PartialObjectMetadataList', apiVersion, metadata: body.metadata, items: body.items.map(partial) };
    return partial(body);
  }
  return body;
}

function get(ctx) {
  const { store } = ctx.server;
  const obj = store.get(ctx.resource, ctx.namespace, ctx.info.name);
  ctx.server.send(ctx, 200, render(ctx, obj));
}

// The selectors of list, watch and deletecollection, checked before anything
// is answered (an unsupported field label is a 400, also for a watch).
function listOptions(ctx) {
  return {
    labelSelector: parseLabelSelector(ctx.query.get('labelSelector') || undefined),
    fieldSelector: parseFieldSelector(ctx.query.get('fieldSelector') || undefined, ctx.resource),
  };
}

function keyOf(o) { return `${o.metadata.namespace || ''}/${o.metadata.name}`; }

function decodeContinue(token) {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof c.start !== 'string') throw new Error('no start');
    return c;
  } catch (e) {
    throw errors.badRequest(`continue key is not valid: ${e.message}`);
  }
}

// The items of a list request, paged by limit/continue as the real server does
// (a continue token names where the next page starts).
function listPage(ctx) {
  const { store } = ctx.server;
  const { items, resourceVersion } = store.list(ctx.resource, ctx.namespace || null, listOptions(ctx));
  let selected = items;
  let rv = resourceVersion;
  const token = ctx.query.get('continue');
  if (token) {
    const c = decodeContinue(token);
    rv = c.rv || rv;
    selected = selected.filter((o) => keyOf(o) > c.start);
  }
  const limit = Number(ctx.query.get('limit') || 0);
  const metadata = { resourceVersion: rv };
  if (limit > 0 && selected.length > limit) {
    const page = selected.slice(0, limit);
    metadata.continue = Buffer.from(JSON.stringify({ rv, start: keyOf(page[page.length - 1]) })).toString('base64url');
    metadata.remainingItemCount = selected.length - limit;
    selected = page;
  }
  return {
    kind: `${ctx.resource.kind}List`,
    apiVersion: ctx.resource.apiVersion,
    metadata,
    items: selected.map((o) => ({ apiVersion: ctx.resource.apiVersion, kind: ctx.resource.kind, ...o })),
  };
}

function list(ctx) {
  ctx.server.send(ctx, 200, render(ctx, listPage(ctx), { list: true }));
}

function watch(ctx) {
  const { store } = ctx.server;
  const http = ctx.res;
  const opts = listOptions(ctx);
  const rv = ctx.query.get('resourceVersion') || undefined;
  const bookmarks = parseBool(ctx.query.get('allowWatchBookmarks'));
  const timeout = Number(ctx.query.get('timeoutSeconds') || WATCH_DEFAULT_SECONDS);
  const headers = { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' };
  if (ctx.warnings.length) headers.Warning = ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  http.writeHead(200, headers);
  http.flushHeaders();
  let tableHeaderSent = false;
  const write = (type, object) => {
    let out = object;
    if (ctx.accept.table && type !== 'ERROR' && type !== 'BOOKMARK') {
      out = tables.toTable(ctx.resource, [object], {
        version: ctx.accept.table,
        includeObject: ctx.query.get('includeObject') || 'Metadata',
        noHeaders: tableHeaderSent,
      });
      out.metadata = { resourceVersion: object.metadata.resourceVersion };
      tableHeaderSent = true;
    }
    http.write(JSON.stringify({ type, object: out }) + '\n');
  };
  let stop = () => {};
  const timers = [];
  const finish = () => {
    stop();
    timers.forEach((t) => clearInterval(t));
    if (!http.writableEnded) http.end();
  };
  try {
    stop = store.watch(ctx.resource, ctx.namespace || null, { resourceVersion: rv === '0' ? undefined : rv, ...opts },
      (e) => write(e.type, { apiVersion: ctx.resource.apiVersion, kind: ctx.resource.kind, ...e.object }));
  } catch (e) {
    if (!(e instanceof errors.ApiError)) throw e;
    write('ERROR', e.toStatus());
    finish();
    return;
  }
  if (bookmarks) {
    timers.push(setInterval(() => write('BOOKMARK', {
      kind: ctx.resource.kind, apiVersion: ctx.resource.apiVersion,
      metadata: { resourceVersion: store.currentResourceVersion() },
    }), BOOKMARK_MS));
  }
  timers.push(setTimeout(finish, timeout * 1000));
  http.on('close', finish);
  ctx.req.on('close', finish);
}

async function deleteOptions(ctx) {
  const body = ri.parseBody(await ri.readBody(ctx.req), ctx.req.headers['content-type']) || {};
  const q = ctx.query;
  const opts = { ...body };
  if (q.get('propagationPolicy')) opts.propagationPolicy = q.get('propagationPolicy');
  if (q.get('gracePeriodSeconds') !== null) opts.gracePeriodSeconds = Number(q.get('gracePeriodSeconds'));
  if (q.get('orphanDependents') !== null) opts.orphanDependents = parseBool(q.get('orphanDependents'));
  if (opts.orphanDependents !== undefined && opts.propagationPolicy) {
    throw errors.invalid(null, 'DeleteOptions', '', [{ field: 'propagationPolicy', message: 'Invalid value: "' + opts.propagationPolicy + '": orphanDependents and deletionPropagation cannot be both set' }]);
  }
  if (opts.orphanDependents === true) opts.propagationPolicy = 'Orphan';
  if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
    throw errors.invalid(null, 'DeleteOptions', '', [{ field: 'propagationPolicy', message: `Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"`, reason: 'FieldValueNotSupported' }]);
  }
  if (opts.gracePeriodSeconds !== undefined && (Number.isNaN(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
    opts.gracePeriodSeconds = opts.gracePeriodSeconds < 0 ? 1 : undefined;
  }
  return { ...opts, dryRun: isDryRun(ctx, body) };
}

function deleteOne(ctx, name, opts) {
  const { store } = ctx.server;
  const result = store.delete(ctx.resource, ctx.namespace, name, {
    dryRun: opts.dryRun, propagationPolicy: opts.propagationPolicy,
    preconditions: opts.preconditions, gracePeriodSeconds: opts.gracePeriodSeconds,
  });
  const stillThere = !opts.dryRun && store.tryGet(ctx.resource, ctx.namespace, name);
  return { result, stillThere };
}

async function remove(ctx) {
  const opts = await deleteOptions(ctx);
  const name = ctx.info.name;
  const { result, stillThere } = deleteOne(ctx, name, opts);
  if (stillThere || (opts.dryRun && result.metadata.deletionTimestamp)) {
    return ctx.server.send(ctx, 200, { apiVersion: ctx.resource.apiVersion, kind: ctx.resource.kind, ...result });
  }
  return ctx.server.send(ctx, 200, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
    details: { name, group: ctx.resource.group || undefined, kind: ctx.resource.plural, uid: result.metadata.uid },
  });
}

async function removeCollection(ctx) {
  const opts = await deleteOptions(ctx);
  const { items } = ctx.server.store.list(ctx.resource, ctx.namespace || null, listOptions(ctx));
  const deleted = [];
  for (const o of items) {
    try {
      deleteOne({ ...ctx, namespace: o.metadata.namespace }, o.metadata.name, opts);
      deleted.push({ apiVersion: ctx.resource.apiVersion, kind: ctx.resource.kind, ...o });
    } catch (e) {
      if (!(e instanceof errors.ApiError) || e.code !== 404) throw e;
    }
  }
  ctx.server.send(ctx, 200, {
    kind: `${ctx.resource.kind}List`, apiVersion: ctx.resource.apiVersion,
    metadata: { resourceVersion: ctx.server.store.currentResourceVersion() }, items: deleted,
  });
}

module.exports = { get, list, watch, remove, removeCollection, render, isDryRun, listPage };
