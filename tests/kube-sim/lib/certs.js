'use strict';
// The cluster's PKI: a CA, the API server's serving certificate, an admin
// client certificate (system:masters) and the service-account signing key.
// Made once per state directory and reused; EC P-256 throughout because RSA
// key generation would eat most of the cluster's start-up budget.
//
// node:crypto cannot issue X.509 certificates, so the openssl CLI signs them.

const crypto = require('crypto');
const fs = require('fs');
const fsp = require('fs/promises');
const path = require('path');
const net = require('net');
const { execFile } = require('child_process');

const CA_DAYS = 3650;
const LEAF_DAYS = 825;
const BUILTIN_SANS = [
  '127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local', '10.96.0.1',
];
const ADMIN_USER = 'kube-sim-admin';
const ADMIN_GROUP = 'system:masters';

function openssl(args, cwd) {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd }, (err, stdout, stderr) => {
      if (err) {
        const why = err.code === 'ENOENT' ? 'the openssl command is not installed' : String(stderr || err.message).trim();
        reject(new Error(`openssl ${args[0]} failed: ${why}`));
      } else resolve(stdout);
    });
  });
}

function newEcKeyPem() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' });
}

// A random positive 128-bit serial, so that no serial file is needed.
function serial() {
  const b = crypto.randomBytes(16);
  b[0] &= 0x7f;
  return '0x' + b.toString('hex');
}

function sanEntry(host) {
  return net.isIP(host) ? `IP:${host}` : `DNS:${host}`;
}

async function writeFile(file, data, mode) {
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, data, { mode });
  await fsp.rename(tmp, file);
}

function readIfExists(file) {
  try { return fs.readFileSync(file, 'utf8'); } catch (err) { if (err.code === 'ENOENT') return null; throw err; }
}

// Signs a leaf certificate for keyPem with the CA; ext is an openssl
// extension section body.
async function signLeaf(dir, name, subject, ext) {
  const keyPem = newEcKeyPem();
  const keyPath = path.join(dir, `${name}.key`);
  const csrPath = path.join(dir, `${name}.csr`);
  const extPath = path.join(dir, `${name}.ext`);
  const certPath = path.join(dir, `${name}.crt`);
  await writeFile(keyPath, keyPem, 0o600);
  await writeFile(extPath, ext, 0o600);
  await openssl(['req', '-new', '-key', keyPath, '-subj', subject, '-out', csrPath], dir);
  await openssl(['x509', '-req', '-in', csrPath, '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'),
    '-set_serial', serial(), '-days', String(LEAF_DAYS), '-sha256', '-extfile', extPath, '-out', `${certPath}.tmp`], dir);
  await fsp.rename(`${certPath}.tmp`, certPath);
  await Promise.all([fsp.rm(csrPath, { force: true }), fsp.rm(extPath, { force: true })]);
  return { certPath, keyPath, certPem: fs.readFileSync(certPath, 'utf8'), keyPem };
}

async function makeCa(dir) {
  const keyPath = path.join(dir, 'ca.key');
  const certPath = path.join(dir, 'ca.crt');
  const keyPem = newEcKeyPem();
  await writeFile(keyPath, keyPem, 0o600);
  await openssl(['req', '-x509', '-new', '-key', keyPath, '-subj', '/CN=kube-sim-ca', '-days', String(CA_DAYS),
    '-sha256', '-set_serial', serial(),
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-out', `${certPath}.tmp`], dir);
  await fsp.rename(`${certPath}.tmp`, certPath);
  return { certPath, keyPath, certPem: fs.readFileSync(certPath, 'utf8'), keyPem };
}

// A certificate on disk that is signed by ca, valid for at least another day,
// and (for the server) names every wanted host.
function usable(certPem, keyPem, caCert, wantHosts) {
  if (!certPem || !keyPem) return false;
  try {
    const cert = new crypto.X509Certificate(certPem);
    if (caCert && !cert.verify(caCert.publicKey)) return false;
    if (Date.parse(cert.validTo) < Date.now() + 86400e3) return false;
    if (!cert.checkPrivateKey(crypto.createPrivateKey(keyPem))) return false;
    if (wantHosts) {
      const names = (h) => (net.isIP(h) ? cert.checkIP(h) : cert.checkHost(h, { wildcards: false }));
      if (!wantHosts.every(names)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function load(dir, name) {
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  return { certPath, keyPath, certPem: readIfExists(certPath), keyPem: readIfExists(keyPath) };
}

async function ensureSaKey(dir) {
  const privateKeyPath = path.join(dir, 'sa.key');
  const publicKeyPath = path.join(dir, 'sa.pub');
  let privateKeyPem = readIfExists(privateKeyPath);
  let publicKeyPem = readIfExists(publicKeyPath);
  try {
    if (privateKeyPem && publicKeyPem) {
      const derived = crypto.createPublicKey(crypto.createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' });
      if (derived === crypto.createPublicKey(publicKeyPem).export({ type: 'spki', format: 'pem' })) {
        return { privateKeyPath, publicKeyPath, privateKeyPem, publicKeyPem };
      }
    }
  } catch { /* unreadable: make a new pair */ }
  const pair = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' });
  publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' });
  await writeFile(privateKeyPath, privateKeyPem, 0o600);
  await writeFile(publicKeyPath, publicKeyPem, 0o644);
  return { privateKeyPath, publicKeyPath, privateKeyPem, publicKeyPem };
}

// -> { dir, ca, server, admin, sa, sans, and flat aliases: caPem, caCertPath,
//      serverCertPem, serverKeyPem, adminCertPem, adminKeyPem, saPrivateKeyPem, ... }
//    ca/server/admin: { certPath, keyPath, certPem, keyPem }
//    sa: { privateKeyPath, publicKeyPath, privateKeyPem, publicKeyPem }
async function ensurePki(dir, { apiHosts = [] } = {}) {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const hosts = [...new Set([...BUILTIN_SANS, ...apiHosts])];
  const sans = hosts.map(sanEntry);
  const saPromise = ensureSaKey(dir);

  let ca = load(dir, 'ca');
  let fresh = false;
  if (!usable(ca.certPem, ca.keyPem, null, null)) {
    ca = await makeCa(dir);
    fresh = true;
  }
  const caCert = new crypto.X509Certificate(ca.certPem);

  const leaf = async (name, subject, ext, wantHosts) => {
    const have = load(dir, name);
    if (!fresh && usable(have.certPem, have.keyPem, caCert, wantHosts)) return have;
    return signLeaf(dir, name, subject, ext);
  };
  const common = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n';
  const [server, admin, sa] = await Promise.all([
    leaf('apiserver', '/CN=kube-apiserver',
      `${common}extendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(',')}\n`, hosts),
    leaf('admin', `/O=${ADMIN_GROUP}/CN=${ADMIN_USER}`, `${common}extendedKeyUsage=clientAuth\n`, null),
    saPromise,
  ]);
  return {
    dir, ca, server, admin, sa, sans,
    // The same, flat, for callers that want just the PEMs and paths.
    caPem: ca.certPem, caCertPath: ca.certPath,
    serverCertPem: server.certPem, serverKeyPem: server.keyPem, serverCertPath: server.certPath, serverKeyPath: server.keyPath,
    adminCertPem: admin.certPem, adminKeyPem: admin.keyPem, adminCertPath: admin.certPath, adminKeyPath: admin.keyPath,
    saPrivateKeyPem: sa.privateKeyPem, saPublicKeyPem: sa.publicKeyPem,
  };
}

// Issues a client certificate for user/groups (for tests that need users
// other than the admin). -> { certPath, keyPath, certPem, keyPem }
async function issueClientCert(pki, name, user, groups = []) {
  const esc = (v) => String(v).replace(/[\\/,+=]/g, (c) => `\\${c}`);
  const subject = groups.map((g) => `/O=${esc(g)}`).join('') + `/CN=${esc(user)}`;
  return signLeaf(pki.dir, name,
    subject, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
}

module.exports = { ensurePki, issueClientCert, BUILTIN_SANS, ADMIN_USER, ADMIN_GROUP };
