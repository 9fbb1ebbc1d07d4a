'use strict';
// The cluster daemon: one process holding the API server, the object store,
// the controllers, the kubelet and the cluster network. `kube-sim start`
// launches it in the background; SIGTERM (kube-sim stop) stops the pods
// gracefully and removes everything it made.

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const state = require('./state');

function logger() {
  return (...args) => {
    const line = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  };
}

async function main(stateDir) {
  const started = Date.now();
  const log = logger();
  const prefix = state.prefixFor(stateDir);
  fs.mkdirSync(stateDir, { recursive: true });

  const { Registry } = require('./registry');
  const { Store } = require('./store');
  const { ensurePki } = require('./certs');
  const { Auth } = require('./auth');
  const { Faults } = require('./faults');
  const { Network } = require('./network');
  const { startControllers } = require('./controllers');
  const { Kubelet, podKeyOf } = require('./kubelet');
  const netpol = require('./netpol');
  const { NetAgent } = require('./netagent');
  const { ApiServer } = require('./apiserver');
  const { writeKubeconfig } = require('./kubeconfig');
  const runtime = require('./runtime');
  const images = require('./images');

  const registry = new Registry();
  const store = new Store(registry);
  const pki = await ensurePki(path.join(stateDir, 'pki'), { apiHosts: [] });
  const adminToken = crypto.randomBytes(24).toString('hex');
  const auth = new Auth({ store, registry, pki, adminToken });
  const faults = new Faults();
  faults.loadFile(path.join(stateDir, 'faults.json'));

  const network = new Network({ stateDir, prefix });
  await network.up();
  const controllers = startControllers({
    store, registry, log, caPem: pki.caPem, volumesDir: path.join(stateDir, 'volumes'),
  });
  auth.bootstrap();
  const netagent = new NetAgent({ store, registry, network, netpol, podKeyOf, log });
  await netagent.start();
  const kubelet = new Kubelet({ store, registry, network, runtime, images, auth, stateDir, log, netagent });
  await kubelet.start();
  const api = new ApiServer({
    store, registry, auth, faults, kubelet, log,
    tls: { key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem },
  });
  const apiPort = await api.listen('127.0.0.1', Number(process.env.KUBE_SIM_API_PORT || 0));
  await exposeInCluster({ store, registry, network, api, stateDir, log });
  const server = `https://127.0.0.1:${apiPort}`;
  writeKubeconfig(path.join(stateDir, 'kubeconfig'), {
    server, caPem: pki.caPem, token: adminToken, clientCert: pki.adminCertPem, clientKey: pki.adminKeyPem,
  });
  state.write(stateDir, { pid: process.pid, apiPort, adminToken, prefix, server });
  log(`kube-sim: ready in ${Date.now() - started} ms: API ${server}, kubeconfig ${path.join(stateDir, 'kubeconfig')}`);

  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(`kube-sim: ${signal}: stopping`);
    try {
      await api.close();
      await kubelet.stop();
      controllers.stop();
      netagent.stop();
      await network.down();
    } catch (err) {
      log(`kube-sim: stop: ${err.stack || err}`);
    }
    log('kube-sim: stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

// The API inside the cluster, as on a real one: the Service `kubernetes`
// (10.96.0.1:443, which the serving certificate names) leads to a forwarder on
// the node's address in the cluster namespace, which pipes to the API's unix
// socket. Pods get KUBERNETES_SERVICE_HOST/PORT from the kubelet.
async function exposeInCluster({ store, registry, network, api, stateDir, log }) {
  const { spawn } = require('child_process');
  const socket = path.join(stateDir, 'api.sock');
  await api.listenUnix(socket);
  const port = 6443;
  const child = spawn('/usr/sbin/ip', ['netns', 'exec', network.clusterNetns, process.execPath,
    path.join(__dirname, 'forwarder.js'), network.bridgeIp, String(port), socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the API forwarder exited (${code})`)));
    child.stdout.once('data', resolve);
  });
  child.removeAllListeners('exit');
  child.on('exit', (code) => log(`kube-sim: the API forwarder exited (${code})`));
  const services = registry.byPlural('', 'v1', 'services');
  const endpoints = registry.byPlural('', 'v1', 'endpoints');
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  store.create(services, {
    metadata: { name: 'kubernetes', namespace: 'default', labels },
    spec: {
      type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], sessionAffinity: 'None',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }],
    },
  });
  store.create(endpoints, {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: network.bridgeIp }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  });
}

if (require.main === module) {
  const i = process.argv.indexOf('--state-dir');
  if (i < 0 || !process.argv[i + 1]) {
    console.error('usage: daemon.js --state-dir DIR');
    process.exit(2);
  }
  main(path.resolve(process.argv[i + 1])).catch((err) => {
    console.error(`kube-sim: start failed: ${err.stack || err}`);
    process.exit(1);
  });
}

module.exports = { main };
