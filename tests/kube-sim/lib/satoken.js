'use strict';
// Service-account tokens: JWTs with the claims the real API server puts in
// bound tokens (TokenRequest, projected volumes), signed with the cluster's
// service-account key (ES256 for EC keys, RS256 for RSA keys).

const crypto = require('crypto');

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SA_PREFIX = 'system:serviceaccount:';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const fromB64url = (s) => Buffer.from(s, 'base64url');

function algFor(key) {
  if (key.asymmetricKeyType === 'ec') return 'ES256';
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  throw new Error(`service-account key of type ${key.asymmetricKeyType} is not supported (use EC P-256 or RSA)`);
}

// The key id the real API server uses: sha256 of the DER public key.
function keyId(publicKey) {
  return b64url(crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
}

class TokenSigner {
  // privateKeyPem / publicKeyPem: the service-account key pair.
  constructor({ privateKeyPem, publicKeyPem, issuer = ISSUER, apiAudiences }) {
    this.privateKey = crypto.createPrivateKey(privateKeyPem);
    this.publicKey = publicKeyPem ? crypto.createPublicKey(publicKeyPem) : crypto.createPublicKey(this.privateKey);
    this.alg = algFor(this.privateKey);
    this.kid = keyId(this.publicKey);
    this.issuer = issuer;
    // Tokens meant for the API itself carry one of these audiences.
    this.apiAudiences = apiAudiences || [issuer];
  }

  // claims: the JWT payload. -> compact JWS
  sign(claims) {
    const header = { alg: this.alg, kid: this.kid };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = crypto.sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  }

  // sa: { metadata: {namespace, name, uid} }; boundPod: { metadata: {name, uid} }.
  // -> { token, expirationTimestamp, claims }
  issue(sa, { audiences, expirationSeconds = 3600, boundPod, nodeName, now = Date.now() } = {}) {
    const { namespace, name, uid } = sa.metadata;
    const iat = Math.floor(now / 1000);
    const exp = iat + Number(expirationSeconds);
    const k8s = { namespace, serviceaccount: { name, uid } };
    if (boundPod) k8s.pod = { name: boundPod.metadata.name, uid: boundPod.metadata.uid };
    const node = nodeName || (boundPod && boundPod.spec && boundPod.spec.nodeName);
    if (node) k8s.node = { name: node };
    const claims = {
      aud: audiences && audiences.length ? [...audiences] : [...this.apiAudiences],
      exp,
      iat,
      iss: this.issuer,
      jti: crypto.randomUUID(),
      'kubernetes.io': k8s,
      nbf: iat,
      sub: `${SA_PREFIX}${namespace}:${name}`,
    };
    return {
      token: this.sign(claims),
      expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
      claims,
    };
  }

  // Checks signature, issuer, times and audience (not whether the objects it
  // names still exist). -> { claims } or { error }
  verify(token, { audiences = this.apiAudiences, now = Date.now() } = {}) {
    const parts = String(token).split('.');
    if (parts.length !== 3) return { error: 'not a JWT' };
    let header;
    let claims;
    try {
      header = JSON.parse(fromB64url(parts[0]).toString('utf8'));
      claims = JSON.parse(fromB64url(parts[1]).toString('utf8'));
    } catch {
      return { error: 'malformed JWT' };
    }
    if (header.alg !== this.alg) return { error: `unexpected signing algorithm ${header.alg}` };
    const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`),
      { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, fromB64url(parts[2]));
    if (!ok) return { error: 'invalid signature' };
    if (claims.iss !== this.issuer) return { error: `unknown issuer ${claims.iss}` };
    const t = Math.floor(now / 1000);
    // The real server allows 60 s of clock skew.
    if (typeof claims.exp !== 'number' || t > claims.exp + 60) return { error: 'token has expired' };
    if (typeof claims.nbf === 'number' && t < claims.nbf - 60) return { error: 'token is not valid yet' };
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => audiences.includes(a))) return { error: 'token audiences is invalid' };
    const k8s = claims['kubernetes.io'];
    if (!k8s || !k8s.namespace || !k8s.serviceaccount || !k8s.serviceaccount.name) {
      return { error: 'token lacks the kubernetes.io claims' };
    }
    if (claims.sub !== `${SA_PREFIX}${k8s.namespace}:${k8s.serviceaccount.name}`) return { error: 'sub does not match kubernetes.io claims' };
    return { claims };
  }
}

// "system:serviceaccount:ns:name" -> {namespace, name} or null
function parseServiceAccountUser(username) {
  if (!username || !username.startsWith(SA_PREFIX)) return null;
  const rest = username.slice(SA_PREFIX.length).split(':');
  if (rest.length !== 2 || !rest[0] || !rest[1]) return null;
  return { namespace: rest[0], name: rest[1] };
}

function serviceAccountUser(namespace, name) {
  return {
    username: `${SA_PREFIX}${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

module.exports = { TokenSigner, ISSUER, SA_PREFIX, parseServiceAccountUser, serviceAccountUser };
