'use strict';
// pods/exec: `kubectl exec` over a WebSocket with the remote-command channel
// protocols (v5.channel.k8s.io, v4.channel.k8s.io and the older ones), as the
// API server and the kubelet serve it together; and the running of a command
// in a container with its standard streams (what the kubelet's exec does).
//
// A message in either direction is one binary WebSocket frame: a channel
// byte, then data. 0 stdin, 1 stdout, 2 stderr, 3 error (the command's end:
// a metav1 Status in v4 and v5, its message as text before), 4 resize (a
// terminal size: ignored, there is no tty), and in v5 only 255 = close, whose
// second byte names the channel the client is done with (stdin at its EOF).
//
// SPDY, kubectl's fallback when a WebSocket upgrade fails, is not served: its
// POST gets the same checks and errors, then a Status saying so.

const os = require('os');
const { spawn } = require('child_process');
const { PassThrough, Writable } = require('stream');
const { WebSocketServer, WebSocket } = require('ws');
const errors = require('./errors');
const { parseBool } = require('./selectors');

const NSENTER = '/usr/bin/nsenter';
const { enterArgs } = require('./runtime');

const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 };
// Best first, as the kubelet's wsstream offers them.
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
const STATUS_PROTOCOLS = new Set(['v5.channel.k8s.io', 'v4.channel.k8s.io']);

// ---- the kubelet's side: a command in a running container -------------------

// What the kubelet answers when the container does not run (any more, or
// yet): a plain-text 500 that kubectl shows as
// `error: unable to upgrade connection: container not found ("main")`.
function containerNotFound(name) {
  const e = new errors.ApiError(500, 'InternalError', `container not found (${JSON.stringify(name)})`);
  e.plainText = true;
  return e;
}

// The command line that enters a container as runtime.execIn does: its
// namespaces, root and working directory, user, groups and capabilities, and
// environment.
// Runs argv in the container of target (a runtime handle) with streams:
// io.stdin (a Readable, or a string/Buffer; absent: /dev/null), io.stdout and
// io.stderr (Writables; absent: discarded; they are not ended here), io.signal
// (an AbortSignal that kills the command). Resolves {exitCode, signal} once
// the command and everything holding its output are gone; a signal's death is
// 128 + its number, as a runtime reports it.
function execStream(target, argv, io = {}) {
  if (!target || !target.pid) return Promise.reject(containerNotFound(io.containerName || ''));
  const stdin = io.stdin === undefined || io.stdin === null ? null : io.stdin;
  const child = spawn(NSENTER, enterArgs(target, argv), {
    stdio: [stdin === null ? 'ignore' : 'pipe', io.stdout ? 'pipe' : 'ignore', io.stderr ? 'pipe' : 'ignore'],
    detached: true,
  });
  const kill = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
  if (io.signal) {
    if (io.signal.aborted) kill();
    else io.signal.addEventListener('abort', kill, { once: true });
  }
  if (child.stdin) {
    child.stdin.on('error', () => {});
    if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) child.stdin.end(stdin);
    else {
      stdin.on('error', () => child.stdin.end());
      stdin.pipe(child.stdin);
    }
  }
  if (child.stdout) child.stdout.pipe(io.stdout, { end: false });
  if (child.stderr) child.stderr.pipe(io.stderr, { end: false });
  return new Promise((resolve, reject) => {
    child.on('error', (e) => reject(errors.internal(`error executing command in container: ${e.message}`)));
    child.on('close', (code, sig) => {
      if (io.signal) io.signal.removeEventListener('abort', kill);
      if (child.stdin && typeof stdin === 'object' && stdin !== null && !Buffer.isBuffer(stdin)) stdin.unpipe(child.stdin);
      resolve({ exitCode: code ?? 128 + (os.constants.signals[sig] || 9), signal: sig || null });
    });
  });
}

// ---- the API server's side ------------------------------------------------------

// PodExecOptions from the query: command (repeated), container, stdin, stdout, stderr, tty.
function parseOptions(query) {
  const bool = (k) => parseBool(query.get(k));
  return {
    command: query.getAll('command'), container: query.get('container') || '',
    stdin: bool('stdin'), stdout: bool('stdout'), stderr: bool('stderr'), tty: bool('tty'),
  };
}

// The container a pods/log or pods/exec request is for, with the API
// server's errors (it does not read kubectl's default-container annotation:
// kubectl does).
function chooseContainer(pod, requested) {
  const name = pod.metadata.name;
  const names = (list) => (list || []).map((c) => c.name);
  const mains = names(pod.spec.containers);
  if (!requested) {
    if (mains.length === 1) return mains[0];
    if (mains.length === 0) throw errors.badRequest(`a container name must be specified for pod ${name}`);
    const inits = names(pod.spec.initContainers);
    throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${mains.join(' ')}]`
      + (inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''));
  }
  const all = [...mains, ...names(pod.spec.initContainers), ...names(pod.spec.ephemeralContainers)];
  if (!all.includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

function upgradeKind(req) {
  const up = String(req.headers.upgrade || '').toLowerCase();
  if (up === 'websocket') return 'websocket';
  if (up.startsWith('spdy/')) return 'spdy';
  return up ? 'other' : '';
}

// -> the subprotocol to answer with; throws when the client offers only ones
// this server does not speak. None offered: channel.k8s.io, as wsstream does.
function negotiate(req) {
  const offered = String(req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!offered.length) return 'channel.k8s.io';
  const chosen = offered.find((p) => PROTOCOLS.includes(p));
  if (!chosen) {
    throw errors.badRequest(`unable to upgrade: none of the requested subprotocols [${offered.join(' ')}] is supported; supported: [${PROTOCOLS.join(' ')}]`);
  }
  return chosen;
}

// The end of a command on the error channel, as the kubelet writes it.
function statusMessage(protocol, argv, result, failure) {
  const v4 = STATUS_PROTOCOLS.has(protocol);
  if (failure) {
    const message = `error executing command in container: ${failure}`;
    return v4 ? JSON.stringify({ metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 }) : message;
  }
  if (result.exitCode === 0) return v4 ? JSON.stringify({ metadata: {}, status: 'Success' }) : null;
  const message = `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${result.exitCode}`;
  if (!v4) return message;
  return JSON.stringify({
    metadata: {}, status: 'Failure', message, reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] },
  });
}

const frame = (channel, data) => Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);

// A Writable whose chunks leave on one channel; each write waits until the
// socket took it (back-pressure on the command's output).
function channelWriter(ws, channel) {
  return new Writable({
    write(chunk, enc, cb) {
      if (ws.readyState !== WebSocket.OPEN) { cb(); return; }
      ws.send(frame(channel, chunk), { binary: true }, () => cb());
    },
  });
}

const finished = (w) => new Promise((resolve) => {
  if (w.writableFinished || w.destroyed) { resolve(); return; }
  w.once('finish', resolve);
  w.once('error', resolve);
  w.once('close', resolve);
  w.end();
});

// The subprotocol answered is the one negotiate() chose for the request.
const wss = new WebSocketServer({
  noServer: true, perMessageDeflate: false, maxPayload: 16 << 20, handleProtocols: (offered, req) => req.execProtocol || false,
});

// Takes over the connection of ctx (an upgrade request the API server
// admitted) as a WebSocket speaking protocol.
function upgrade(ctx, protocol) {
  const { socket, head } = ctx.upgrade;
  return new Promise((resolve, reject) => {
    ctx.res.detachSocket(socket);
    ctx.upgraded = true;
    const onClose = () => reject(new Error('the connection closed during the WebSocket handshake'));
    socket.once('close', onClose);
    ctx.req.execProtocol = protocol;
    wss.handleUpgrade(ctx.req, socket, head, (ws) => {
      socket.off('close', onClose);
      resolve(ws);
    });
  });
}

// The pods/exec subresource: validates as the API server and the kubelet do,
// upgrades to a WebSocket, runs the command and reports its end.
async function handle(ctx) {
  const { store, kubelet } = ctx.server;
  const opts = parseOptions(ctx.query);
  const podName = ctx.info.name;
  if (!['get', 'create'].includes(ctx.verb)) throw errors.methodNotAllowed(`${ctx.verb} is not supported on pods/exec`);
  const pod = store.get(ctx.resource, ctx.namespace, podName);
  const container = chooseContainer(pod, opts.container);
  if (!pod.spec.nodeName) throw errors.badRequest(`pod ${podName} does not have a host assigned`);
  if (!kubelet || typeof kubelet.exec !== 'function') {
    throw errors.badRequest('pods/exec is not supported by this cluster: no kubelet here serves it');
  }
  const kind = ctx.upgrade ? upgradeKind(ctx.req) : '';
  if (kind !== 'websocket' && kind !== 'spdy') throw errors.badRequest('Upgrade request required');
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (!opts.command.length) throw errors.badRequest('you must specify at least one command for the container');
  if (opts.tty) {
    throw errors.badRequest('a tty is not supported by this cluster: its containers have no terminal; run kubectl exec without -t (-i alone keeps stdin)');
  }
  const protocol = kind === 'websocket' ? negotiate(ctx.req) : null;

  let ws = null;
  const abort = new AbortController();
  const stdin = opts.stdin ? new PassThrough() : null;
  const open = async () => {
    if (kind === 'spdy') {
      throw errors.badRequest('pods/exec is served over WebSockets only in this cluster (SPDY is not): use a client that speaks v5.channel.k8s.io or v4.channel.k8s.io (kubectl 1.31+ does by default)');
    }
    ws = await upgrade(ctx, protocol);
    ws.on('error', () => {});
    ws.on('close', () => { abort.abort(); if (stdin) stdin.end(); });
    ws.on('message', (data, isBinary) => {
      if (!isBinary || !data.length) return;
      const channel = data[0];
      if (channel === CH.stdin && stdin && !stdin.writableEnded) stdin.write(data.subarray(1));
      else if (channel === CH.close && protocol === 'v5.channel.k8s.io' && data.length === 2 && data[1] === CH.stdin && stdin) stdin.end();
    });
    return {
      stdin,
      stdout: opts.stdout ? channelWriter(ws, CH.stdout) : null,
      stderr: opts.stderr ? channelWriter(ws, CH.stderr) : null,
      signal: abort.signal,
    };
  };

  let streams = null;
  let result = null;
  let failure = null;
  try {
    result = await kubelet.exec(ctx.namespace, podName, container, opts.command, {
      open: async () => { streams = await open(); return streams; },
    });
  } catch (e) {
    if (!ws) {
      if (e && e.plainText) return ctx.server.sendText(ctx, e.code, e.message);
      throw e;
    }
    failure = e && e.message ? e.message : String(e);
  }
  if (!ws) throw errors.internal('the kubelet ran the command without opening its streams');
  await Promise.all([streams && streams.stdout, streams && streams.stderr].filter(Boolean).map(finished));
  if (ws.readyState === WebSocket.OPEN) {
    const text = statusMessage(protocol, opts.command, result, failure);
    await new Promise((resolve) => {
      if (text === null) { resolve(); return; }
      ws.send(frame(CH.error, text), { binary: true }, () => resolve());
    });
    ws.close(1000);
  }
  return undefined;
}

module.exports = {
  handle, execStream, enterArgs, containerNotFound, chooseContainer, parseOptions, negotiate, statusMessage,
  upgradeKind, PROTOCOLS, CH,
};
