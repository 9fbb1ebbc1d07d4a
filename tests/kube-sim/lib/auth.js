'use strict';
// Who is calling, and may they: authentication (static admin token,
// service-account JWTs, client certificates of the cluster CA),
// impersonation, and RBAC authorization (lib/authz.js).
//
// A user is { username, groups, uid, extra } as in user.Info of the real API.

const crypto = require('crypto');
const errors = require('./errors');
const { TokenSigner, parseServiceAccountUser, serviceAccountUser } = require('./satoken');
const { Rbac, bootstrap, forbiddenMessage, forbiddenError, AUTHENTICATED, UNAUTHENTICATED } = require('./authz');
const { ADMIN_USER, ADMIN_GROUP } = require('./certs');

const ANONYMOUS = 'system:anonymous';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';
const EXTRA = 'authentication.kubernetes.io';
// A pod deleted longer ago than this no longer backs its tokens.
const POD_DELETION_GRACE_MS = 60e3;

// Every value of a header that may repeat (Impersonate-Group), from either
// an http or an http2 compat request.
function headerValues(req, name) {
  if (req.headersDistinct && req.headersDistinct[name]) return req.headersDistinct[name];
  if (Array.isArray(req.rawHeaders)) {
    const out = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i].toLowerCase() === name) out.push(req.rawHeaders[i + 1]);
    }
    return out;
  }
  const v = req.headers && req.headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function peerCertificate(req) {
  const sock = req.socket || (req.stream && req.stream.session && req.stream.session.socket);
  if (!sock || typeof sock.getPeerCertificate !== 'function') return null;
  const cert = sock.getPeerCertificate(false);
  return cert && cert.raw ? cert.raw : null;
}

const asList = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

class Auth {
  // pki: the result of certs.ensurePki (ca.certPem, sa.privateKeyPem, sa.publicKeyPem).
  // allowAnonymous: a request without credentials is system:anonymous
  // (as the real default) instead of unauthenticated (null).
  constructor({ store, registry, pki, adminToken, allowAnonymous = false, issuer, apiAudiences }) {
    this.store = store;
    this.registry = registry || store.registry;
    this.pki = pki;
    this.adminToken = adminToken || crypto.randomBytes(32).toString('base64url');
    this.allowAnonymous = allowAnonymous;
    this.caCert = new crypto.X509Certificate(pki.ca.certPem);
    this.signer = new TokenSigner({ privateKeyPem: pki.sa.privateKeyPem, publicKeyPem: pki.sa.publicKeyPem, issuer, apiAudiences });
    this.rbac = new Rbac(store);
    this.res = {
      serviceAccounts: this.registry.byPlural('', 'v1', 'serviceaccounts'),
      pods: this.registry.byPlural('', 'v1', 'pods'),
    };
  }

  get adminUser() {
    return { username: ADMIN_USER, groups: [ADMIN_GROUP, AUTHENTICATED], uid: ADMIN_USER, extra: {} };
  }

  // -> user or null (the caller answers 401). A client certificate is tried
  // first, then the bearer token, as the real authenticator chain does.
  authenticate(req) {
    const raw = peerCertificate(req);
    if (raw) {
      const user = this.verifyClientCert(raw);
      if (user) return user;
    }
    const header = (req.headers && req.headers.authorization) || '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m) {
      const { user } = this.verifyToken(m[1]);
      return user || null;
    }
    if (!raw && !header && this.allowAnonymous) {
      return { username: ANONYMOUS, groups: [UNAUTHENTICATED], uid: '', extra: {} };
    }
    return null;
  }

  // raw: DER Buffer or PEM string. -> user or null
  verifyClientCert(raw, now = Date.now()) {
    let cert;
    try { cert = new crypto.X509Certificate(raw); } catch { return null; }
    try {
      if (!cert.checkIssued(this.caCert) || !cert.verify(this.caCert.publicKey)) return null;
    } catch { return null; }
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) return null;
    if (cert.ca) return null;
    const eku = cert.keyUsage;
    if (Array.isArray(eku) && !eku.includes(EKU_CLIENT_AUTH) && !eku.includes(EKU_ANY)) return null;
    const subject = cert.toLegacyObject().subject || {};
    const username = asList(subject.CN)[0];
    if (!username) return null;
    const groups = asList(subject.O).filter((g) => g !== AUTHENTICATED);
    groups.push(AUTHENTICATED);
    return { username, groups, uid: '', extra: {} };
  }

  // For requests and TokenReview. -> { user } or { error }
  verifyToken(token, { audiences } = {}) {
    const given = Buffer.from(String(token));
    const admin = Buffer.from(this.adminToken);
    if (given.length === admin.length && crypto.timingSafeEqual(given, admin)) {
      return { user: this.adminUser };
    }
    const { claims, error } = this.signer.verify(token, audiences ? { audiences } : {});
    if (error) return { error: `invalid bearer token, ${error}` };
    const k8s = claims['kubernetes.io'];
    const sa = this.store.tryGet(this.res.serviceAccounts, k8s.namespace, k8s.serviceaccount.name);
    if (!sa || sa.metadata.deletionTimestamp) {
      return { error: `invalid bearer token, service account ${k8s.namespace}/${k8s.serviceaccount.name} has been deleted` };
    }
    if (k8s.serviceaccount.uid && sa.metadata.uid !== k8s.serviceaccount.uid) {
      return { error: `invalid bearer token, service account UID (${k8s.serviceaccount.uid}) does not match claim (${sa.metadata.uid})` };
    }
    const extra = { [`${EXTRA}/credential-id`]: [`JTI=${claims.jti}`] };
    if (k8s.pod) {
      const pod = this.store.tryGet(this.res.pods, k8s.namespace, k8s.pod.name);
      const gone = !pod || pod.metadata.uid !== k8s.pod.uid
        || (pod.metadata.deletionTimestamp && Date.parse(pod.metadata.deletionTimestamp) < Date.now() - POD_DELETION_GRACE_MS);
      if (gone) return { error: `invalid bearer token, pod ${k8s.namespace}/${k8s.pod.name} has been deleted` };
      extra[`${EXTRA}/pod-name`] = [k8s.pod.name];
      extra[`${EXTRA}/pod-uid`] = [k8s.pod.uid];
    }
    if (k8s.node) extra[`${EXTRA}/node-name`] = [k8s.node.name];
    const { username, groups } = serviceAccountUser(k8s.namespace, k8s.serviceaccount.name);
    return { user: { username, groups, uid: sa.metadata.uid, extra }, audiences: claims.aud };
  }

  // serviceAccount: the ServiceAccount object (or {metadata:{namespace,name}}:
  // its uid is looked up). -> { token, expirationTimestamp }
  issueToken(serviceAccount, { audiences, expirationSeconds = 3600, boundPod } = {}) {
    let sa = serviceAccount;
    if (!sa.metadata.uid) sa = this.store.get(this.res.serviceAccounts, sa.metadata.namespace, sa.metadata.name);
    const { token, expirationTimestamp } = this.signer.issue(sa, { audiences, expirationSeconds, boundPod });
    return { token, expirationTimestamp };
  }

  // Applies Impersonate-* headers: -> the effective user (user itself when
  // there are none). Throws 403 when user may not impersonate what it asks.
  impersonate(user, req) {
    const wantUser = headerValues(req, 'impersonate-user')[0];
    const wantUid = headerValues(req, 'impersonate-uid')[0];
    const wantGroups = headerValues(req, 'impersonate-group');
    const wantExtra = {};
    for (const name of Object.keys(req.headers || {})) {
      if (!name.startsWith('impersonate-extra-')) continue;
      const key = decodeURIComponent(name.slice('impersonate-extra-'.length));
      wantExtra[key] = headerValues(req, name);
    }
    if (wantUser === undefined) {
      if (wantGroups.length || Object.keys(wantExtra).length || wantUid !== undefined) {
        throw errors.internal('Internal error occurred: requested impersonation of groups, extra or uid without impersonating a user');
      }
      return user;
    }
    const checks = [];
    const sa = parseServiceAccountUser(wantUser);
    if (sa) checks.push({ verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: sa.namespace, name: sa.name });
    else checks.push({ verb: 'impersonate', apiGroup: '', resource: 'users', name: wantUser });
    for (const g of wantGroups) checks.push({ verb: 'impersonate', apiGroup: '', resource: 'groups', name: g });
    for (const [key, values] of Object.entries(wantExtra)) {
      for (const v of values) checks.push({ verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
    }
    if (wantUid !== undefined) checks.push({ verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', name: wantUid });
    for (const attrs of checks) {
      const { allowed, reason } = this.authorize(user, attrs);
      if (!allowed) throw forbiddenError(user, attrs, reason);
    }
    let groups = [...wantGroups];
    if (sa && !groups.length) groups = serviceAccountUser(sa.namespace, sa.name).groups.filter((g) => g !== AUTHENTICATED);
    if (wantUser === ANONYMOUS) {
      if (!groups.includes(UNAUTHENTICATED)) groups.push(UNAUTHENTICATED);
    } else if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) {
      groups.push(AUTHENTICATED);
    }
    return { username: wantUser, groups, uid: wantUid || '', extra: wantExtra };
  }

  // attrs: {verb, apiGroup, resource, subresource, namespace, name, path}
  // (no resource: a non-resource request for path).
  // -> { allowed, reason, message? }. reason is the authorizer's own, as in a
  // SubjectAccessReview's status: "" or "RBAC: ..."; it is the tail the real
  // 403 text ends with (": RBAC: ..."). On denial, message is that whole text
  // (`pods "p" is forbidden: User "u" cannot get resource ...`).
  authorize(user, attrs) {
    const r = this.rbac.authorize(user, attrs);
    if (r.allowed) return { allowed: true, reason: r.reason };
    return { allowed: false, reason: r.reason, message: forbiddenMessage(user, attrs, r.reason) };
  }

  // The 403 ApiError for a denied request.
  forbidden(user, attrs, reason = '') { return forbiddenError(user, attrs, reason); }

  // Creating or updating a Role, ClusterRole or a binding: throws the 403
  // of the RBAC storage's escalation prevention (see Rbac.checkWrite).
  checkRbacWrite(user, req, obj, old) { this.rbac.checkWrite(user, req, obj, old); }

  // SelfSubjectRulesReview status.
  rulesFor(user, namespace) { return this.rbac.rulesFor(user, namespace); }

  // Creates the default ClusterRoles/ClusterRoleBindings in the store.
  bootstrap() { bootstrap(this.store); }
}

module.exports = { Auth, bootstrap, headerValues, ANONYMOUS };
