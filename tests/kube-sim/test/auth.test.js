'use strict';
// Authentication: the PKI, service-account tokens, client certificates,
// impersonation and the kubeconfig — including real kubectl and curl
// against a small HTTPS server that uses them.

const test = require('node:test');
const assert = require('node:assert');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const https = require('https');
const { execFile } = require('child_process');
const { Registry } = require('../lib/registry');
const { Store } = require('../lib/store');
const { ensurePki, issueClientCert } = require('../lib/certs');
const { Auth } = require('../lib/auth');
const { TokenSigner } = require('../lib/satoken');
const { writeKubeconfig } = require('../lib/kubeconfig');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-sim-auth-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let pkiPromise;
const pki = () => (pkiPromise = pkiPromise || ensurePki(path.join(tmp, 'pki'), { apiHosts: ['192.0.2.7', 'zk.example'] }));

async function setup() {
  const registry = new Registry();
  const store = new Store(registry);
  const r = (p, g = '', v = 'v1') => registry.byPlural(g, v, p);
  for (const ns of ['default', 'a']) store.create(r('namespaces'), { metadata: { name: ns } });
  const auth = new Auth({ store, registry, pki: await pki() });
  auth.bootstrap();
  return { store, registry, r, auth };
}

const bearer = (token, headers = {}) => ({ headers: { authorization: `Bearer ${token}`, ...headers } });
const withCert = (pem) => ({
  headers: {},
  socket: { getPeerCertificate: () => ({ raw: new crypto.X509Certificate(pem).raw }) },
});

test('ensurePki makes a CA, a serving cert with every SAN, an admin cert, and reuses them', async () => {
  const t0 = Date.now();
  const p = await ensurePki(path.join(tmp, 'pki-speed'), { apiHosts: ['10.1.2.3'] });
  assert.ok(Date.now() - t0 < 2000, `PKI took ${Date.now() - t0} ms`);
  const ca = new crypto.X509Certificate(p.ca.certPem);
  const server = new crypto.X509Certificate(p.server.certPem);
  assert.ok(server.verify(ca.publicKey));
  for (const h of ['127.0.0.1', 'localhost', 'kubernetes.default.svc.cluster.local', '10.96.0.1', '10.1.2.3']) {
    assert.ok(server.checkHost(h) || server.checkIP(h), `serving cert lacks ${h}`);
  }
  const admin = new crypto.X509Certificate(p.admin.certPem);
  assert.match(admin.subject, /O=system:masters/);
  assert.match(admin.subject, /CN=kube-sim-admin/);
  assert.strictEqual(fs.statSync(p.ca.keyPath).mode & 0o777, 0o600);
  const again = await ensurePki(path.join(tmp, 'pki-speed'), { apiHosts: ['10.1.2.3'] });
  assert.strictEqual(again.ca.certPem, p.ca.certPem);
  assert.strictEqual(again.server.certPem, p.server.certPem);
  assert.strictEqual(again.sa.privateKeyPem, p.sa.privateKeyPem);
  // A new host re-issues the serving cert, under the same CA.
  const more = await ensurePki(path.join(tmp, 'pki-speed'), { apiHosts: ['10.1.2.3', '10.1.2.4'] });
  assert.strictEqual(more.ca.certPem, p.ca.certPem);
  assert.notStrictEqual(more.server.certPem, p.server.certPem);
  assert.ok(new crypto.X509Certificate(more.server.certPem).checkIP('10.1.2.4'));
});

test('the static admin token authenticates as kube-sim-admin in system:masters; others do not', async () => {
  const { auth } = await setup();
  const u = auth.authenticate(bearer(auth.adminToken));
  assert.strictEqual(u.username, 'kube-sim-admin');
  assert.deepStrictEqual(u.groups.sort(), ['system:authenticated', 'system:masters']);
  assert.strictEqual(auth.authenticate(bearer(auth.adminToken + 'x')), null);
  assert.strictEqual(auth.authenticate(bearer('not-a-token')), null);
  assert.strictEqual(auth.authenticate({ headers: {} }), null);
  const anon = new Auth({ store: auth.store, pki: await pki(), allowAnonymous: true });
  assert.deepStrictEqual(anon.authenticate({ headers: {} }).groups, ['system:unauthenticated']);
});

test('a service-account token carries the real claims and authenticates while its objects exist', async () => {
  const { store, r, auth } = await setup();
  const sa = store.create(r('serviceaccounts'), { metadata: { name: 'zk', namespace: 'a' } });
  const pod = store.create(r('pods'), { metadata: { name: 'zk-0', namespace: 'a' }, spec: { serviceAccountName: 'zk', containers: [] } });
  const { token, expirationTimestamp } = auth.issueToken(sa, { boundPod: pod, expirationSeconds: 600 });
  assert.ok(Math.abs(Date.parse(expirationTimestamp) - (Date.now() + 600e3)) < 5000);
  const [h, c] = token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url')));
  assert.strictEqual(h.alg, 'ES256');
  assert.ok(h.kid);
  assert.strictEqual(c.iss, 'https://kubernetes.default.svc.cluster.local');
  assert.strictEqual(c.sub, 'system:serviceaccount:a:zk');
  assert.deepStrictEqual(c.aud, ['https://kubernetes.default.svc.cluster.local']);
  assert.strictEqual(c.exp - c.iat, 600);
  assert.strictEqual(c.nbf, c.iat);
  assert.deepStrictEqual(c['kubernetes.io'], {
    namespace: 'a', serviceaccount: { name: 'zk', uid: sa.metadata.uid }, pod: { name: 'zk-0', uid: pod.metadata.uid },
  });

  const u = auth.authenticate(bearer(token));
  assert.strictEqual(u.username, 'system:serviceaccount:a:zk');
  assert.deepStrictEqual(u.groups, ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated']);
  assert.strictEqual(u.uid, sa.metadata.uid);
  assert.deepStrictEqual(u.extra['authentication.kubernetes.io/pod-name'], ['zk-0']);

  // A tampered payload fails the signature.
  const parts = token.split('.');
  const forged = JSON.parse(Buffer.from(parts[1], 'base64url'));
  forged.sub = 'system:serviceaccount:kube-system:admin';
  assert.strictEqual(auth.authenticate(bearer(`${parts[0]}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${parts[2]}`)), null);

  // A token for another audience is not for the API.
  const other = auth.issueToken(sa, { audiences: ['vault'] });
  assert.strictEqual(auth.authenticate(bearer(other.token)), null);
  assert.ok(auth.verifyToken(other.token, { audiences: ['vault'] }).user);

  // Pod deleted (never scheduled: removed at once): the bound token dies.
  store.delete(r('pods'), 'a', 'zk-0');
  assert.strictEqual(auth.authenticate(bearer(token)), null);
  assert.match(auth.verifyToken(token).error, /pod a\/zk-0 has been deleted/);

  // An unbound token dies with its ServiceAccount, also when one of that name returns.
  const plain = auth.issueToken({ metadata: { namespace: 'a', name: 'zk' } }).token;
  assert.ok(auth.authenticate(bearer(plain)));
  store.delete(r('serviceaccounts'), 'a', 'zk');
  assert.strictEqual(auth.authenticate(bearer(plain)), null);
  store.create(r('serviceaccounts'), { metadata: { name: 'zk', namespace: 'a' } });
  assert.match(auth.verifyToken(plain).error, /does not match/);
});

test('an expired token, or one signed with another key, is rejected', async () => {
  const { store, r, auth } = await setup();
  const sa = store.create(r('serviceaccounts'), { metadata: { name: 'x', namespace: 'a' } });
  const old = auth.signer.issue(sa, { expirationSeconds: 600, now: Date.now() - 3600e3 });
  assert.match(auth.verifyToken(old.token).error, /expired/);
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const stranger = new TokenSigner({ privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
  assert.match(auth.verifyToken(stranger.issue(sa).token).error, /signature/);
  // RSA keys sign RS256.
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rs = new TokenSigner({ privateKeyPem: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) });
  const t = rs.issue(sa).token;
  assert.strictEqual(JSON.parse(Buffer.from(t.split('.')[0], 'base64url')).alg, 'RS256');
  assert.ok(rs.verify(t).claims);
});

test('a client certificate of the cluster CA authenticates (CN user, O groups); another CA\'s does not', async () => {
  const { auth } = await setup();
  const p = await pki();
  const u = auth.authenticate(withCert(p.admin.certPem));
  assert.deepStrictEqual(u, { username: 'kube-sim-admin', groups: ['system:masters', 'system:authenticated'], uid: '', extra: {} });
  const dev = await issueClientCert(p, 'dev', 'dev-user', ['devs', 'zk-admins']);
  assert.deepStrictEqual(auth.authenticate(withCert(dev.certPem)).groups, ['devs', 'zk-admins', 'system:authenticated']);
  const foreign = await ensurePki(path.join(tmp, 'pki-foreign'));
  assert.strictEqual(auth.authenticate(withCert(foreign.admin.certPem)), null);
  // The serving certificate is not a client certificate.
  assert.strictEqual(auth.authenticate(withCert(p.server.certPem)), null);
  // A socket without a peer certificate is just no certificate.
  assert.strictEqual(auth.authenticate({ headers: {}, socket: { getPeerCertificate: () => ({}) } }), null);
});

test('impersonation needs the impersonate verb; the effective user gets the right groups', async () => {
  const { store, r, auth } = await setup();
  const admin = auth.adminUser;
  const req = (h) => ({ headers: h, rawHeaders: Object.entries(h).flatMap(([k, v]) => (Array.isArray(v) ? v.flatMap((x) => [k, x]) : [k, v])) });
  assert.strictEqual(auth.impersonate(admin, req({})), admin);
  const bob = auth.impersonate(admin, req({ 'impersonate-user': 'bob', 'impersonate-group': ['g1', 'g2'] }));
  assert.deepStrictEqual(bob, { username: 'bob', groups: ['g1', 'g2', 'system:authenticated'], uid: '', extra: {} });
  const sa = auth.impersonate(admin, req({ 'impersonate-user': 'system:serviceaccount:a:zk' }));
  assert.deepStrictEqual(sa.groups, ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated']);

  const alice = { username: 'alice', groups: ['system:authenticated'], uid: '', extra: {} };
  assert.throws(() => auth.impersonate(alice, req({ 'impersonate-user': 'bob' })), {
    code: 403,
    message: 'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
  });
  const rbac = (p) => r(p, 'rbac.authorization.k8s.io');
  store.create(rbac('clusterroles'), { metadata: { name: 'imp' }, rules: [{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['bob'] }] });
  store.create(rbac('clusterrolebindings'), { metadata: { name: 'imp' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'imp' }, subjects: [{ kind: 'User', name: 'alice' }] });
  assert.strictEqual(auth.impersonate(alice, req({ 'impersonate-user': 'bob' })).username, 'bob');
  assert.throws(() => auth.impersonate(alice, req({ 'impersonate-user': 'carol' })), { code: 403 });
  assert.throws(() => auth.impersonate(alice, req({ 'impersonate-user': 'bob', 'impersonate-group': 'system:masters' })), {
    code: 403, message: /groups "system:masters" is forbidden/,
  });
  assert.throws(() => auth.impersonate(alice, req({ 'impersonate-user': 'system:serviceaccount:a:zk' })), {
    message: /serviceaccounts "zk" is forbidden: .* in the namespace "a"/,
  });
});

test('authorize: reason as in a SubjectAccessReview, message as in the 403', async () => {
  const { auth } = await setup();
  const alice = { username: 'alice', groups: ['system:authenticated'], uid: '', extra: {} };
  const attrs = { verb: 'list', apiGroup: 'apps', resource: 'statefulsets', namespace: 'a' };
  assert.deepStrictEqual(auth.authorize(alice, attrs), {
    allowed: false, reason: '',
    message: 'statefulsets.apps is forbidden: User "alice" cannot list resource "statefulsets" in API group "apps" in the namespace "a"',
  });
  assert.strictEqual(auth.forbidden(alice, attrs).code, 403);
  assert.strictEqual(auth.authorize(auth.adminUser, attrs).allowed, true);
  assert.strictEqual(auth.authorize(alice, { verb: 'get', path: '/version' }).allowed, true);
});

test('the kubeconfig has a token user and a certificate user, mode 0600', async () => {
  const p = await pki();
  const file = path.join(tmp, 'cfg', 'kubeconfig');
  writeKubeconfig(file, { server: 'https://127.0.0.1:6443', caPem: p.ca.certPem, token: 'tok', clientCert: p.admin.certPem, clientKey: p.admin.keyPem });
  assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
  const cfg = require('js-yaml').load(fs.readFileSync(file, 'utf8'));
  assert.strictEqual(cfg['current-context'], 'kube-sim');
  assert.deepStrictEqual(cfg.users.map((u) => u.name), ['kube-sim-admin', 'kube-sim-admin-cert']);
  assert.deepStrictEqual(cfg.contexts.map((c) => c.name), ['kube-sim', 'kube-sim-cert']);
});

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20000 }, (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

test('end to end: kubectl and curl reach an HTTPS server with these certs, by token and by client cert', async (t) => {
  const { auth } = await setup();
  const p = await pki();
  const server = https.createServer({
    key: p.server.keyPem, cert: p.server.certPem, requestCert: true, rejectUnauthorized: false,
  }, (req, res) => {
    let user = auth.authenticate(req);
    try {
      if (user) user = auth.impersonate(user, req);
    } catch (err) {
      res.writeHead(err.code, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(err.toStatus())); return;
    }
    if (!user) { res.writeHead(401, { 'Content-Type': 'application/json' }); res.end('{"kind":"Status","code":401}'); return; }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0', user: user.username, groups: user.groups }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address();
  const kubeconfig = path.join(tmp, 'e2e-kubeconfig');
  writeKubeconfig(kubeconfig, {
    server: `https://127.0.0.1:${port}`, caPem: p.ca.certPem, token: auth.adminToken,
    clientCert: p.admin.certPem, clientKey: p.admin.keyPem,
  });

  for (const context of ['kube-sim', 'kube-sim-cert']) {
    const out = await run('kubectl', ['--kubeconfig', kubeconfig, '--context', context, 'get', '--raw', '/version']);
    assert.strictEqual(out.code, 0, `kubectl (${context}): ${out.stderr}`);
    assert.strictEqual(JSON.parse(out.stdout).user, 'kube-sim-admin');
  }

  // Impersonation headers as kubectl sends them (the group header repeats).
  const as = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', '/version', '--as', 'bob', '--as-group', 'g1', '--as-group', 'g2']);
  assert.strictEqual(as.code, 0, as.stderr);
  assert.deepStrictEqual(JSON.parse(as.stdout), { ...JSON.parse(as.stdout), user: 'bob', groups: ['g1', 'g2', 'system:authenticated'] });
  const sa = auth.store.create(auth.registry.byPlural('', 'v1', 'serviceaccounts'), { metadata: { name: 'nobody', namespace: 'a' } });
  const saToken = auth.issueToken(sa).token;
  const denied = await run('kubectl', ['--kubeconfig', kubeconfig, '--token', saToken, 'get', '--raw', '/version', '--as', 'bob']);
  assert.notStrictEqual(denied.code, 0);
  assert.match(denied.stderr, /users "bob" is forbidden: User "system:serviceaccount:a:nobody" cannot impersonate resource "users"/);

  const url = `https://localhost:${port}/version`;
  const byCert = await run('curl', ['-sS', '--cacert', p.ca.certPath, '--cert', p.admin.certPath, '--key', p.admin.keyPath, url]);
  assert.strictEqual(byCert.code, 0, byCert.stderr);
  assert.deepStrictEqual(JSON.parse(byCert.stdout).groups, ['system:masters', 'system:authenticated']);
  const foreign = await ensurePki(path.join(tmp, 'pki-foreign'));
  const bad = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', p.ca.certPath,
    '--cert', foreign.admin.certPath, '--key', foreign.admin.keyPath, url]);
  assert.strictEqual(bad.stdout, '401');
  // The server's certificate does not verify against another CA.
  const wrongCa = await run('curl', ['-sS', '--cacert', foreign.ca.certPath, url]);
  assert.notStrictEqual(wrongCa.code, 0);
});
