'use strict';
// pods/exec: the channel protocol and the API server's checks through real
// kubectl and a plain WebSocket client (a kubelet stand-in runs the command
// on the host), and the kubelet's streamed exec in a real container (root).
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('child_process');
const { PassThrough, Writable } = require('stream');
const WebSocket = require('ws');
const { startServer, ADMIN_TOKEN, ALICE_TOKEN } = require('./apiserver-fixture');
const execmod = require('../lib/exec');

const isRoot = process.getuid && process.getuid() === 0;

// ---- pure parts ------------------------------------------------------------------

test('container choice and its errors are the API server\'s', () => {
  const pod = (containers, initContainers) => ({ metadata: { name: 'p' }, spec: { containers: containers.map((name) => ({ name })), initContainers: (initContainers || []).map((name) => ({ name })) } });
  assert.strictEqual(execmod.chooseContainer(pod(['a']), ''), 'a');
  assert.strictEqual(execmod.chooseContainer(pod(['a', 'b']), 'b'), 'b');
  assert.strictEqual(execmod.chooseContainer(pod(['a'], ['init']), 'init'), 'init');
  assert.throws(() => execmod.chooseContainer(pod(['a', 'b']), ''), { code: 400, message: 'a container name must be specified for pod p, choose one of: [a b]' });
  assert.throws(() => execmod.chooseContainer(pod(['a', 'b'], ['i']), ''), { message: 'a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]' });
  assert.throws(() => execmod.chooseContainer(pod(['a']), 'x'), { code: 400, message: 'container x is not valid for pod p' });
});

test('options, subprotocol and the error channel\'s Status', () => {
  const q = new URLSearchParams('command=sh&command=-c&command=exit%203&container=c&stdin=true&stdout=true&tty=false');
  assert.deepStrictEqual(execmod.parseOptions(q), { command: ['sh', '-c', 'exit 3'], container: 'c', stdin: true, stdout: true, stderr: false, tty: false });
  const req = (p) => ({ headers: p === undefined ? {} : { 'sec-websocket-protocol': p } });
  assert.strictEqual(execmod.negotiate(req('v5.channel.k8s.io')), 'v5.channel.k8s.io');
  assert.strictEqual(execmod.negotiate(req('v6.channel.k8s.io, v4.channel.k8s.io')), 'v4.channel.k8s.io');
  assert.strictEqual(execmod.negotiate(req()), 'channel.k8s.io');
  assert.throws(() => execmod.negotiate(req('v9.channel.k8s.io')), { code: 400 });

  assert.deepStrictEqual(JSON.parse(execmod.statusMessage('v5.channel.k8s.io', ['true'], { exitCode: 0 })), { metadata: {}, status: 'Success' });
  const failed = JSON.parse(execmod.statusMessage('v4.channel.k8s.io', ['sh', '-c', 'exit 3'], { exitCode: 3 }));
  assert.strictEqual(failed.status, 'Failure');
  assert.strictEqual(failed.reason, 'NonZeroExitCode');
  assert.deepStrictEqual(failed.details.causes, [{ reason: 'ExitCode', message: '3' }]);
  assert.strictEqual(failed.message, 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3');
  assert.strictEqual(execmod.statusMessage('channel.k8s.io', ['true'], { exitCode: 0 }), null, 'v1: nothing on success');
  assert.match(execmod.statusMessage('channel.k8s.io', ['false'], { exitCode: 1 }), /^command terminated with non-zero exit code/);
});

test('the command enters the container as runtime.execIn does', () => {
  const a = execmod.enterArgs({ pid: 42, uid: 1000, gid: 1000, groups: [2000], env: [{ name: 'A', value: '1' }] }, ['id']);
  assert.deepStrictEqual(a, ['--target', '42', '--mount', '--uts', '--ipc', '--net', '--pid', '--root', '--wd', '--',
    '/usr/bin/setpriv', '--reuid=1000', '--regid=1000', '--groups=2000', '--', '/usr/bin/env', '-i', '--', 'A=1', 'id']);
});

// ---- through the API server --------------------------------------------------------

let f;
const runs = [];

// Runs the command on the host with the streams the API server opens, as the
// kubelet runs it in the container; "stopped" is a container that does not run.
const standInExec = async (ns, pod, container, argv, opts) => {
  if (container === 'stopped') throw execmod.containerNotFound(container);
  const io = await opts.open();
  const run = { pod, container, argv };
  runs.push(run);
  const child = spawn(argv[0], argv.slice(1), { stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, WHO: container } });
  if (io.stdin) { child.stdin.on('error', () => {}); io.stdin.pipe(child.stdin); }
  if (io.stdout) child.stdout.pipe(io.stdout, { end: false }); else child.stdout.resume();
  if (io.stderr) child.stderr.pipe(io.stderr, { end: false }); else child.stderr.resume();
  io.signal.addEventListener('abort', () => child.kill('SIGKILL'));
  run.done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ exitCode: code ?? 137, signal })));
  return run.done;
};

test.before(async () => {
  f = await startServer();
  f.server.kubelet = { ...f.server.kubelet, exec: standInExec };
  const pods = f.r('pods');
  f.store.create(pods, { metadata: { name: 'two', namespace: 'default' }, spec: { nodeName: 'node-1', containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }, { name: 'stopped', image: 'x' }] } });
  f.store.create(pods, { metadata: { name: 'unscheduled', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'x' }] } });
  // alice may also create pods/exec on "two" (and nothing else of it).
  const auth = f.server.auth;
  f.server.auth = {
    ...auth,
    authorize(user, attrs) {
      if (user.username === 'alice' && attrs.subresource === 'exec' && attrs.name === 'two' && attrs.verb === 'create') return { allowed: true, reason: 'test' };
      return auth.authorize(user, attrs);
    },
  };
});
test.after(async () => { await f.close(); });

async function kubectl(args, opts) { return f.kubectl(args, opts); }

test('kubectl exec: stdout, stderr, exit codes, stdin, -c', async () => {
  let r = await kubectl(['exec', 'two', '-c', 'a', '--', 'sh', '-c', 'echo out $WHO; echo err >&2']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.stdout, 'out a\n');
  assert.strictEqual(r.stderr, 'err\n');
  r = await kubectl(['exec', 'two', '-c', 'b', '--', 'sh', '-c', 'echo $WHO; exit 3']);
  assert.strictEqual(r.code, 3);
  assert.strictEqual(r.stdout, 'b\n');
  assert.match(r.stderr, /command terminated with exit code 3/);
  r = await kubectl(['exec', '-i', 'two', '-c', 'a', '--', 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'hello\nworld\n' });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.stdout, 'HELLO\nWORLD\ndone\n', 'stdin reaches the command and its end closes it');
  r = await kubectl(['exec', 'two', '--', 'sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x']);
  assert.strictEqual(r.stdout.length, 300000, 'large output arrives whole');
  assert.match(r.stderr, /Defaulted container "a" out of: a, b, stopped/);
});

test('kubectl exec: the API server\'s and the kubelet\'s errors', async () => {
  let r = await kubectl(['exec', 'two', '-c', 'nope', '--', 'true']);
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /Error from server \(BadRequest\): container nope is not valid for pod two/);
  r = await kubectl(['exec', 'two', '-c', 'stopped', '--', 'true']);
  assert.match(r.stderr, /error: unable to upgrade connection: container not found \("stopped"\)/);
  r = await kubectl(['exec', 'unscheduled', '--', 'true']);
  assert.match(r.stderr, /pod unscheduled does not have a host assigned/);
  r = await kubectl(['exec', 'ghost', '--', 'true']);
  assert.match(r.stderr, /pods "ghost" not found/);
  r = await kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/two/exec?command=true&container=a&stdout=true']);
  assert.match(r.stderr, /Upgrade request required/);
});

test('RBAC: create on pods/exec admits the WebSocket (as kubectl\'s SPDY fallback would); without it: 403 as for SPDY', async () => {
  const before = runs.length;
  let r = await kubectl(['exec', 'two', '-c', 'a', '--', 'echo', 'hi'], { user: 'alice' });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.stdout, 'hi\n');
  assert.strictEqual(runs.length, before + 1);
  f.store.create(f.r('pods'), { metadata: { name: 'other', namespace: 'default' }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'x' }] } });
  r = await kubectl(['exec', 'other', '--', 'echo', 'hi'], { user: 'alice' });
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /Error from server \(Forbidden\): pods "other" is forbidden: User "alice" cannot create resource "pods\/exec" in API group "" in the namespace "default"/);
  assert.strictEqual(runs.length, before + 1, 'nothing ran');
  // A line is logged when its connection closes, which may follow kubectl's exit.
  const lines = () => f.log.filter((l) => l.includes('/pods/other/exec'));
  const both = () => lines().some((l) => /^GET .* 403 /.test(l)) && lines().some((l) => /^POST .* 403 /.test(l));
  for (let i = 0; i < 100 && !both(); i += 1) await new Promise((res) => setTimeout(res, 20));
  assert.ok(both(), lines().join('\n'));
});

// A WebSocket client as client-go's: binary frames with a channel byte.
function wsExec(query, { protocols = ['v5.channel.k8s.io'], token = ADMIN_TOKEN, send = [] } = {}) {
  return new Promise((resolve, reject) => {
    const url = `wss://127.0.0.1:${f.port}/api/v1/namespaces/default/pods/two/exec?${query}`;
    const ws = new WebSocket(url, protocols, { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false });
    const got = { 1: '', 2: '', 3: '', protocol: null, closeCode: null };
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    ws.on('open', () => {
      got.protocol = ws.protocol;
      for (const m of send) ws.send(Buffer.from(m));
    });
    ws.on('message', (data) => { got[data[0]] = (got[data[0]] || '') + data.subarray(1).toString(); });
    ws.on('close', (code) => { got.closeCode = code; resolve(got); });
    ws.on('error', reject);
  });
}

test('the channel protocol: v5 close of stdin, v4, v1 text errors', async () => {
  const q = 'command=cat&container=a&stdin=true&stdout=true&stderr=true';
  let got = await wsExec(q, { send: [[0, ...Buffer.from('abc')], [0, ...Buffer.from('def\n')], [255, 0]] });
  assert.strictEqual(got.protocol, 'v5.channel.k8s.io');
  assert.strictEqual(got[1], 'abcdef\n');
  assert.deepStrictEqual(JSON.parse(got[3]), { metadata: {}, status: 'Success' });
  assert.strictEqual(got.closeCode, 1000);

  got = await wsExec('command=sh&command=-c&command=echo%20x%3B%20exit%207&container=b&stdout=true', { protocols: ['v4.channel.k8s.io'] });
  assert.strictEqual(got.protocol, 'v4.channel.k8s.io');
  assert.strictEqual(got[1], 'x\n');
  const st = JSON.parse(got[3]);
  assert.strictEqual(st.reason, 'NonZeroExitCode');
  assert.deepStrictEqual(st.details.causes, [{ reason: 'ExitCode', message: '7' }]);

  got = await wsExec('command=false&container=a&stdout=true', { protocols: ['channel.k8s.io'] });
  assert.match(got[3], /^command terminated with non-zero exit code: error executing command \[false\], exit code 1$/);
});

test('refused before the upgrade: a tty, unknown subprotocols, no stream, no token', async () => {
  let r = await wsExec('command=sh&container=a&stdin=true&stdout=true&tty=true');
  assert.strictEqual(r.status, 400);
  assert.match(JSON.parse(r.body).message, /tty is not supported/);
  r = await wsExec('command=true&container=a&stdout=true', { protocols: ['v9.channel.k8s.io'] });
  assert.strictEqual(r.status, 400);
  assert.match(JSON.parse(r.body).message, /none of the requested subprotocols \[v9.channel.k8s.io\]/);
  r = await wsExec('command=true&container=a');
  assert.strictEqual(r.status, 400);
  assert.match(JSON.parse(r.body).message, /at least 1 of stdin, stdout, stderr/);
  r = await wsExec('command=true&container=a&stdout=true', { token: 'wrong' });
  assert.strictEqual(r.status, 401);
  r = await wsExec('command=true&container=stopped&stdout=true', { token: ALICE_TOKEN });
  assert.strictEqual(r.status, 500);
  assert.strictEqual(r.body, 'container not found ("stopped")');
});

test('a client that goes away kills the command', async () => {
  const before = runs.length;
  const url = `wss://127.0.0.1:${f.port}/api/v1/namespaces/default/pods/two/exec?command=sleep&command=30&container=a&stdout=true`;
  const ws = new WebSocket(url, ['v5.channel.k8s.io'], { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, rejectUnauthorized: false });
  await new Promise((resolve) => ws.on('open', resolve));
  const started = Date.now();
  while (runs.length === before && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
  const line = () => f.log.find((l) => l.includes('command=sleep') && / 101 /.test(l));
  ws.terminate();
  const r = await runs[before].done;
  assert.strictEqual(r.signal, 'SIGKILL');
  while (!line() && Date.now() - started < 5000) await new Promise((res) => setTimeout(res, 20));
  assert.ok(line(), 'the access log has the upgraded request once it closed');
  assert.ok(Date.now() - started < 5000);
});

// ---- the eviction's budget write (subresources.js) ------------------------------------

test('an eviction retries its PodDisruptionBudget write after a conflict, a bounded number of times', async () => {
  const errors = require('../lib/errors'); // eslint-disable-line global-require
  const pods = f.r('pods');
  const pdbs = f.r('poddisruptionbudgets', 'policy');
  for (const name of ['evc-0', 'evc-1']) {
    f.store.create(pods, { metadata: { name, namespace: 'default', labels: { app: 'evc' } }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'x' }] } });
    const p = f.store.get(pods, 'default', name);
    f.store.update(pods, { ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
  }
  f.store.create(pdbs, { metadata: { name: 'evc', namespace: 'default' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'evc' } } } });
  const p = f.store.get(pdbs, 'default', 'evc');
  f.store.update(pdbs, { ...p, status: { disruptionsAllowed: 2, currentHealthy: 2, desiredHealthy: 0, expectedPods: 2 } }, { subresource: 'status' });
  const update = f.store.update;
  let conflicts = 0;
  f.store.update = function (res, obj, opts) {
    if (res === pdbs && opts && opts.subresource === 'status' && conflicts > 0) {
      conflicts -= 1;
      throw errors.conflict(res, obj.metadata.name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return update.call(this, res, obj, opts);
  };
  const evict = (name) => f.kubectl(['create', '--raw', `/api/v1/namespaces/default/pods/${name}/eviction`, '-f',
    f.file(`${name}-eviction.json`, JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } }))]);
  try {
    conflicts = 2;
    let r = await evict('evc-0');
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(conflicts, 0);
    assert.strictEqual(f.store.get(pdbs, 'default', 'evc').status.disruptionsAllowed, 1);
    assert.ok(f.store.get(pods, 'default', 'evc-0').metadata.deletionTimestamp);
    conflicts = 1000;
    r = await evict('evc-1');
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /Operation cannot be fulfilled on poddisruptionbudgets.policy "evc"/);
    assert.ok(conflicts > 990, 'the retries are bounded');
    assert.ok(!f.store.get(pods, 'default', 'evc-1').metadata.deletionTimestamp, 'a failed eviction deletes nothing');
  } finally {
    f.store.update = update;
  }
});

// ---- the kubelet in a real container ------------------------------------------------

test('kubelet.exec streams stdin and output in the container; buffered calls stay as they were', { skip: !isRoot && 'needs root' }, async () => {
  const { startCluster, until, podSpec, cstatus } = require('./kubelet-helpers'); // eslint-disable-line global-require
  const c = await startCluster();
  try {
    c.store.create(c.pods, podSpec('ex', [{ name: 'main', command: ['sleep', '1000'], env: [{ name: 'WHO', value: 'main' }] }, { name: 'side', command: ['sleep', '1000'] }]));
    await until(() => cstatus(c.pod('ex'), 'main')?.state.running && cstatus(c.pod('ex'), 'side')?.state.running, { what: 'ex running' });
    const buffered = await c.kubelet.exec('default', 'ex', 'main', ['sh', '-c', 'echo $WHO; hostname']);
    assert.strictEqual(buffered.stdout, 'main\nex\n');
    assert.strictEqual(buffered.exitCode, 0);

    const collect = () => { const w = new Writable({ write(chunk, e, cb) { w.text += chunk; cb(); } }); w.text = ''; return w; };
    const out = collect();
    const err = collect();
    const stdin = new PassThrough();
    const done = c.kubelet.exec('default', 'ex', 'main', ['sh', '-c', 'while read l; do echo "got $l"; done; echo bye >&2; exit 4'], { stdin, stdout: out, stderr: err });
    stdin.write('one\n');
    await until(() => out.text === 'got one\n', { what: 'the first line streamed back before stdin ends' });
    stdin.end('two\n');
    const r = await done;
    assert.deepStrictEqual(r, { exitCode: 4, signal: null });
    assert.strictEqual(out.text, 'got one\ngot two\n');
    assert.strictEqual(err.text, 'bye\n');

    const abort = new AbortController();
    const slow = c.kubelet.exec('default', 'ex', 'side', ['sleep', '100'], { stdout: collect(), signal: abort.signal });
    setTimeout(() => abort.abort(), 200);
    assert.strictEqual((await slow).exitCode, 137, 'an abort kills the command');

    await assert.rejects(c.kubelet.exec('default', 'ex', 'nope', ['true']), { code: 400, message: 'container nope is not valid for pod ex' });
  } finally {
    await c.stop();
  }
});
