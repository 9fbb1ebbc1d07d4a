'use strict';
// The HTTPS front of the cluster: what real kubectl talks to. Each request goes
// through fault injection, authentication, impersonation and authorization,
// then to discovery, OpenAPI, the object handlers or a subresource. Every
// failure leaves as a metav1 Status; every request leaves one access-log line.
// Upgrade requests (pods/exec over a WebSocket) take the same path on a
// response written to their socket, until a handler takes the socket over.

const http = require('http');
const https = require('https');
const fs = require('fs');
const errors = require('./errors');
const discovery = require('./discovery');
const ri = require('./requestinfo');
const handlers = require('./handlers');
const writes = require('./writes');
const subresources = require('./subresources');
const reviews = require('./reviews');
const { watchCRDs } = require('./crdsync');

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);
const CREATE_ONLY = new Set(['selfsubjectaccessreviews', 'subjectaccessreviews', 'tokenreviews', 'selfsubjectreviews']);
// Subresources a client reaches with a connection upgrade.
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

// Modules owned elsewhere, loaded on first use so that tests may pass stand-ins.
function moduleLoader(overrides) {
  const cache = { ...(overrides || {}) };
  const load = (name) => {
    if (!cache[name]) cache[name] = require(`./${name}`); // eslint-disable-line global-require
    return cache[name];
  };
  return {
    get patch() { return load('patch'); },
    get patchmeta() { return load('patchmeta'); },
    get ssa() { return load('ssa'); },
    get validate() { return load('validate'); },
    get defaults() { return load('defaults'); },
    get crd() { return load('crd'); },
    get openapi() { return load('openapi'); },
  };
}

class ApiServer {
  constructor({ store, registry, auth, faults, kubelet, tls, log, modules, allocateClusterIP }) {
    this.store = store;
    this.registry = registry;
    this.auth = auth;
    this.faults = faults;
    this.kubelet = kubelet;
    this.tls = tls;
    this.log = log || (() => {});
    this.mods = moduleLoader(modules);
    // (usedIPs) -> a free Service IP
    this.allocateClusterIP = allocateClusterIP || ((used) => require('./network').allocateClusterIP(used)); // eslint-disable-line global-require
    this.servers = [];
    this.sockets = new Set();
    this.address = '127.0.0.1:6443';
    this.stopCRDs = watchCRDs(this);
  }

  createServer() {
    const server = https.createServer({
      key: this.tls.key, cert: this.tls.cert, ca: this.tls.ca,
      requestCert: true, rejectUnauthorized: false,
    }, (req, res) => { this.handle(req, res); });
    server.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head));
    server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    server.on('secureConnection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    this.servers.push(server);
    return server;
  }

  async listen(host, port) {
    const server = this.createServer();
    await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve); });
    const actual = server.address().port;
    this.address = `${host}:${actual}`;
    return actual;
  }

  async listenUnix(path) {
    try { fs.unlinkSync(path); } catch (e) { /* not there */ }
    const server = this.createServer();
    await new Promise((resolve, reject) => { server.once('error', reject); server.listen(path, resolve); });
  }

  async close() {
    if (this.stopCRDs) this.stopCRDs();
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
    this.servers = [];
  }

  // A request with an Upgrade header: answered through a response on its
  // socket (closed after it) unless a handler upgrades it (ctx.upgraded).
  handleUpgrade(req, socket, head) {
    socket.on('error', () => {});
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.on('finish', () => socket.end());
    return this.handle(req, res, { socket, head });
  }

  async handle(req, res, upgrade = null) {
    const started = Date.now();
    const url = new URL(req.url, 'https://kube-sim');
    const ctx = { server: this, req, res, url, path: url.pathname, query: url.searchParams, warnings: [], user: null, upgrade, upgraded: false };
    (upgrade ? upgrade.socket : res).once('close', () => {
      const who = ctx.user ? ctx.user.username : '-';
      this.log(`${req.method} ${req.url} ${ctx.upgraded ? 101 : res.statusCode} ${Date.now() - started}ms ${who}`);
    });
    try {
      await this.dispatch(ctx);
    } catch (e) {
      this.fail(ctx, e);
    }
  }

  fail(ctx, e) {
    const err = e instanceof errors.ApiError ? e : errors.internal(e && e.message ? e.message : String(e));
    if (!(e instanceof errors.ApiError)) this.log(`internal error on ${ctx.req.method} ${ctx.req.url}: ${e && e.stack}`);
    if (ctx.upgraded) { if (!ctx.upgrade.socket.destroyed) ctx.upgrade.socket.destroy(); return; }
    if (ctx.res.headersSent) { ctx.res.destroy(); return; }
    this.send(ctx, err.code, err.toStatus(), err.headers);
  }

  send(ctx, code, body, headers = {}) {
    const h = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...headers };
    if (ctx.warnings.length) h.Warning = ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    const text = JSON.stringify(body);
    h['Content-Length'] = Buffer.byteLength(text);
    ctx.res.writeHead(code, h);
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : text);
  }

  sendText(ctx, code, text, type = 'text/plain; charset=utf-8') {
    ctx.res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
    ctx.res.end(text);
  }

  authorize(ctx, attrs) {
    const decision = this.auth.authorize(ctx.user, attrs);
    if (decision && decision.allowed) return;
    if (typeof this.auth.forbidden === 'function') throw this.auth.forbidden(ctx.user, attrs, decision && decision.rbacReason);
    throw ri.forbiddenError(ctx.user, attrs, decision && decision.reason);
  }

  // A WebSocket upgrade of pods/exec, attach or portforward is a GET, which
  // the real server (1.32) authorizes as "get". kubectl falls back to SPDY, a
  // POST authorized as "create", when the WebSocket is refused; this cluster
  // serves no SPDY, so "create" admits the WebSocket as that fallback would.
  authorizeResource(ctx, attrs) {
    try {
      this.authorize(ctx, attrs);
    } catch (e) {
      const websocket = ctx.upgrade && String(ctx.req.headers.upgrade || '').toLowerCase() === 'websocket';
      if (!(e instanceof errors.ApiError) || e.code !== 403 || !websocket || attrs.verb !== 'get' || !CONNECT_SUBRESOURCES.has(attrs.subresource)) throw e;
      const decision = this.auth.authorize(ctx.user, { ...attrs, verb: 'create' });
      if (!(decision && decision.allowed)) throw e;
    }
  }

  async injectFault(ctx) {
    if (!this.faults || ctx.path.startsWith('/kube-sim/')) return false;
    const fault = this.faults.intercept(ctx.req);
    if (!fault) return false;
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.hang) return true; // the client gives up; the socket is closed by close()
    if (!fault.status) return false;
    this.send(ctx, fault.status, fault.body, fault.headers);
    return true;
  }

  async dispatch(ctx) {
    if (await this.injectFault(ctx)) return;
    const authn = await this.auth.authenticate(ctx.req);
    const user = authn && authn.username === undefined ? authn.user : authn;
    if (user) ctx.user = user;
    else if (PUBLIC_PATHS.has(ctx.path)) ctx.user = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    else throw errors.unauthorized();
    this.impersonate(ctx);

    const info = ri.parseResourcePath(ctx.path);
    if (!info) return this.nonResource(ctx);
    return this.resourceRequest(ctx, info);
  }

  // Impersonate-User / Impersonate-Group / Impersonate-Uid: the caller must be
  // allowed to "impersonate" each of them, as the real impersonation filter checks.
  impersonate(ctx) {
    if (typeof this.auth.impersonate === 'function') {
      const effective = this.auth.impersonate(ctx.user, ctx.req);
      if (effective !== ctx.user) ctx.user = { ...effective, impersonatedBy: ctx.user.username };
      return;
    }
    const h = ctx.req.headers;
    const username = h['impersonate-user'];
    const rawGroups = h['impersonate-group'];
    const groups = rawGroups === undefined ? [] : [].concat(rawGroups).flatMap((g) => g.split(',')).map((g) => g.trim()).filter(Boolean);
    if (!username) {
      if (groups.length) throw errors.badRequest('requested [' + groups.join(' ') + '] without impersonating a user');
      return;
    }
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
    const attrs = sa
      ? { verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] }
      : { verb: 'impersonate', apiGroup: '', resource: 'users', namespace: '', name: username };
    this.authorize(ctx, attrs);
    for (const g of groups) this.authorize(ctx, { verb: 'impersonate', apiGroup: '', resource: 'groups', namespace: '', name: g });
    const uid = h['impersonate-uid'];
    if (uid) this.authorize(ctx, { verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', namespace: '', name: uid });
    let finalGroups = groups;
    if (!groups.length && sa) finalGroups = ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`];
    if (!finalGroups.includes('system:authenticated') && username !== 'system:anonymous') finalGroups = [...finalGroups, 'system:authenticated'];
    ctx.user = { username, groups: finalGroups, uid: uid || '', impersonatedBy: ctx.user.username };
  }

  async nonResource(ctx) {
    const { path } = ctx;
    const method = ctx.req.method;
    const verb = { GET: 'get', HEAD: 'head', POST: 'post', PUT: 'put', DELETE: 'delete', PATCH: 'patch' }[method] || method.toLowerCase();
    if (!(ctx.user.username === 'system:anonymous' && PUBLIC_PATHS.has(path))) this.authorize(ctx, { verb, path });
    if (path.startsWith('/kube-sim/')) return this.control(ctx);
    if (method !== 'GET' && method !== 'HEAD') throw errors.methodNotAllowed(`${method} is not allowed on ${path}`);
    if (/^\/(healthz|livez|readyz)(\/.*)?$/.test(path)) return this.sendText(ctx, 200, 'ok');
    if (path === '/version') return this.send(ctx, 200, discovery.VERSION);
    if (path === '/api') return this.send(ctx, 200, discovery.apiVersions(this.address));
    if (path === '/apis') return this.send(ctx, 200, discovery.apiGroupList(this.registry));
    let m;
    if ((m = /^\/api\/([^/]+)$/.exec(path)) || (m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path))) {
      const [group, version] = m.length === 2 || m[2] === undefined ? ['', m[1]] : [m[1], m[2]];
      const doc = discovery.apiResourceList(this.registry, group, version);
      if (doc) return this.send(ctx, 200, doc);
    } else if ((m = /^\/apis\/([^/]+)$/.exec(path))) {
      const doc = discovery.apiGroupDoc(this.registry, m[1]);
      if (doc) return this.send(ctx, 200, doc);
    } else if (path === '/openapi/v3') {
      const { openapi } = this.mods;
      return this.send(ctx, 200, (openapi.openapiV3Index || openapi.openapiV3Paths).call(openapi, this.registry));
    } else if ((m = /^\/openapi\/v3\/(.+)$/.exec(path))) {
      const { openapi } = this.mods;
      const doc = openapi.openapiV3Doc(this.registry, m[1]);
      if (doc) {
        const hash = openapi.openapiV3Hash ? openapi.openapiV3Hash(this.registry, m[1]) : null;
        const headers = hash ? { ETag: `"${hash}"` } : {};
        if (hash && ctx.query.get('hash') === hash) headers['Cache-Control'] = 'public, immutable';
        return this.send(ctx, 200, doc, headers);
      }
    }
    throw new errors.ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  }

  // /kube-sim/faults and /kube-sim/partition: test controls (authorized above
  // as non-resource paths, which only cluster-admin holds).
  async control(ctx) {
    const method = ctx.req.method;
    const body = ['POST', 'PUT'].includes(method) ? ri.parseBody(await ri.readBody(ctx.req), 'application/json') : undefined;
    if (ctx.path === '/kube-sim/faults') {
      if (!this.faults) throw errors.badRequest('fault injection is not configured');
      if (method === 'GET') return this.send(ctx, 200, { rules: this.faults.list() });
      if (method === 'POST') return this.send(ctx, 201, this.faults.add(body || {}) || { added: true });
      if (method === 'DELETE') { this.faults.clear(); return this.send(ctx, 200, { cleared: true }); }
    }
    if (ctx.path === '/kube-sim/partition' && method === 'POST') {
      if (!this.kubelet || !this.kubelet.partition) throw errors.badRequest('partitions need a kubelet');
      const { namespace, pod, heal } = body || {};
      if (!namespace || !pod) throw errors.badRequest('partition needs {namespace, pod, heal}');
      await this.kubelet.partition(namespace, pod, !!heal);
      return this.send(ctx, 200, { namespace, pod, healed: !!heal });
    }
    throw new errors.ApiError(404, 'NotFound', `no control endpoint ${method} ${ctx.path}`, {});
  }

  notFoundResource() {
    return new errors.ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  }

  async resourceRequest(ctx, info) {
    const res = this.registry.byPlural(info.group, info.version, info.resource);
    if (!res) throw this.notFoundResource();
    if (info.subresource && !(res.subresources || []).includes(info.subresource)) throw this.notFoundResource();
    const verb = ri.verbFor(ctx.req.method, info, ctx.query);
    let name = info.name;
    if (info.subresource === 'proxy') name = name.split(':').filter((p) => !/^https?$/.test(p))[0];
    const attrs = {
      verb, apiGroup: info.group, resource: info.resource, subresource: info.subresource,
      namespace: res.namespaced ? info.namespace : '', name, path: ctx.path,
    };
    if (!res.namespaced && info.namespace && info.resource !== 'namespaces') throw this.notFoundResource();
    this.authorizeResource(ctx, attrs);
    Object.assign(ctx, { info, resource: res, verb, accept: ri.parseAccept(ctx.req.headers.accept), namespace: attrs.namespace });
    if (info.subresource) return subresources.handle(ctx);
    if (CREATE_ONLY.has(res.plural)) {
      if (verb !== 'create') throw errors.methodNotAllowed(`${verb} is not supported on ${res.plural}`);
      return reviews.handle(ctx);
    }
    switch (verb) {
      case 'get': return handlers.get(ctx);
      case 'list': return handlers.list(ctx);
      case 'watch': return handlers.watch(ctx);
      case 'create': return writes.create(ctx);
      case 'update': return writes.update(ctx);
      case 'patch': return writes.patch(ctx);
      case 'delete': return handlers.remove(ctx);
      case 'deletecollection': return handlers.removeCollection(ctx);
      default: throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }
}

module.exports = { ApiServer };
