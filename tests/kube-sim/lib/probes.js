'use strict';
// Container probes (startup, readiness, liveness) with the kubelet's timing
// and thresholds and its failure messages, and the way this process reaches
// into a pod's network namespace at all: a tiny relay started there with
// nsenter, whose stdin/stdout carry one TCP connection. HTTP probes and the
// API server's pod proxy speak HTTP over that relay.

const http = require('http');
const https = require('https');
const tls = require('tls');
const { spawn } = require('child_process');
const { Duplex } = require('stream');

const NSENTER = '/usr/bin/nsenter';
const nsPath = (netns) => (netns.startsWith('/') ? netns : `/run/netns/${netns}`);

// The relay reports "OK" or the connect error code on stderr, then copies bytes.
const RELAY = `
const s = require('net').connect(Number(process.argv[2]), process.argv[1]);
s.on('connect', () => { process.stderr.write('OK\\n'); process.stdin.pipe(s); s.pipe(process.stdout); });
s.on('error', (e) => { process.stderr.write((e.code || e.message) + '\\n'); process.exit(1); });
s.on('close', () => process.exit(0));
process.stdin.on('end', () => s.end());
`;

const ERRNO_TEXT = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  ECONNRESET: 'read: connection reset by peer',
};

// -> Promise<Duplex> once connected; rejects with err.text in Go's wording
// ("dial tcp 10.244.0.2:80: connect: connection refused").
function netnsConnect(netns, host, port, { timeoutMs = 10000 } = {}) {
  const where = `dial tcp ${host}:${port}`;
  return new Promise((resolve, reject) => {
    const child = spawn(NSENTER, [`--net=${nsPath(netns)}`, process.execPath, '-e', RELAY, host, String(port)],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    let settled = false;
    const fail = (text) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try { child.kill('SIGKILL'); } catch { /* gone */ }
      const e = new Error(`${where}: ${text}`);
      e.text = e.message;
      reject(e);
    };
    const timer = setTimeout(() => fail('i/o timeout'), timeoutMs);
    child.on('error', (e) => fail(e.message));
    child.on('exit', () => { if (!settled) fail(ERRNO_TEXT[err.trim()] || err.trim() || 'connection failed'); });
    child.stderr.on('data', (d) => {
      err += d;
      if (!settled && err.startsWith('OK\n')) {
        settled = true;
        clearTimeout(timer);
        const sock = Duplex.from({ readable: child.stdout, writable: child.stdin });
        // What http.ClientRequest may call on a net.Socket.
        sock.setTimeout = () => sock;
        sock.setNoDelay = () => sock;
        sock.setKeepAlive = () => sock;
        sock.ref = () => sock;
        sock.unref = () => sock;
        sock.on('close', () => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
        sock.on('error', () => { /* reported to whoever reads or writes */ });
        sock.child = child;
        resolve(sock);
      }
    });
  });
}

// An HTTP(S) request inside the pod's network. -> Promise<IncomingMessage>
async function netnsRequest(netns, { host, port, path = '/', method = 'GET', headers = {}, scheme = 'HTTP', timeoutMs = 10000 }) {
  const raw = await netnsConnect(netns, host, port, { timeoutMs });
  const sock = String(scheme).toUpperCase() === 'HTTPS'
    ? tls.connect({ socket: raw, rejectUnauthorized: false, servername: undefined })
    : raw;
  const mod = String(scheme).toUpperCase() === 'HTTPS' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request({ host, port, path, method, headers, createConnection: () => sock });
    const timer = setTimeout(() => { req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })); }, timeoutMs);
    req.on('response', (res) => { clearTimeout(timer); res.on('close', () => raw.destroy()); resolve(res); });
    req.on('error', (e) => { clearTimeout(timer); raw.destroy(); reject(e); });
    req.end();
  });
}

// ---- the three probe handlers: -> {ok, message} ----

async function httpProbe(netns, { host, port, path, scheme, headers }, timeoutMs) {
  const url = `${String(scheme || 'HTTP').toLowerCase()}://${host}:${port}${path || '/'}`;
  const hdrs = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
  for (const h of headers || []) hdrs[h.name] = h.value;
  try {
    const res = await netnsRequest(netns, { host, port, path: path || '/', headers: hdrs, scheme, timeoutMs });
    res.resume();
    if (res.statusCode >= 200 && res.statusCode < 400) return { ok: true, message: '' };
    return { ok: false, message: `HTTP probe failed with statuscode: ${res.statusCode}` };
  } catch (e) {
    if (e.code === 'ETIMEDOUT' || (e.text && e.text.endsWith('i/o timeout'))) {
      return { ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` };
    }
    return { ok: false, message: `Get "${url}": ${e.text || e.message}` };
  }
}

async function tcpProbe(netns, host, port, timeoutMs) {
  try {
    const s = await netnsConnect(netns, host, port, { timeoutMs });
    s.destroy();
    return { ok: true, message: '' };
  } catch (e) {
    return { ok: false, message: e.text || e.message };
  }
}

// exec(argv, timeoutMs) -> {exitCode, output, timedOut}
async function execProbe(exec, command, timeoutMs) {
  try {
    const r = await exec(command, timeoutMs);
    if (r.timedOut) return { ok: false, message: `command ${JSON.stringify(command.join(' '))} timed out` };
    return { ok: r.exitCode === 0, message: String(r.output || '').trimEnd() };
  } catch (e) {
    return { ok: false, message: e.message };
  }
}

const KIND_TEXT = { startup: 'Startup', readiness: 'Readiness', liveness: 'Liveness' };

// The probes of one running container instance.
// ctx: { container, podIP, netns, exec, event(type, reason, message),
//        onStarted(), onReady(bool), onFailed(kind, message) }
class ContainerProbes {
  constructor(ctx) {
    this.ctx = ctx;
    this.timers = new Set();
    this.stopped = false;
    this.started = !ctx.container.startupProbe;
    this.ready = false;
  }

  start() {
    const c = this.ctx.container;
    if (c.startupProbe) this.worker('startup', c.startupProbe);
    if (c.livenessProbe) this.worker('liveness', c.livenessProbe);
    if (c.readinessProbe) this.worker('readiness', c.readinessProbe);
    if (this.started) this.ctx.onStarted();
    if (!c.readinessProbe && this.started) this.setReady(true);
  }

  stop() {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  later(ms, fn) {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.stopped) fn(); }, ms);
    this.timers.add(t);
  }

  setReady(v) {
    if (this.ready === v) return;
    this.ready = v;
    this.ctx.onReady(v);
  }

  worker(kind, probe) {
    const period = (probe.periodSeconds || 10) * 1000;
    const timeout = (probe.timeoutSeconds || 1) * 1000;
    const successThreshold = probe.successThreshold || 1;
    const failureThreshold = probe.failureThreshold || 3;
    let successes = 0;
    let failures = 0;
    const tick = async () => {
      if (kind !== 'startup' && !this.started) { this.later(period, tick); return; }
      let r;
      try { r = await this.run(probe, timeout); } catch (e) { r = { ok: false, message: e.message }; }
      if (this.stopped) return;
      if (r.ok) {
        successes++; failures = 0;
        if (successes >= successThreshold) {
          if (kind === 'startup') {
            this.started = true;
            this.ctx.onStarted();
            if (!this.ctx.container.readinessProbe) this.setReady(true);
            return; // a startup probe stops once it succeeded
          }
          if (kind === 'readiness') this.setReady(true);
        }
      } else {
        failures++; successes = 0;
        this.ctx.event('Warning', 'Unhealthy', `${KIND_TEXT[kind]} probe failed: ${r.message}`);
        if (failures >= failureThreshold) {
          if (kind === 'readiness') this.setReady(false);
          else { this.stop(); this.ctx.onFailed(kind, r.message); return; }
        }
      }
      this.later(period, tick);
    };
    this.later((probe.initialDelaySeconds || 0) * 1000, tick);
  }

  async run(probe, timeoutMs) {
    const { container, podIP, netns, exec } = this.ctx;
    const port = (p) => {
      if (typeof p === 'number' || /^\d+$/.test(String(p))) return Number(p);
      const named = (container.ports || []).find((x) => x.name === p);
      return named ? named.containerPort : NaN;
    };
    if (probe.exec) return execProbe(exec, probe.exec.command || [], timeoutMs);
    if (probe.httpGet) {
      const g = probe.httpGet;
      return httpProbe(netns, { host: g.host || podIP, port: port(g.port), path: g.path, scheme: g.scheme, headers: g.httpHeaders }, timeoutMs);
    }
    if (probe.tcpSocket) return tcpProbe(netns, probe.tcpSocket.host || podIP, port(probe.tcpSocket.port), timeoutMs);
    if (probe.grpc) return { ok: false, message: 'gRPC probes are not supported by this kubelet' };
    return { ok: false, message: 'probe has no handler' };
  }
}

module.exports = { ContainerProbes, netnsConnect, netnsRequest, httpProbe, tcpProbe, execProbe, nsPath };
