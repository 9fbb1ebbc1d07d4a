'use strict';
// Container probes (startup, readiness, liveness) with the kubelet's timing
// and thresholds and its failure messages, and the way this process reaches
// the pods at all: a long-lived relay (relay.js) in the cluster network
// namespace, where a node's connections come from, which the daemon asks for
// each TCP connection over a unix socket. HTTP probes, lifecycle hooks and the
// API server's pod proxy speak HTTP over such a connection.

const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const path = require('path');
const tls = require('tls');
const { spawn } = require('child_process');
const { resolvePort } = require('./ports');

const IP = '/usr/sbin/ip';
const RELAY_SCRIPT = path.join(__dirname, 'relay.js');
const RELAY_START_TIMEOUT_MS = 30000;
const RELAY_RESTART_DELAY_MS = 200;

const ERRNO_TEXT = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  ECONNRESET: 'read: connection reset by peer',
};

// The relay process in network namespace `netns`, listening on `socketPath`.
// Started on first use (or start()), started again when it dies, ended by
// stop() or when this process ends (its standard input closes).
class Relay {
  constructor({ netns, socketPath, log }) {
    this.netns = netns;
    this.socketPath = socketPath;
    this.log = log || (() => {});
    this.child = null;
    this.ready = null; // Promise while starting or running
    this.stopped = false;
    this.restartTimer = null;
  }

  start() {
    this.stopped = false;
    return this.ensure();
  }

  ensure() {
    if (this.stopped) return Promise.reject(new Error('the node relay is stopped'));
    if (!this.ready) {
      this.ready = this.spawn();
      this.ready.catch(() => { /* reported to whoever waits */ });
    }
    return this.ready;
  }

  spawn() {
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true });
    const child = spawn(IP, ['netns', 'exec', this.netns, process.execPath, RELAY_SCRIPT, this.socketPath],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (d) => { if (stderr.length < 4096) stderr += d; });
    child.stdin.on('error', () => {});
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, RELAY_START_TIMEOUT_MS);
      child.stdout.once('data', () => {
        clearTimeout(timer);
        // Running; nothing of it keeps this process alive.
        child.unref();
        for (const s of [child.stdin, child.stdout, child.stderr]) if (s.unref) s.unref();
        resolve();
      });
      child.on('error', (e) => { stderr += e.message; });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) { this.child = null; this.ready = null; }
        reject(new Error(`the node relay exited (${code ?? signal}): ${stderr.trim()}`));
        if (!this.stopped) {
          this.log(`kubelet: the node relay exited (${code ?? signal})${stderr.trim() ? `: ${stderr.trim()}` : ''}; starting it again`);
          clearTimeout(this.restartTimer);
          this.restartTimer = setTimeout(() => { if (!this.stopped) this.ensure().catch((e) => this.log(`kubelet: ${e.message}`)); }, RELAY_RESTART_DELAY_MS);
          this.restartTimer.unref();
        }
      });
    });
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = null;
    this.ready = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      try { child.kill('SIGTERM'); } catch { /* gone */ }
      const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 2000);
      await gone;
      clearTimeout(t);
    }
    fs.rmSync(this.socketPath, { force: true });
  }

  // -> Promise<net.Socket> connected to host:port, resolved once the TCP
  // connection is made; rejects with err.text in Go's wording ("dial tcp
  // 10.244.0.2:80: connect: connection refused"). The timeout counts from the
  // connect attempt. sock.connectStarted is when that was (ms).
  connect(host, port, { timeoutMs = 10000 } = {}) {
    const where = `dial tcp ${host}:${port}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      let sock = null;
      let timer = null;
      const fail = (text) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (sock) sock.destroy();
        const e = new Error(`${where}: ${text}`);
        e.text = e.message;
        reject(e);
      };
      const attempt = async (again) => {
        try { await this.ensure(); } catch (e) { fail(e.message); return; }
        if (settled) return;
        sock = net.connect(this.socketPath);
        let answered = false;
        sock.once('error', (e) => {
          // A relay that died since: start it again once.
          if (!answered && again && ['ECONNREFUSED', 'ENOENT'].includes(e.code)) {
            clearTimeout(timer);
            if (this.ready && (!this.child || this.child.exitCode !== null)) this.ready = null;
            sock = null;
            attempt(false);
            return;
          }
          fail(ERRNO_TEXT[e.code] || e.message);
        });
        sock.once('connect', () => {
          const started = Date.now();
          timer = setTimeout(() => fail('i/o timeout'), timeoutMs);
          sock.write(`${host} ${port}\n`);
          let head = Buffer.alloc(0);
          const onReadable = () => {
            let chunk;
            while ((chunk = sock.read()) !== null) {
              head = Buffer.concat([head, chunk]);
              const nl = head.indexOf(10);
              if (nl < 0) continue;
              answered = true;
              sock.removeListener('readable', onReadable);
              sock.removeListener('end', onEnd);
              const rest = head.subarray(nl + 1);
              if (rest.length) sock.unshift(rest);
              const line = head.subarray(0, nl).toString();
              if (line !== 'OK') { fail(ERRNO_TEXT[line.replace(/^ERR /, '')] || line.replace(/^ERR /, '') || 'connection failed'); return; }
              if (settled) return;
              settled = true;
              clearTimeout(timer);
              sock.on('error', () => { /* reported to whoever reads or writes */ });
              sock.connectStarted = started;
              resolve(sock);
              return;
            }
          };
          const onEnd = () => fail('connection failed');
          sock.on('readable', onReadable);
          sock.once('end', onEnd);
        });
      };
      attempt(true);
    });
  }
}

// An HTTP(S) request from the relay's network. The timeout covers the
// connection and the response headers, from the connect attempt.
// -> Promise<IncomingMessage>
async function relayRequest(relay, { host, port, path: reqPath = '/', method = 'GET', headers = {}, scheme = 'HTTP', timeoutMs = 10000 }) {
  const raw = await relay.connect(host, port, { timeoutMs });
  const secure = String(scheme).toUpperCase() === 'HTTPS';
  const sock = secure ? tls.connect({ socket: raw, rejectUnauthorized: false, servername: undefined }) : raw;
  const mod = secure ? https : http;
  const left = Math.max(0, timeoutMs - (Date.now() - raw.connectStarted));
  return new Promise((resolve, reject) => {
    const req = mod.request({ host, port, path: reqPath, method, headers, createConnection: () => sock });
    const timer = setTimeout(() => { req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })); }, left);
    req.on('response', (res) => { clearTimeout(timer); res.on('close', () => raw.destroy()); resolve(res); });
    req.on('error', (e) => { clearTimeout(timer); raw.destroy(); reject(e); });
    req.end();
  });
}

// ---- the three probe handlers: -> {ok, message} ----

async function httpProbe(relay, { host, port, path, scheme, headers }, timeoutMs) {
  const url = `${String(scheme || 'HTTP').toLowerCase()}://${host}:${port}${path || '/'}`;
  const hdrs = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
  for (const h of headers || []) hdrs[h.name] = h.value;
  try {
    const res = await relayRequest(relay, { host, port, path: path || '/', headers: hdrs, scheme, timeoutMs });
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

async function tcpProbe(relay, host, port, timeoutMs) {
  try {
    const s = await relay.connect(host, port, { timeoutMs });
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
// ctx: { container, podIP, relay (a Relay), exec, event(type, reason, message),
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
    const { container, podIP, relay, exec } = this.ctx;
    const port = (p) => resolvePort(container, p);
    if (probe.exec) return execProbe(exec, probe.exec.command || [], timeoutMs);
    if (probe.httpGet) {
      const g = probe.httpGet;
      return httpProbe(relay, { host: g.host || podIP, port: port(g.port), path: g.path, scheme: g.scheme, headers: g.httpHeaders }, timeoutMs);
    }
    if (probe.tcpSocket) return tcpProbe(relay, probe.tcpSocket.host || podIP, port(probe.tcpSocket.port), timeoutMs);
    if (probe.grpc) return { ok: false, message: 'gRPC probes are not supported by this kubelet' };
    return { ok: false, message: 'probe has no handler' };
  }
}

module.exports = { ContainerProbes, Relay, relayRequest, httpProbe, tcpProbe, execProbe };
