'use strict';
// The node agent of the single node `kube-sim` (and its scheduler): binds
// unscheduled pods to the node, runs a PodWorker per pod bound here, keeps
// mounted config maps, secrets and tokens current, records Events, and
// serves what the API server asks of a kubelet: logs, the pod proxy, exec
// and network partitions (a test control).

const { EventEmitter } = require('events');
const os = require('os');
const path = require('path');
const http = require('http');
const errors = require('./errors');
const { PodWorker } = require('./podworker');
const { Volumes } = require('./volumes');
const { streamLog } = require('./podlogs');
const { Relay } = require('./probes');
const ps = require('./podstatus');

const NODE_NAME = 'kube-sim';
const podKeyOf = (pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;

class Kubelet extends EventEmitter {
  // opts: store, registry, network, runtime, images, auth, stateDir, log;
  // optional: nodeName, backoffBaseMs (default $KUBE_SIM_BACKOFF_BASE_MS or
  // 10000), imageCacheDir (default stateDir), allowHostPath (default false),
  // stopGraceSeconds (cap on each pod's grace at stop(), default 10),
  // netagent (its podNetworkReady() is awaited when a pod's network is up,
  // before any of its containers starts),
  // schedule (default true: bind pods without spec.nodeName to this node;
  // false when a scheduler controller does that).
  constructor(opts) {
    super();
    const { store, registry, network, runtime, images, auth, stateDir, log } = opts;
    Object.assign(this, { store, registry, network, runtime, images, auth, stateDir });
    this.log = log || (() => {});
    this.nodeName = opts.nodeName || NODE_NAME;
    this.backoffBaseMs = Number(opts.backoffBaseMs ?? process.env.KUBE_SIM_BACKOFF_BASE_MS ?? 10000) || 10000;
    this.imageCacheDir = opts.imageCacheDir || stateDir;
    this.stopGraceSeconds = opts.stopGraceSeconds ?? 10;
    this.netagent = opts.netagent || null;
    this.scheduling = opts.schedule !== false;
    this.hostIP = network.bridgeIp || '10.244.0.1';
    const r = (p) => registry.byPlural('', 'v1', p);
    this.res = { pods: r('pods'), events: r('events'), nodes: r('nodes'), cm: r('configmaps'), secrets: r('secrets'), services: r('services') };
    this.volumes = new Volumes({ store, registry, auth, stateDir, allowHostPath: !!opts.allowHostPath });
    // Probes, hooks and the proxy come from the node's network (the cluster
    // namespace), as on a real node: a partitioned pod fails them.
    this.relay = new Relay({ netns: network.clusterNetns, socketPath: path.join(stateDir, 'relay.sock'), log: this.log });
    this.workers = new Map(); // uid -> PodWorker
    this.cleanups = new Map(); // "ns/name" -> Promise of the last termination
    this.waiters = new Set();
    this.eventNames = new Map();
    this.unschedulable = new Map(); // uid -> last message
    this.lookup = {
      configMap: (ns, name) => store.tryGet(this.res.cm, ns, name),
      secret: (ns, name) => store.tryGet(this.res.secrets, ns, name),
      services: (ns) => store.list(this.res.services, ns).items,
    };
  }

  async start() {
    await this.relay.start();
    this.registerNode();
    this.onStoreEvent = (e) => this.storeEvent(e);
    this.store.on('event', this.onStoreEvent);
    this.stopWatch = this.store.watch(this.res.pods, null, {}, ({ type, object }) => {
      try { this.onPod(type, object); } catch (err) { this.log(`kubelet: pod event: ${err.stack || err}`); }
    });
    // Bound tokens are reissued before they expire; everything else on change.
    this.timer = setInterval(() => { for (const w of this.workers.values()) w.refreshVolumes().catch(() => {}); }, 60000);
    this.timer.unref();
  }

  registerNode() {
    if (this.store.tryGet(this.res.nodes, '', this.nodeName)) return;
    const ts = ps.now();
    const cap = { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110', 'ephemeral-storage': '100Gi' };
    const cond = (type, status, reason, message) => ({ type, status, reason, message, lastHeartbeatTime: ts, lastTransitionTime: ts });
    try {
      this.store.create(this.res.nodes, {
        metadata: {
          name: this.nodeName,
          labels: { 'kubernetes.io/hostname': this.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': os.arch() === 'arm64' ? 'arm64' : 'amd64', 'node-role.kubernetes.io/control-plane': '' },
        },
        spec: { podCIDR: '10.244.0.0/16', podCIDRs: ['10.244.0.0/16'] },
        status: {
          capacity: cap, allocatable: cap,
          addresses: [{ type: 'InternalIP', address: this.hostIP }, { type: 'Hostname', address: this.nodeName }],
          conditions: [
            cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
            cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
            cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
            cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
          ],
          nodeInfo: {
            kubeletVersion: 'v1.32.0', kubeProxyVersion: 'v1.32.0', operatingSystem: 'linux', architecture: os.arch() === 'arm64' ? 'arm64' : 'amd64',
            containerRuntimeVersion: 'kube-sim://1.0', kernelVersion: os.release(), osImage: 'kube-sim', machineID: '', systemUUID: '', bootID: '',
          },
        },
      });
    } catch (e) { if (e.code !== 409) throw e; }
  }

  storeEvent({ res, object, old }) {
    if (res.group !== '') return;
    if (['persistentvolumeclaims', 'persistentvolumes', 'configmaps', 'secrets', 'serviceaccounts'].includes(res.plural)) {
      for (const wake of this.waiters) wake();
      this.waiters.clear();
      if (['persistentvolumeclaims', 'persistentvolumes'].includes(res.plural)) this.retrySchedule();
    }
    if (res.plural === 'configmaps' || res.plural === 'secrets') {
      const ns = object.metadata.namespace;
      for (const w of this.workers.values()) if (w.pod.metadata.namespace === ns) w.refreshVolumes().catch(() => {});
    }
    if (res.plural === 'pods' && old && object && object.spec && object.spec.nodeName === this.nodeName) {
      const same = (a, b) => JSON.stringify(a || {}) === JSON.stringify(b || {});
      if (!same(object.metadata.labels, old.metadata.labels) || !same(object.metadata.annotations, old.metadata.annotations)) {
        const w = this.workers.get(object.metadata.uid);
        if (w) { w.pod = object; w.refreshVolumes().catch(() => {}); }
      }
    }
  }

  // Resolves on the next change of something a waiting pod may need, or after ms.
  waitForChange(signal, ms) {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(t); this.waiters.delete(done); resolve(); };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
      if (signal) signal.addEventListener('abort', done, { once: true });
    });
  }

  cleanupOf(key) { return this.cleanups.get(key) || Promise.resolve(); }

  // The pod's network exists: resolves once the network agent has applied
  // the rules that concern it (its NetworkPolicies and the peers' rules that
  // name its address), so that they hold before its first container starts.
  async networkReady(pod) {
    this.emit('pod-network', pod);
    if (this.netagent && this.netagent.podNetworkReady) await this.netagent.podNetworkReady(pod);
  }

  onPod(type, pod) {
    const uid = pod.metadata.uid;
    let w = this.workers.get(uid);
    if (type === 'DELETED') {
      this.unschedulable.delete(uid);
      if (w) this.finish(w, w.terminate({ graceSeconds: 2, deleteObject: false }));
      return;
    }
    if (!pod.spec.nodeName) {
      const sched = pod.spec.schedulerName;
      if (this.scheduling && !pod.metadata.deletionTimestamp && (!sched || sched === 'default-scheduler')) this.schedule(pod);
      return;
    }
    if (pod.spec.nodeName !== this.nodeName) return;
    if (pod.metadata.deletionTimestamp) {
      if (w) {
        w.pod = pod;
        this.finish(w, w.terminate({ graceSeconds: pod.metadata.deletionGracePeriodSeconds ?? 30, deleteObject: true }));
      } else {
        try { this.store.delete(this.res.pods, pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0, preconditions: { uid } }); } catch { /* gone */ }
      }
      return;
    }
    if (w) { w.pod = { ...pod, status: w.pod.status }; return; }
    if (pod.status && ['Succeeded', 'Failed'].includes(pod.status.phase)) return;
    w = new PodWorker(this, pod);
    this.workers.set(uid, w);
    w.run();
  }

  finish(w, termination) {
    const key = w.key;
    const p = termination.catch((e) => this.log(`kubelet: terminate ${key}: ${e.stack || e}`)).then(() => {
      this.workers.delete(w.uid);
      if (this.cleanups.get(key) === p) this.cleanups.delete(key);
    });
    this.cleanups.set(key, p);
  }

  // ---- scheduling ------------------------------------------------------------

  // The scheduler's one decision here: bind to this node once every claim
  // of the pod exists and is bound.
  schedule(pod) {
    const pvcRes = this.registry.byPlural('', 'v1', 'persistentvolumeclaims');
    let problem = null;
    for (const v of pod.spec.volumes || []) {
      if (!v.persistentVolumeClaim) continue;
      const pvc = this.store.tryGet(pvcRes, pod.metadata.namespace, v.persistentVolumeClaim.claimName);
      if (!pvc) { problem = `0/1 nodes are available: persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`; break; }
      if (!pvc.status || pvc.status.phase !== 'Bound') { problem = '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'; break; }
    }
    const uid = pod.metadata.uid;
    if (problem) {
      if (this.unschedulable.get(uid) === problem) return;
      this.unschedulable.set(uid, problem);
      this.event(pod, 'Warning', 'FailedScheduling', problem, undefined, 'default-scheduler');
      const ts = ps.now();
      const status = { ...(pod.status || {}), phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: ts, reason: 'Unschedulable', message: problem }] };
      try { this.store.update(this.res.pods, { metadata: { ...pod.metadata }, status }, { subresource: 'status' }); } catch { /* changed meanwhile */ }
      return;
    }
    this.unschedulable.delete(uid);
    try {
      const cur = this.store.get(this.res.pods, pod.metadata.namespace, pod.metadata.name);
      if (cur.metadata.uid !== uid || cur.spec.nodeName) return;
      cur.spec.nodeName = this.nodeName;
      this.store.update(this.res.pods, cur);
      this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${podKeyOf(pod)} to ${this.nodeName}`, undefined, 'default-scheduler');
    } catch (e) {
      if (e.code !== 404 && e.code !== 409) this.log(`kubelet: bind ${podKeyOf(pod)}: ${e.message}`);
    }
  }

  retrySchedule() {
    for (const uid of this.unschedulable.keys()) {
      const pod = this.store.list(this.res.pods, null, { fieldSelector: (o) => o.metadata.uid === uid }).items[0];
      if (!pod) this.unschedulable.delete(uid);
      else if (!pod.spec.nodeName) this.schedule(pod);
    }
  }

  // ---- events ------------------------------------------------------------------

  // Events as the kubelet records them; a repeat of the same reason and
  // message for the same object raises count and lastTimestamp.
  event(pod, type, reason, message, fieldPath, component = 'kubelet') {
    const ns = pod.metadata.namespace;
    const key = `${pod.metadata.uid}|${fieldPath || ''}|${reason}|${message}|${component}`;
    const ts = ps.now();
    try {
      const name = this.eventNames.get(key);
      const have = name && this.store.tryGet(this.res.events, ns, name);
      if (have) {
        have.count = (have.count || 1) + 1;
        have.lastTimestamp = ts;
        delete have.metadata.resourceVersion;
        this.store.update(this.res.events, have);
        return;
      }
      const involvedObject = { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid };
      if (pod.metadata.resourceVersion) involvedObject.resourceVersion = pod.metadata.resourceVersion;
      if (fieldPath) involvedObject.fieldPath = fieldPath;
      const ev = this.store.create(this.res.events, {
        metadata: { name: `${pod.metadata.name}.${(BigInt(Date.now()) * 1000000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`, namespace: ns },
        involvedObject, reason, message, type, count: 1,
        source: component === 'kubelet' ? { component, host: this.nodeName } : { component },
        firstTimestamp: ts, lastTimestamp: ts, eventTime: null,
        reportingComponent: component, reportingInstance: component === 'kubelet' ? this.nodeName : '',
      });
      this.eventNames.set(key, ev.metadata.name);
      if (this.eventNames.size > 5000) this.eventNames.delete(this.eventNames.keys().next().value);
    } catch (e) {
      if (![403, 404, 409].includes(e.code)) this.log(`kubelet: event ${reason} for ${ns}/${pod.metadata.name}: ${e.message}`);
    }
  }

  // ---- what the API server asks ---------------------------------------------

  workerFor(ns, name) {
    const pod = this.store.get(this.res.pods, ns, name);
    return { pod, w: this.workers.get(pod.metadata.uid) };
  }

  // opts: {container, follow, previous, timestamps, tailLines, sinceSeconds,
  // sinceTime, limitBytes}. Throws an ApiError before anything is written.
  async logs(ns, name, opts, writable) {
    const { pod, w } = this.workerFor(ns, name);
    const all = [...(pod.spec.initContainers || []), ...(pod.spec.containers || [])].map((c) => c.name);
    let cname = opts.container;
    if (!cname) {
      const mains = (pod.spec.containers || []).map((c) => c.name);
      if (mains.length !== 1) {
        const inits = (pod.spec.initContainers || []).map((c) => c.name);
        throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${mains.join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`);
      }
      cname = mains[0];
    } else if (!all.includes(cname)) {
      throw errors.badRequest(`container ${cname} is not valid for pod ${name}`);
    }
    const c = w && w.container(cname);
    if (!c) throw errors.badRequest(`container "${cname}" in pod "${name}" is not available`);
    const id = logContainerID(c.status, !!opts.previous, cname, name);
    const file = c.logs.get(id);
    if (!file) throw errors.badRequest(`container "${cname}" in pod "${name}" is not available`);
    const done = { v: false };
    const instance = c.instanceDone && c.instanceDone.get(id);
    Promise.resolve(instance).then(() => { done.v = true; });
    await streamLog(file, opts, writable, () => done.v || w.stopping && !c.handle);
  }

  // HTTP to podIP:port from the node's network (where a real API server's
  // proxy and the kubelet's probes come from).
  async proxy(ns, name, port, path, req, res) {
    const { pod } = this.workerFor(ns, name);
    const ip = pod.status && pod.status.podIP;
    if (!ip) throw new errors.ApiError(503, 'ServiceUnavailable', `pod ${name} has no IP address`);
    let sock;
    try {
      sock = await this.relay.connect(ip, port, { timeoutMs: 10000 });
    } catch (e) {
      throw new errors.ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${e.text || e.message}`);
    }
    const headers = { ...req.headers, host: `${ip}:${port}` };
    for (const h of ['authorization', 'connection', 'upgrade', 'keep-alive', 'proxy-authorization', 'te', 'trailer']) delete headers[h];
    for (const h of Object.keys(headers)) if (h.startsWith('impersonate-')) delete headers[h];
    await new Promise((resolve) => {
      const up = http.request({ host: ip, port, path: path || '/', method: req.method, headers, createConnection: () => sock }, (ur) => {
        const out = { ...ur.headers };
        delete out.connection; delete out['keep-alive']; delete out['transfer-encoding'];
        res.writeHead(ur.statusCode, out);
        ur.pipe(res);
        ur.on('end', resolve);
        ur.on('error', resolve);
      });
      up.on('error', (e) => {
        sock.destroy();
        if (!res.headersSent) {
          const st = new errors.ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${e.message}`).toStatus();
          res.writeHead(503, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(st));
        } else res.destroy();
        resolve();
      });
      res.on('close', () => { up.destroy(); sock.destroy(); resolve(); });
      if (['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method) && !req.headers['content-length'] && !req.headers['transfer-encoding']) up.end();
      else req.pipe(up);
    });
  }

  // Runs argv in a running container (`kubectl exec`, tests). Buffered by
  // default: opts {timeoutMs, env, user, input} -> runtime.execIn's result
  // {exitCode, stdout, stderr, timedOut}. Streamed when opts has stdin (a
  // Readable, string or Buffer), stdout or stderr (Writables, not ended
  // here), or open (async () -> {stdin, stdout, stderr, signal}, called once
  // the container is found, before the command starts): resolves {exitCode,
  // signal} when the command is done; opts.signal (AbortSignal) kills it.
  // Errors before anything runs: the container is not in the pod (400), or
  // it does not run (the kubelet's plain-text `container not found ("c")`).
  async exec(ns, name, container, argv, opts = {}) {
    const { execStream, containerNotFound } = require('./exec'); // eslint-disable-line global-require
    const { pod, w } = this.workerFor(ns, name);
    const cname = container || (pod.spec.containers[0] || {}).name;
    const known = ['containers', 'initContainers', 'ephemeralContainers'].some((k) => (pod.spec[k] || []).some((c) => c.name === cname));
    if (!known) throw errors.badRequest(`container ${cname} is not valid for pod ${name}`);
    const c = w && w.container(cname);
    if (!c || !c.handle || !c.handle.pid) throw containerNotFound(cname);
    const streamed = typeof opts.open === 'function' || ['stdin', 'stdout', 'stderr'].some((k) => opts[k] !== undefined && opts[k] !== null);
    if (!streamed) return this.runtime.execIn(c.handle, argv, opts);
    const handle = c.handle;
    const io = typeof opts.open === 'function' ? { ...opts, ...(await opts.open()) } : opts;
    return execStream(handle, argv, { ...io, containerName: cname });
  }

  // Cuts the pod's network off (heal=false) or restores it (a test control).
  async partition(ns, name, heal) {
    const { w } = this.workerFor(ns, name);
    if (!w || !w.net) throw errors.badRequest(`pod ${name} has no network on this node`);
    if (heal) await this.network.heal(w.key);
    else await this.network.partition(w.key);
  }

  // Terminates every pod (SIGTERM, grace capped by stopGraceSeconds, SIGKILL)
  // and its network; the pod objects stay.
  async stop() {
    if (this.stopWatch) this.stopWatch();
    if (this.onStoreEvent) this.store.off('event', this.onStoreEvent);
    clearInterval(this.timer);
    const all = [...this.workers.values()].map((w) => w.terminate({
      graceSeconds: Math.min(w.pod.spec.terminationGracePeriodSeconds ?? 30, this.stopGraceSeconds), deleteObject: false,
    }).catch((e) => this.log(`kubelet: stop ${w.key}: ${e.message}`)));
    await Promise.all([...all, ...this.cleanups.values()]);
    this.workers.clear();
    await this.relay.stop();
  }
}

// Which run's log `kubectl logs [-p]` shows, with the kubelet's errors.
function logContainerID(s, previous, cname, pod) {
  const last = s.lastState && s.lastState.terminated;
  const st = s.state || {};
  if (previous) {
    if (!last || !last.containerID) throw errors.badRequest(`previous terminated container "${cname}" in pod "${pod}" not found`);
    return last.containerID;
  }
  if (st.running) return s.containerID;
  if (st.terminated) {
    if (st.terminated.containerID) return st.terminated.containerID;
    if (last && last.containerID) return last.containerID;
    throw errors.badRequest(`container "${cname}" in pod "${pod}" is terminated`);
  }
  if (last) return last.containerID;
  const reason = (st.waiting && st.waiting.reason) || 'ContainerCreating';
  if (reason === 'ErrImagePull') throw errors.badRequest(`container "${cname}" in pod "${pod}" is waiting to start: image can't be pulled`);
  if (reason === 'ImagePullBackOff') throw errors.badRequest(`container "${cname}" in pod "${pod}" is waiting to start: trying and failing to pull image`);
  throw errors.badRequest(`container "${cname}" in pod "${pod}" is waiting to start: ${reason}`);
}

module.exports = { Kubelet, podKeyOf, NODE_NAME };
