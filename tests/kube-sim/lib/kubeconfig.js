'use strict';
// The cluster's kubeconfig: one cluster, the admin as a bearer-token user
// (the current context) and, when a client certificate is given, the admin
// again as a certificate user, so that both ways of authenticating are used.

const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

const b64 = (pem) => Buffer.from(pem).toString('base64');

// opts: { server, caPem, token, clientCert?, clientKey?, context='kube-sim', namespace? }
function buildKubeconfig({ server, caPem, token, clientCert, clientKey, context = 'kube-sim', namespace }) {
  if (!server) throw new Error('kubeconfig: server is required');
  if (!caPem) throw new Error('kubeconfig: caPem is required');
  if (!token && !(clientCert && clientKey)) throw new Error('kubeconfig: a token or a client certificate and key is required');
  const cluster = context;
  const users = [];
  const contexts = [];
  const ctx = (name, user) => {
    const c = { cluster, user };
    if (namespace) c.namespace = namespace;
    contexts.push({ name, context: c });
  };
  if (token) {
    users.push({ name: 'kube-sim-admin', user: { token } });
    ctx(context, 'kube-sim-admin');
  }
  if (clientCert && clientKey) {
    users.push({ name: 'kube-sim-admin-cert', user: { 'client-certificate-data': b64(clientCert), 'client-key-data': b64(clientKey) } });
    ctx(token ? `${context}-cert` : context, 'kube-sim-admin-cert');
  }
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: cluster, cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users,
    contexts,
    'current-context': context,
  };
}

// Writes the kubeconfig with mode 0600 (it holds credentials), atomically.
function writeKubeconfig(file, opts) {
  const text = yaml.dump(buildKubeconfig(opts), { lineWidth: -1, noRefs: true });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return file;
}

module.exports = { writeKubeconfig, buildKubeconfig };
