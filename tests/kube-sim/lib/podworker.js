'use strict';
// One pod on the node, from acceptance to termination: volumes, the pod's
// network namespace, init containers in order, then every container with
// its probes and restarts (CrashLoopBackOff), and the graceful stop (preStop,
// SIGTERM, grace, SIGKILL) when the pod is deleted. The pod's status is
// rebuilt from this worker's state after every change.

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ContainerProbes, relayRequest } = require('./probes');
const { resolvePort } = require('./ports');
const { Volumes, VolumeError } = require('./volumes');
const { buildEnv, ConfigError } = require('./podenv');
const { openLogPipe } = require('./podlogs');
const ps = require('./podstatus');

const MAX_BACKOFF_MS = 300000;
const MIN_KILL_GRACE_S = 2; // the kubelet's minimum after a preStop hook

const sleep = (ms, signal) => new Promise((resolve) => {
  if (signal && signal.aborted) { resolve(); return; }
  const t = setTimeout(resolve, Math.max(0, ms));
  if (signal) signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

// A live process, not a zombie waiting to be reaped.
function processAlive(pid) {
  try {
    return !/^[ZX]/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, ''));
  } catch { return false; }
}

class PodWorker {
  constructor(kubelet, pod) {
    this.k = kubelet;
    this.pod = pod;
    this.uid = pod.metadata.uid;
    this.key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    this.ac = new AbortController();
    this.stopping = false;
    this.net = null;
    this.volumeMap = null;
    this.patches = []; // zoo.cfg copies: {src, dst, transform}
    this.initDone = !(pod.spec.initContainers || []).length;
    this.startTime = ps.now();
    this.sandboxReady = false;
    const mk = (spec, init) => ({
      spec, init, handle: null, probes: null, exited: null, runs: 0,
      backoff: { ms: 0, last: 0 }, pullBackoff: { ms: 0, last: 0 }, logs: new Map(), instanceDone: new Map(),
      status: {
        name: spec.name, image: spec.image, imageID: '', ready: false, started: false, restartCount: 0,
        state: { waiting: { reason: 'PodInitializing' } }, lastState: {},
      },
    });
    this.inits = (pod.spec.initContainers || []).map((c) => mk(c, true));
    this.mains = (pod.spec.containers || []).map((c) => mk(c, false));
    if (this.initDone) for (const c of this.mains) c.status.state = { waiting: { reason: 'ContainerCreating' } };
  }

  container(name) { return this.mains.concat(this.inits).find((c) => c.spec.name === name); }

  event(type, reason, message, c) {
    this.k.event(this.pod, type, reason, message, c ? `spec.${c.init ? 'initContainers' : 'containers'}{${c.spec.name}}` : undefined);
  }

  // ---- status --------------------------------------------------------------

  pushStatus() {
    if (this.statusQueued) return;
    this.statusQueued = true;
    setImmediate(() => { this.statusQueued = false; this.writeStatus(); });
  }

  buildStatus() {
    const cur = this.k.store.tryGet(this.k.res.pods, this.pod.metadata.namespace, this.pod.metadata.name);
    if (!cur || cur.metadata.uid !== this.uid) return null;
    const initStatuses = this.inits.map((c) => structuredClone(c.status));
    const statuses = this.mains.map((c) => structuredClone(c.status));
    const phase = this.finalPhase || ps.phaseOf(this.pod, initStatuses, statuses, this.initDone);
    const prev = (cur.status && cur.status.conditions) || [];
    const status = {
      phase,
      conditions: ps.conditionsOf({ pod: cur, previous: prev, sandboxReady: this.sandboxReady, initDone: this.initDone, initStatuses, statuses, phase }),
      hostIP: this.k.hostIP, hostIPs: [{ ip: this.k.hostIP }],
      startTime: this.startTime,
      containerStatuses: statuses,
      qosClass: ps.qosClass(cur),
    };
    const ip = this.net ? this.net.ip : (cur.status && cur.status.podIP);
    if (ip) { status.podIP = ip; status.podIPs = [{ ip }]; }
    if (initStatuses.length) status.initContainerStatuses = initStatuses;
    return { cur, status };
  }

  writeStatus() {
    try {
      const b = this.buildStatus();
      if (!b) return;
      this.pod = { ...b.cur, status: b.status };
      this.k.store.update(this.k.res.pods, { metadata: { namespace: b.cur.metadata.namespace, name: b.cur.metadata.name, uid: this.uid }, status: b.status }, { subresource: 'status' });
    } catch (e) {
      if (e.code !== 404 && e.code !== 409) this.k.log(`kubelet: status of ${this.key}: ${e.message}`);
    }
  }

  setState(c, state) {
    c.status.state = state;
    this.pushStatus();
  }

  // ---- the pod's life ------------------------------------------------------

  async run() {
    try {
      this.pushStatus();
      await this.k.cleanupOf(this.key);
      if (!await this.untilVolumes()) return;
      if (!await this.untilSandbox()) return;
      this.pushStatus();
      // The pod's NetworkPolicies hold before its first process runs.
      await this.k.networkReady(this.pod);
      if (this.stopping) return;
      for (const c of this.inits) if (!await this.runInit(c)) return;
      this.initDone = true;
      for (const c of this.mains) if (c.status.state.waiting) c.status.state = { waiting: { reason: 'ContainerCreating' } };
      this.pushStatus();
      await Promise.all(this.mains.map((c) => this.mainLoop(c)));
      if (this.stopping) return;
      // Every container ended for good: the pod is done; its sandbox goes.
      await this.k.network.removePod(this.key).catch(() => {});
      this.sandboxReady = false;
      this.pushStatus();
    } catch (e) {
      if (!this.stopping) {
        this.k.log(`kubelet: pod ${this.key}: ${e.stack || e}`);
        this.event('Warning', 'Failed', `Error: ${e.message}`);
      }
    }
  }

  // The pod's network namespace, retried (with an event) while it fails.
  async untilSandbox() {
    const p = this.pod;
    while (!this.stopping) {
      this.netPending = this.k.network.addPod(this.key, {
        hostname: p.spec.hostname || p.metadata.name, subdomain: p.spec.subdomain, namespace: p.metadata.namespace, hostAliases: p.spec.hostAliases,
      });
      try {
        this.net = await this.netPending;
        this.sandboxReady = true;
        return true;
      } catch (e) {
        this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${e.message}`);
        await this.k.network.removePod(this.key).catch(() => {});
        await sleep(this.k.backoffBaseMs, this.ac.signal);
      }
    }
    return false;
  }

  // Waits (with events) until every volume can be set up. -> false if stopped.
  async untilVolumes() {
    let lastMsg = '';
    while (!this.stopping) {
      try {
        this.volumeMap = await this.k.volumes.setup(this.pod);
        return true;
      } catch (e) {
        if (!(e instanceof VolumeError)) throw e;
        if (e.message !== lastMsg) {
          lastMsg = e.message;
          this.event('Warning', e.reason, e.message);
          if (e.reason === 'FailedScheduling') this.k.log(`kubelet: pod ${this.key} waits: ${e.message}`);
        }
        await this.k.waitForChange(this.ac.signal, 2000);
      }
    }
    return false;
  }

  async runInit(c) {
    const policy = this.pod.spec.restartPolicy || 'Always';
    for (;;) {
      if (this.stopping) return false;
      const started = await this.start(c);
      if (started !== true) { await this.preStartBackoff(c, started); continue; }
      const r = await c.exited;
      if (this.stopping) return false;
      if (r.exitCode === 0) return true;
      if (policy === 'Never') { this.finalPhase = 'Failed'; this.pushStatus(); return false; }
      await this.crashBackoff(c, r.finishedAt);
    }
  }

  async mainLoop(c) {
    const policy = this.pod.spec.restartPolicy || 'Always';
    for (;;) {
      if (this.stopping) return;
      const started = await this.start(c);
      if (started !== true) { await this.preStartBackoff(c, started); continue; }
      const r = await c.exited;
      if (this.stopping) return;
      if (!(policy === 'Always' || (policy === 'OnFailure' && r.exitCode !== 0))) return;
      await this.crashBackoff(c, r.finishedAt);
    }
  }

  backoffNext(b, at) {
    b.ms = !b.ms || at - b.last > 2 * MAX_BACKOFF_MS ? this.k.backoffBaseMs : Math.min(b.ms * 2, MAX_BACKOFF_MS);
    b.last = at;
  }

  // The kubelet's restart rule: the first restart is at once; while the last
  // exit is younger than the current back-off the container waits in
  // CrashLoopBackOff; each restart doubles the back-off (10s ... 5m).
  async crashBackoff(c, finishedAt) {
    const b = c.backoff;
    if (b.ms && finishedAt - b.last <= 2 * MAX_BACKOFF_MS && Date.now() - finishedAt < b.ms) {
      c.status.lastState = c.status.state;
      this.setState(c, { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${ps.goDuration(b.ms)} restarting failed container=${c.spec.name} pod=${ps.podRef(this.pod)}` } });
      this.event('Warning', 'BackOff', `Back-off restarting failed container ${c.spec.name} in pod ${ps.podRef(this.pod)}`, c);
      await sleep(finishedAt + b.ms - Date.now(), this.ac.signal);
    }
    this.backoffNext(b, finishedAt);
  }

  // An image that cannot be pulled shows ErrImagePull at each attempt and
  // ImagePullBackOff while waiting for the next one, as on a real node.
  async preStartBackoff(c, why) {
    if (this.stopping) return;
    // A config error is retried when something it may need changes.
    if (why === 'config') { await this.k.waitForChange(this.ac.signal, Math.min(this.k.backoffBaseMs, 10000)); return; }
    const b = c.pullBackoff;
    this.backoffNext(b, Date.now());
    if (why === 'pull') {
      await sleep(Math.min(1000, b.ms / 2), this.ac.signal);
      if (this.stopping) return;
      const image = c.spec.image;
      this.setState(c, { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } });
      this.event('Normal', 'BackOff', `Back-off pulling image "${image}"`, c);
      this.event('Warning', 'Failed', 'Error: ImagePullBackOff', c);
    }
    await sleep(b.last + b.ms - Date.now(), this.ac.signal);
  }

  start(c) {
    c.starting = this.startInstance(c);
    return c.starting;
  }

  // Creates and starts one instance of container c. -> false when it could
  // not be started (waiting state and events already set).
  async startInstance(c) {
    const pod = this.pod;
    const spec = c.spec;
    const res = this.k.images.resolveImage(spec.image, { cacheDir: this.k.imageCacheDir });
    if (!res.ok) {
      this.event('Normal', 'Pulling', `Pulling image "${spec.image}"`, c);
      this.event('Warning', 'Failed', `Failed to pull image "${spec.image}": ${res.message}`, c);
      this.event('Warning', 'Failed', 'Error: ErrImagePull', c);
      this.setState(c, { waiting: { reason: 'ErrImagePull', message: res.message } });
      return 'pull';
    }
    const image = res.image;
    c.pullBackoff = { ms: 0, last: 0 };
    this.event('Normal', 'Pulled', `Container image "${spec.image}" already present on machine`, c);
    let env; let mounts;
    try {
      this.checkUser(spec, image);
      // The status written a moment ago may not be stored yet: the addresses
      // come from this worker.
      const ip = this.net.ip;
      const view = { ...this.pod, status: { ...(this.pod.status || {}), podIP: ip, podIPs: [{ ip }], hostIP: this.k.hostIP, hostIPs: [{ ip: this.k.hostIP }] } };
      env = buildEnv(view, spec, this.k.lookup).env;
      mounts = await this.mountsOf(c, image);
    } catch (e) {
      if (!(e instanceof ConfigError || e instanceof VolumeError)) throw e;
      this.event('Warning', 'Failed', `Error: ${e.message}`, c);
      this.setState(c, { waiting: { reason: 'CreateContainerConfigError', message: e.message } });
      return 'config';
    }
    const instance = c.runs;
    const logPath = path.join(this.k.volumes.podDir(this.uid), 'logs', spec.name, `${instance}.log`);
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    const containerID = `containerd://${crypto.randomBytes(32).toString('hex')}`;
    const sc = spec.securityContext || {};
    let handle;
    const pipe = openLogPipe(logPath);
    try {
      handle = await this.k.runtime.startContainer({
        podKey: this.key, netns: this.net.netns, root: image, container: spec,
        podSecurityContext: pod.spec.securityContext || {}, volumes: mounts,
        hostsFile: this.net.hostsFile, resolvFile: this.net.resolvFile,
        readOnlyRootFilesystem: !!sc.readOnlyRootFilesystem, logPath: pipe.fifo,
        env: Object.entries(env).map(([name, value]) => ({ name, value })),
        hostname: pod.spec.hostname || pod.metadata.name,
        stateDir: path.join(this.k.volumes.podDir(this.uid), 'runtime'),
      });
    } catch (e) {
      pipe.close();
      this.event('Warning', 'Failed', `Error: ${e.message}`, c);
      this.setState(c, { waiting: { reason: 'RunContainerError', message: e.message } });
      return 'run';
    }
    this.event('Normal', 'Created', `Created container: ${spec.name}`, c);
    this.event('Normal', 'Started', `Started container ${spec.name}`, c);
    c.runs += 1;
    c.logs.set(containerID, logPath);
    c.handle = handle;
    const startedAt = ps.now();
    if (instance > 0) c.status.lastState = this.lastTerminated(c);
    Object.assign(c.status, {
      imageID: `docker.io/${image.ref}@sha256:${crypto.createHash('sha256').update(image.layerDir || image.ref).digest('hex')}`,
      containerID, restartCount: instance, started: false, ready: false, state: { running: { startedAt } },
    });
    c.logDone = pipe.done;
    c.exited = Promise.resolve(handle.wait).then((r) => this.onExit(c, containerID, startedAt, r || {}, handle));
    c.instanceDone.set(containerID, Promise.all([c.exited, pipe.done]));
    if (!c.init) this.startProbes(c);
    else { c.status.started = false; }
    this.pushStatus();
    if (spec.lifecycle && spec.lifecycle.postStart) this.postStart(c, handle);
    return true;
  }

  lastTerminated(c) {
    const s = c.status;
    if (s.state.terminated) return { terminated: s.state.terminated };
    return s.lastState && s.lastState.terminated ? { terminated: s.lastState.terminated } : {};
  }

  onExit(c, containerID, startedAt, r, handle) {
    if (c.probes) { c.probes.stop(); c.probes = null; }
    c.handle = null;
    // Still running when its grace period ended: SIGKILL ended it, whatever
    // the wrapper process around the container's PID 1 reports.
    if (handle && handle.killedAfterGrace) r = { ...r, exitCode: 128 + os.constants.signals.SIGKILL, signal: 'SIGKILL' };
    const signo = r.signal ? os.constants.signals[r.signal] || 9 : 0;
    const exitCode = typeof r.exitCode === 'number' ? r.exitCode : (signo ? 128 + signo : 1);
    let reason = exitCode === 0 ? 'Completed' : 'Error';
    if (r.oomKilled) reason = 'OOMKilled';
    const finishedAt = Date.now();
    const terminated = { exitCode, reason, startedAt, finishedAt: new Date(finishedAt).toISOString().replace(/\.\d+Z$/, 'Z'), containerID };
    if (r.signal) terminated.signal = signo;
    if (r.startError) { terminated.reason = 'StartError'; terminated.message = r.startError; this.event('Warning', 'Failed', `Error: ${r.startError}`, c); }
    Object.assign(c.status, { ready: false, started: false, state: { terminated } });
    this.pushStatus();
    return { exitCode, finishedAt };
  }

  // The kubelet's runAsNonRoot verification, with its messages.
  checkUser(spec, image) {
    const psc = this.pod.spec.securityContext || {};
    const sc = spec.securityContext || {};
    if (!(sc.runAsNonRoot ?? psc.runAsNonRoot)) return;
    const runAsUser = sc.runAsUser ?? psc.runAsUser;
    const where = `(pod: "${ps.podRef(this.pod)}", container: ${spec.name})`;
    if (runAsUser === 0) throw new ConfigError(`container's runAsUser breaks non-root policy ${where}`);
    if ((runAsUser ?? image.user.uid) === 0) throw new ConfigError(`container has runAsNonRoot and image will run as root ${where}`);
  }

  // Volume mounts for the runtime; a ZooKeeper zoo.cfg naming classes the
  // local image layer lacks (but the real image has) gets a private copy
  // without those settings, with a Warning event.
  async mountsOf(c, image) {
    const mounts = Volumes.mountsFor(c.spec, this.volumeMap);
    if (!this.k.images.checkConfigClasses) return mounts;
    for (const m of mounts) {
      const cfg = path.join(m.hostPath, 'zoo.cfg');
      if (!m.hostPath.startsWith(this.k.volumes.podDir(this.uid)) || !fs.existsSync(cfg)) continue;
      const problems = this.k.images.checkConfigClasses(image, fs.readFileSync(cfg, 'utf8'));
      const absent = problems.filter((p) => p.problem === 'absent-locally');
      if (!absent.length) continue;
      const dst = `${m.hostPath}~${c.spec.name}`;
      const patch = { src: m.hostPath, dst, transform: (text) => this.k.images.withoutAbsentClasses(text, this.k.images.checkConfigClasses(image, text)) };
      await this.k.volumes.derive(patch.src, patch.dst, 'zoo.cfg', patch.transform);
      if (!this.patches.some((p) => p.dst === dst)) this.patches.push(patch);
      m.hostPath = dst;
      this.event('Warning', 'ConfigClassAbsent', `zoo.cfg of volume "${m.name}" names ${absent.map((p) => `${p.className} (${p.key})`).join(', ')}: present in the real image ${image.ref} but not in this test cluster's local layer; running container ${c.spec.name} without those settings`, c);
    }
    return mounts;
  }

  startProbes(c) {
    const handle = c.handle;
    c.probes = new ContainerProbes({
      container: c.spec, podIP: this.net.ip, relay: this.k.relay,
      exec: (argv, timeoutMs) => this.exec(handle, argv, timeoutMs),
      event: (type, reason, message) => this.event(type, reason, message, c),
      onStarted: () => { c.status.started = true; this.pushStatus(); },
      onReady: (v) => { c.status.ready = v; this.pushStatus(); },
      onFailed: (kind) => this.probeKill(c, handle, kind),
    });
    c.probes.start();
  }

  async exec(handle, argv, timeoutMs) {
    const r = await this.k.runtime.execIn(handle, argv, { timeoutMs });
    return { exitCode: r.exitCode, output: `${r.stdout || ''}${r.stderr || ''}` || r.output || '', timedOut: !!r.timedOut };
  }

  async probeKill(c, handle, kind) {
    if (this.stopping || c.handle !== handle) return;
    const probe = kind === 'liveness' ? c.spec.livenessProbe : c.spec.startupProbe;
    const grace = probe.terminationGracePeriodSeconds ?? this.pod.spec.terminationGracePeriodSeconds ?? 30;
    await this.killContainer(c, handle, { graceSeconds: grace, message: `Container ${c.spec.name} failed ${kind} probe, will be restarted` });
  }

  // The kubelet's killContainer: the Killing event, the preStop hook within
  // the grace period, then SIGTERM, what is left of the grace period (at
  // least MIN_KILL_GRACE_S after a hook) and SIGKILL. One kill per instance.
  killContainer(c, handle, { graceSeconds, message }) {
    if (c.killing && c.killing.handle === handle) return c.killing.done;
    const done = (async () => {
      this.event('Normal', 'Killing', message, c);
      const deadline = Date.now() + graceSeconds * 1000;
      const pre = c.spec.lifecycle && c.spec.lifecycle.preStop;
      if (pre && graceSeconds > 0) {
        try {
          await Promise.race([this.hook(c, handle, pre, Math.max(0, deadline - Date.now())), sleep(deadline - Date.now())]);
        } catch (e) {
          this.event('Warning', 'FailedPreStopHook', e.message, c);
        }
      }
      if (c.handle !== handle) return;
      const left = Math.max(pre ? MIN_KILL_GRACE_S : 0, Math.ceil((deadline - Date.now()) / 1000));
      await this.stopInstance(handle, left).catch((e) => this.k.log(`kubelet: stop ${this.key}/${c.spec.name}: ${e.message}`));
    })();
    c.killing = { handle, done };
    return done;
  }

  // SIGTERM, the grace period, SIGKILL (the runtime's stopContainer). A
  // container still running when the grace period ends is marked, so that
  // its status reads as killed by SIGKILL.
  async stopInstance(handle, graceSeconds) {
    const check = () => { if (handle.pid && processAlive(handle.pid)) handle.killedAfterGrace = true; };
    let timer = null;
    // Due just before the runtime's own timer of the same length.
    if (graceSeconds > 0) timer = setTimeout(check, graceSeconds * 1000);
    else check();
    try {
      await this.k.runtime.stopContainer(handle, { gracePeriodSeconds: graceSeconds });
    } finally {
      clearTimeout(timer);
    }
  }

  async hook(c, handle, h, timeoutMs) {
    if (h.exec) {
      const r = await this.exec(handle, h.exec.command || [], timeoutMs);
      if (r.exitCode !== 0) throw new Error(`command '${(h.exec.command || []).join(' ')}' exited with ${r.exitCode}: ${r.output}`);
    } else if (h.httpGet) {
      const g = h.httpGet;
      const port = resolvePort(c.spec, g.port);
      const res = await relayRequest(this.k.relay, { host: g.host || this.net.ip, port, path: g.path || '/', scheme: g.scheme, timeoutMs });
      res.resume();
      if (res.statusCode < 200 || res.statusCode >= 400) throw new Error(`HTTP lifecycle hook (${g.path || '/'}) for Container "${c.spec.name}" in Pod "${ps.podRef(this.pod)}" failed - error: Get "http://${g.host || this.net.ip}:${port}${g.path || '/'}", status code ${res.statusCode}`);
    } else if (h.sleep) {
      await sleep(Math.min(h.sleep.seconds * 1000, timeoutMs));
    }
  }

  async postStart(c, handle) {
    try {
      await this.hook(c, handle, c.spec.lifecycle.postStart, 30000);
    } catch (e) {
      if (c.handle !== handle) return;
      this.event('Warning', 'FailedPostStartHook', e.message, c);
      await this.killContainer(c, handle, { graceSeconds: this.pod.spec.terminationGracePeriodSeconds ?? 30, message: 'FailedPostStartHook' });
    }
  }

  // ---- termination ---------------------------------------------------------

  // Stops every container (preStop, SIGTERM, grace, SIGKILL), then removes
  // the network and volumes; with deleteObject the pod object goes last.
  terminate({ graceSeconds, deleteObject }) {
    if (this.terminating) return this.terminating;
    this.stopping = true;
    this.ac.abort();
    this.terminating = (async () => {
      const deadline = Date.now() + graceSeconds * 1000;
      await Promise.resolve(this.netPending).catch(() => {});
      await Promise.all(this.mains.concat(this.inits).map(async (c) => {
        await Promise.resolve(c.starting).catch(() => {});
        if (c.probes) { c.probes.stop(); c.probes = null; }
        const handle = c.handle;
        if (!handle) return;
        const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
        await this.killContainer(c, handle, { graceSeconds: left, message: `Stopping container ${c.spec.name}` });
        await c.exited;
      }));
      await this.k.network.removePod(this.key).catch((e) => this.k.log(`kubelet: network of ${this.key}: ${e.message}`));
      this.sandboxReady = false;
      await this.k.volumes.teardown(this.uid).catch(() => {});
      if (this.k.runtime.removePodState) {
        try { this.k.runtime.removePodState(path.join(this.k.volumes.podDir(this.uid), 'runtime'), this.key); } catch { /* best effort */ }
      }
      for (const p of this.patches) fs.rmSync(p.dst, { recursive: true, force: true });
      this.writeStatus();
      if (deleteObject) {
        try {
          this.k.store.delete(this.k.res.pods, this.pod.metadata.namespace, this.pod.metadata.name, { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
        } catch (e) { if (e.code !== 404 && e.code !== 409) this.k.log(`kubelet: delete ${this.key}: ${e.message}`); }
      }
    })();
    return this.terminating;
  }

  // Volumes whose sources changed, and their zoo.cfg copies.
  async refreshVolumes() {
    if (this.stopping || !this.volumeMap) return;
    await this.k.volumes.refresh(this.pod);
    for (const p of this.patches) await this.k.volumes.derive(p.src, p.dst, 'zoo.cfg', p.transform).catch(() => {});
  }
}

module.exports = { PodWorker, sleep };
