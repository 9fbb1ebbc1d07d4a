'use strict';
// A running ApiServer for tests, driven by real kubectl: a self-signed
// certificate made with openssl, a kubeconfig with a bearer token, a
// stand-in authenticator/authorizer, a stand-in kubelet, and stand-ins for
// modules other parts of kube-sim provide when those are not there yet.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile, execFileSync, spawn } = require('child_process');
const yaml = require('js-yaml');
const { Registry } = require('../lib/registry');
const { Store } = require('../lib/store');
const { ApiServer } = require('../lib/apiserver');

const KUBECTL = '/usr/bin/kubectl';
const ADMIN_TOKEN = 'admin-token-0123456789';
const ALICE_TOKEN = 'alice-token-0123456789';

// alice may read and create configmaps and pods in "default" and nothing else;
// the admin (system:masters) may do everything, impersonation included.
const standInAuth = {
  authenticate(req) {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
    if (!m) return null;
    if (m[1] === ADMIN_TOKEN) return { username: 'kube-admin', groups: ['system:masters', 'system:authenticated'], uid: 'admin' };
    if (m[1] === ALICE_TOKEN) return { username: 'alice', groups: ['system:authenticated'], uid: 'alice' };
    return null;
  },
  authorize(user, attrs) {
    if ((user.groups || []).includes('system:masters')) return { allowed: true, reason: 'masters' };
    if (attrs.resource === undefined) return { allowed: true, reason: 'discovery' };
    if (['selfsubjectaccessreviews', 'selfsubjectreviews'].includes(attrs.resource)) return { allowed: true, reason: 'self' };
    const readOnly = ['get', 'list', 'watch'].includes(attrs.verb);
    if (user.username === 'alice' && attrs.namespace === 'default' && ['configmaps', 'pods'].includes(attrs.resource)
        && !attrs.subresource && (readOnly || attrs.verb === 'create')) return { allowed: true, reason: 'alice' };
    if (user.username === 'system:serviceaccount:default:reader' && readOnly && attrs.resource === 'pods') return { allowed: true, reason: 'sa' };
    return { allowed: false, reason: '' };
  },
  issueToken(sa, { expirationSeconds }) {
    return { token: `token-for-${sa.metadata.name}`, expirationTimestamp: new Date(Date.now() + expirationSeconds * 1000).toISOString() };
  },
};

const standInKubelet = {
  async logs(ns, pod, opts, out) {
    const lines = ['first line', 'second line', 'third line'].map((l) => `${pod}/${opts.container}: ${l}\n`);
    for (const l of opts.tailLines !== undefined ? lines.slice(-opts.tailLines) : lines) out.write(l);
  },
  proxy(ns, pod, port, p, req, res) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`proxied ${ns}/${pod}:${port}${p}`);
  },
};

// /openapi/v3 as kubectl's field-validation check reads it: every group
// version's PATCH operations accept fieldValidation.
const standInOpenapi = {
  gvPath: (r) => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`),
  openapiV3Paths(registry) {
    const paths = {};
    for (const r of registry.all()) paths[this.gvPath(r)] = { serverRelativeURL: `/openapi/v3/${this.gvPath(r)}?hash=X` };
    return { paths };
  },
  openapiV3Doc(registry, gv) {
    const rs = registry.all().filter((r) => this.gvPath(r) === gv);
    if (!rs.length) return null;
    const paths = {};
    for (const r of rs) {
      paths[`/${gv}/${r.namespaced ? 'namespaces/{namespace}/' : ''}${r.plural}/{name}`] = {
        patch: {
          'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
          parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }],
          responses: {},
        },
      };
    }
    return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } };
  },
};

function optionalModules() {
  const has = (name) => fs.existsSync(path.join(__dirname, '..', 'lib', `${name}.js`));
  const modules = {};
  if (!has('openapi')) modules.openapi = standInOpenapi;
  return modules;
}

function makeCert(dir) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=kube-sim-test',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'pipe' });
  return {
    key: fs.readFileSync(path.join(dir, 'key.pem')),
    cert: fs.readFileSync(path.join(dir, 'cert.pem')),
  };
}

async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-sim-api-'));
  const tls = makeCert(dir);
  const registry = new Registry();
  const store = new Store(registry);
  const ns = registry.byPlural('', 'v1', 'namespaces');
  store.create(ns, { metadata: { name: 'default' } });
  store.create(ns, { metadata: { name: 'kube-system' } });
  const log = [];
  const server = new ApiServer({
    store, registry, auth: standInAuth, faults: null, kubelet: standInKubelet,
    tls: { ...tls, ca: tls.cert }, log: (line) => log.push(line), modules: optionalModules(),
    allocateClusterIP: (used) => `10.96.0.${10 + used.length}`,
  });
  const port = await server.listen('127.0.0.1', 0);
  const kubeconfig = (token) => yaml.dump({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'test',
    clusters: [{ name: 'test', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': tls.cert.toString('base64') } }],
    users: [{ name: 'u', user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'u', namespace: 'default' } }],
  });
  fs.writeFileSync(path.join(dir, 'admin.kubeconfig'), kubeconfig(ADMIN_TOKEN));
  fs.writeFileSync(path.join(dir, 'alice.kubeconfig'), kubeconfig(ALICE_TOKEN));
  fs.mkdirSync(path.join(dir, 'cache'));

  // kubectl runs asynchronously: the server lives in this very process.
  const kubectl = (args, { input, user = 'admin', timeoutMs = 30000 } = {}) => new Promise((resolve) => {
    const child = execFile(KUBECTL, [`--kubeconfig=${path.join(dir, `${user}.kubeconfig`)}`, `--cache-dir=${path.join(dir, 'cache')}`, ...args],
      { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
    if (input !== undefined) child.stdin.end(input);
  });
  // A long-running kubectl whose output is read as it comes.
  const spawnKubectl = (args, { user = 'admin' } = {}) => {
    const child = spawn(KUBECTL, [`--kubeconfig=${path.join(dir, `${user}.kubeconfig`)}`, `--cache-dir=${path.join(dir, 'cache')}`, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    return { output: () => out, stop: () => { child.kill('SIGTERM'); return exited; } };
  };
  const file = (name, obj) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, typeof obj === 'string' ? obj : yaml.dump(obj));
    return f;
  };
  const close = async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { server, store, registry, port, dir, kubectl, spawnKubectl, file, log, close, r: (p, g = '', v = 'v1') => registry.byPlural(g, v, p) };
}

module.exports = { startServer, ADMIN_TOKEN, ALICE_TOKEN };
