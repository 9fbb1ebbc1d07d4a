'use strict';
// The kubelet against a real store, the cluster network and the process
// runtime (root only). Container back-off is shortened to 200ms
// (backoffBaseMs, as KUBE_SIM_BACKOFF_BASE_MS does for the daemon).

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const http = require('http');
const { Writable } = require('stream');
const { startCluster, until, podSpec, cstatus, cond } = require('./kubelet-helpers');

const isRoot = process.getuid && process.getuid() === 0;
let c;

test.before(async () => { if (isRoot) c = await startCluster(); });
test.after(async () => { if (c) await c.stop(); });

function collect() {
  const chunks = [];
  const w = new Writable({ write(ch, e, cb) { chunks.push(String(ch)); cb(); } });
  w.text = () => chunks.join('');
  return w;
}

async function logsOf(name, opts = {}) {
  const w = collect();
  await c.kubelet.logs('default', name, opts, w);
  return w.text();
}

const show = (name) => () => ({ status: c.pod(name) && c.pod(name).status, log: c.logs.slice(-5) });

test('a configMap change reaches the mounted file; a subPath mount keeps the old content', { skip: !isRoot && 'needs root' }, async () => {
  c.store.create(c.r('configmaps'), { metadata: { name: 'cfg', namespace: 'default' }, data: { 'app.conf': 'v1\n' } });
  c.store.create(c.pods, podSpec('cm', [{
    name: 'main', command: ['sleep', '1000'],
    volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }, { name: 'cfg', mountPath: '/etc/single.conf', subPath: 'app.conf' }],
  }], { spec: { volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }] } }));
  await until(() => cstatus(c.pod('cm'), 'main')?.state.running, { what: 'cm running', show: show('cm') });
  const cat = async (file) => (await c.kubelet.exec('default', 'cm', 'main', ['cat', file])).stdout;
  assert.strictEqual(await cat('/etc/app/app.conf'), 'v1\n', 'exec sees the container as soon as it is running');
  const cm = c.store.get(c.r('configmaps'), 'default', 'cfg');
  c.store.update(c.r('configmaps'), { ...cm, data: { 'app.conf': 'v2\n' } });
  await until(async () => (await cat('/etc/app/app.conf')) === 'v2\n', { what: 'the new content' });
  assert.strictEqual(await cat('/etc/single.conf'), 'v1\n', 'a subPath mount is not updated');
  c.store.delete(c.pods, 'default', 'cm', { gracePeriodSeconds: 1 });
});

// The container's PID 1 (bash without a trap) ignores SIGTERM, so the
// kubelet needs SIGKILL after the probe's grace period: exit code 137.
test('a liveness failure kills and restarts the container', { skip: !isRoot && 'needs root' }, async () => {
  c.store.create(c.pods, podSpec('live', [{
    name: 'main', command: ['bash', '-c', 'touch /tmp/healthy; sleep 1; rm /tmp/healthy; sleep 1000'],
    livenessProbe: { exec: { command: ['test', '-f', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 1 },
  }]));
  const s = await until(() => { const st = cstatus(c.pod('live'), 'main'); return st && st.restartCount === 1 && st; },
    { what: 'restartCount 1', show: show('live') });
  assert.ok(s.lastState.terminated, 'lastState terminated');
  assert.strictEqual(s.lastState.terminated.exitCode, 137);
  assert.strictEqual(s.lastState.terminated.reason, 'Error');
  const ev = c.events('live');
  assert.ok(ev.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed:')), 'Unhealthy event');
  assert.ok(ev.some((e) => e.reason === 'Killing' && e.message === 'Container main failed liveness probe, will be restarted'), 'Killing event');
  c.store.delete(c.pods, 'default', 'live', { gracePeriodSeconds: 1 });
});

// As the kubelet's killContainer: preStop first, then SIGTERM; the exit code
// is what the process returned (it exits 0 on SIGTERM: no SIGKILL needed).
test('a liveness kill runs the preStop hook first', { skip: !isRoot && 'needs root' }, async () => {
  const pod = c.store.create(c.pods, podSpec('livepre', [{
    name: 'main',
    command: ['bash', '-c', 'trap "echo got-TERM; exit 0" TERM; touch /tmp/healthy; echo started; sleep 2; rm /tmp/healthy; while true; do sleep 0.1; done'],
    livenessProbe: { exec: { command: ['test', '-f', '/tmp/healthy'] }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 10 },
    lifecycle: { preStop: { exec: { command: ['bash', '-c', 'echo pre-stop > /proc/1/fd/1'] } } },
  }]));
  const s = await until(() => { const st = cstatus(c.pod('livepre'), 'main'); return st && st.restartCount === 1 && st; },
    { what: 'restartCount 1', show: show('livepre') });
  assert.strictEqual(s.lastState.terminated.exitCode, 0, 'the process exited 0 on SIGTERM');
  assert.strictEqual(s.lastState.terminated.reason, 'Completed');
  const log = fs.readFileSync(path.join(c.stateDir, 'pods', pod.metadata.uid, 'logs', 'main', '0.log'), 'utf8');
  const lines = log.split('\n').map((l) => l.split(' ').slice(3).join(' '));
  assert.ok(lines.indexOf('pre-stop') >= 0 && lines.indexOf('got-TERM') > lines.indexOf('pre-stop'), `preStop, then TERM: ${lines.join('|')}`);
  const ev = c.events('livepre');
  assert.ok(ev.some((e) => e.reason === 'Killing' && e.message === 'Container main failed liveness probe, will be restarted'), 'Killing event');
  assert.ok(!ev.some((e) => e.reason === 'FailedPreStopHook'), 'the hook ran');
  c.store.delete(c.pods, 'default', 'livepre', { gracePeriodSeconds: 1 });
});

test('a crashing container goes to CrashLoopBackOff with a growing back-off', { skip: !isRoot && 'needs root' }, async () => {
  const seen = [];
  const stop = c.store.watch(c.pods, 'default', { fieldSelector: 'metadata.name=crash' }, ({ object }) => {
    const w = cstatus(object, 'main')?.state.waiting;
    if (w && w.reason === 'CrashLoopBackOff' && seen[seen.length - 1] !== w.message) seen.push(w.message);
  });
  try {
    const pod = c.store.create(c.pods, podSpec('crash', [{ name: 'main', command: ['bash', '-c', 'echo crashing; exit 3'] }]));
    await until(() => seen.length >= 2, { what: 'two back-offs', show: () => ({ seen, ...show('crash')() }) });
    const ref = `crash_default(${pod.metadata.uid})`;
    assert.strictEqual(seen[0], `back-off 200ms restarting failed container=main pod=${ref}`);
    assert.strictEqual(seen[1], `back-off 400ms restarting failed container=main pod=${ref}`);
    const st = cstatus(c.pod('crash'), 'main');
    assert.ok(st.restartCount >= 2);
    assert.strictEqual(st.lastState.terminated.exitCode, 3);
    assert.strictEqual(c.pod('crash').status.phase, 'Running', 'a restarting pod is Running');
    assert.ok(c.events('crash').some((e) => e.reason === 'BackOff' && e.type === 'Warning'));
  } finally {
    stop();
    c.store.delete(c.pods, 'default', 'crash', { gracePeriodSeconds: 1 });
  }
});

test('runAsNonRoot with an image that runs as root is refused', { skip: !isRoot && 'needs root' }, async () => {
  const pod = c.store.create(c.pods, podSpec('nonroot', [{ name: 'main', command: ['sleep', '1000'] }],
    { spec: { securityContext: { runAsNonRoot: true } } }));
  const w = await until(() => cstatus(c.pod('nonroot'), 'main')?.state.waiting?.reason === 'CreateContainerConfigError'
    && cstatus(c.pod('nonroot'), 'main').state.waiting, { what: 'CreateContainerConfigError', show: show('nonroot') });
  assert.strictEqual(w.message, `container has runAsNonRoot and image will run as root (pod: "nonroot_default(${pod.metadata.uid})", container: main)`);
  assert.strictEqual(c.pod('nonroot').status.phase, 'Pending');
  c.store.delete(c.pods, 'default', 'nonroot');
  await until(() => !c.pod('nonroot'), { what: 'nonroot gone' });
});

test('an unknown image is ErrImagePull, then ImagePullBackOff', { skip: !isRoot && 'needs root' }, async () => {
  c.store.create(c.pods, podSpec('noimg', [{ name: 'main', image: 'example.com/nope:1' }]));
  await until(() => cstatus(c.pod('noimg'), 'main')?.state.waiting?.reason === 'ImagePullBackOff', { what: 'ImagePullBackOff', show: show('noimg') });
  assert.strictEqual(c.pod('noimg').status.phase, 'Pending');
  assert.ok(c.events('noimg').some((e) => e.message === 'Error: ErrImagePull'));
  await assert.rejects(logsOf('noimg'), { code: 400, message: 'container "main" in pod "noimg" is waiting to start: trying and failing to pull image' });
  c.store.delete(c.pods, 'default', 'noimg');
});

test('readiness flips Ready; init containers run first; fieldRef env', { skip: !isRoot && 'needs root' }, async () => {
  c.store.create(c.pods, podSpec('ready', [{
    name: 'web', workingDir: '/www',
    command: ['bash', '-c', 'cp /shared/order /www/order; exec python3 -m http.server 8080 --bind "$POD_IP"'],
    env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/order', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
    volumeMounts: [{ name: 'work', mountPath: '/shared' }, { name: 'www', mountPath: '/www' }],
  }], {
    spec: {
      volumes: [{ name: 'work', emptyDir: {} }, { name: 'www', emptyDir: {} }],
      initContainers: ['one', 'two'].map((n) => ({
        name: n, image: 'zookeeper:3.8.0', command: ['bash', '-c', `echo ${n} >> /shared/order`], volumeMounts: [{ name: 'work', mountPath: '/shared' }],
      })),
    },
  }));
  await until(() => cond(c.pod('ready'), 'Ready')?.status === 'True', { what: 'Ready', show: show('ready') });
  const pod = c.pod('ready');
  assert.strictEqual(cond(pod, 'ContainersReady').status, 'True');
  assert.deepStrictEqual(pod.status.initContainerStatuses.map((s) => [s.name, s.state.terminated.reason]), [['one', 'Completed'], ['two', 'Completed']]);
  assert.strictEqual((await c.kubelet.exec('default', 'ready', 'web', ['cat', '/www/order'])).stdout, 'one\ntwo\n');
  // The pod proxy, as the API server serves .../pods/ready:8080/proxy/order.
  const server = http.createServer((req, res) => {
    c.kubelet.proxy('default', 'ready', 8080, req.url, req, res).catch((e) => { res.writeHead(e.code || 500); res.end(e.message); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const body = await new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: server.address().port, path: '/order' }, (res) => {
        let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(`${res.statusCode} ${b}`));
      }).on('error', reject);
    });
    assert.strictEqual(body, '200 one\ntwo\n');
  } finally { server.close(); }
  // A partition cuts the node's probes off too.
  await c.kubelet.partition('default', 'ready', false);
  await until(() => cond(c.pod('ready'), 'Ready')?.status === 'False', { what: 'not Ready while partitioned', show: show('ready') });
  await c.kubelet.partition('default', 'ready', true);
  await until(() => cond(c.pod('ready'), 'Ready')?.status === 'True', { what: 'Ready after heal', show: show('ready') });
  await c.kubelet.exec('default', 'ready', 'web', ['rm', '/www/order']);
  await until(() => cond(c.pod('ready'), 'Ready')?.status === 'False', { what: 'not Ready', show: show('ready') });
  assert.strictEqual(cond(c.pod('ready'), 'Ready').reason, 'ContainersNotReady');
  assert.ok(c.events('ready').some((e) => e.message === 'Readiness probe failed: HTTP probe failed with statuscode: 404'));
  c.store.delete(c.pods, 'default', 'ready', { gracePeriodSeconds: 1 });
});

test('deletion runs preStop, then SIGTERM, then SIGKILL after the grace period', { skip: !isRoot && 'needs root' }, async () => {
  const pod = c.store.create(c.pods, podSpec('term', [{
    name: 'main',
    command: ['bash', '-c', 'trap "echo got-TERM" TERM; echo started; while true; do sleep 0.1; done'],
    lifecycle: { preStop: { exec: { command: ['bash', '-c', 'echo pre-stop > /proc/1/fd/1'] } } },
  }], { spec: { terminationGracePeriodSeconds: 3 } }));
  await until(() => cstatus(c.pod('term'), 'main')?.state.running, { what: 'term running', show: show('term') });
  await until(async () => (await logsOf('term')).includes('started'), { what: 'started' });
  let last = null;
  const stop = c.store.watch(c.pods, 'default', { fieldSelector: 'metadata.name=term' }, ({ type, object }) => { if (type !== 'DELETED') last = object; });
  const t0 = Date.now();
  c.store.delete(c.pods, 'default', 'term');
  await until(() => !c.pod('term'), { what: 'term removed', timeoutMs: 15000 });
  stop();
  const took = Date.now() - t0;
  assert.ok(took >= 2500, `the grace period was waited for (${took} ms)`);
  const log = fs.readFileSync(path.join(c.stateDir, 'pods', pod.metadata.uid, 'logs', 'main', '0.log'), 'utf8');
  const lines = log.split('\n').map((l) => l.split(' ').slice(3).join(' '));
  assert.ok(lines.indexOf('pre-stop') > 0 && lines.indexOf('got-TERM') > lines.indexOf('pre-stop'), `preStop, then TERM: ${lines.join('|')}`);
  const term = cstatus(last, 'main').state.terminated;
  assert.strictEqual(term.exitCode, 137, 'killed by SIGKILL');
  const ev = c.events('term');
  assert.ok(ev.some((e) => e.reason === 'Killing' && e.message === 'Stopping container main'));
});

test('logs: -p shows the previous run; container selection errors', { skip: !isRoot && 'needs root' }, async () => {
  c.store.create(c.pods, podSpec('prev', [{
    name: 'main',
    command: ['bash', '-c', 'n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo run $n; [ $n -ge 2 ] && exec sleep 1000; exit 1'],
    volumeMounts: [{ name: 'data', mountPath: '/data' }],
  }, { name: 'side', command: ['sleep', '1000'] }], { spec: { volumes: [{ name: 'data', emptyDir: {} }] } }));
  await until(() => { const s = cstatus(c.pod('prev'), 'main'); return s && s.restartCount === 1 && s.state.running; }, { what: 'second run', show: show('prev') });
  await until(async () => (await logsOf('prev', { container: 'main' })) === 'run 2\n', { what: 'current log' });
  assert.strictEqual(await logsOf('prev', { container: 'main', previous: true }), 'run 1\n');
  const stamped = await logsOf('prev', { container: 'main', previous: true, timestamps: true });
  assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z run 1\n$/);
  await assert.rejects(logsOf('prev', { container: 'side', previous: true }), { code: 400, message: 'previous terminated container "side" in pod "prev" not found' });
  await assert.rejects(logsOf('prev'), { code: 400, message: 'a container name must be specified for pod prev, choose one of: [main side]' });
  await assert.rejects(logsOf('prev', { container: 'nope' }), { code: 400, message: 'container nope is not valid for pod prev' });
  c.store.delete(c.pods, 'default', 'prev', { gracePeriodSeconds: 1 });
});

test('a zoo.cfg class the local layer lacks is left out of a private copy, with a Warning', { skip: !isRoot && 'needs root' }, async () => {
  const cfg = 'dataDir=/data\nmetricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=7000\n';
  c.store.create(c.r('configmaps'), { metadata: { name: 'zk', namespace: 'default' }, data: { 'zoo.cfg': cfg } });
  c.store.create(c.pods, podSpec('zkcfg', [{ name: 'zk', command: ['sleep', '1000'], volumeMounts: [{ name: 'conf', mountPath: '/conf' }] }],
    { spec: { volumes: [{ name: 'conf', configMap: { name: 'zk' } }] } }));
  await until(() => cstatus(c.pod('zkcfg'), 'zk')?.state.running, { what: 'zkcfg running', show: show('zkcfg') });
  assert.strictEqual((await c.kubelet.exec('default', 'zkcfg', 'zk', ['cat', '/conf/zoo.cfg'])).stdout, 'dataDir=/data\n');
  const ev = c.events('zkcfg').find((e) => e.reason === 'ConfigClassAbsent');
  assert.ok(ev && ev.type === 'Warning' && ev.message.includes('PrometheusMetricsProvider'), 'Warning event');
  c.store.delete(c.pods, 'default', 'zkcfg', { gracePeriodSeconds: 1 });
});

test('logs --follow ends with the container; a finished Never pod is Succeeded', { skip: !isRoot && 'needs root' }, async () => {
  c.store.create(c.pods, podSpec('follow', [{ name: 'main', command: ['bash', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.3; done'] }],
    { spec: { restartPolicy: 'Never' } }));
  await until(() => cstatus(c.pod('follow'), 'main')?.state.running, { what: 'follow running', show: show('follow') });
  const text = await logsOf('follow', { follow: true });
  assert.strictEqual(text, 'line 1\nline 2\nline 3\n');
  await until(() => c.pod('follow').status.phase === 'Succeeded', { what: 'Succeeded', show: show('follow') });
  const pod = c.pod('follow');
  assert.strictEqual(cstatus(pod, 'main').state.terminated.reason, 'Completed');
  assert.strictEqual(cond(pod, 'Ready').reason, 'PodCompleted');
  assert.strictEqual(await logsOf('follow', { tailLines: 1 }), 'line 3\n');
  c.store.delete(c.pods, 'default', 'follow');
  await until(() => !c.pod('follow'), { what: 'follow gone' });
});

test('a pod whose claim does not exist stays Pending with an event', { skip: !isRoot && 'needs root' }, async () => {
  c.store.create(c.pods, podSpec('claim', [{ name: 'main', command: ['sleep', '1000'], volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
    { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data-claim' } }] } }));
  await until(() => c.events('claim').some((e) => e.reason === 'FailedScheduling'), { what: 'FailedScheduling', show: show('claim') });
  const pod = c.pod('claim');
  assert.strictEqual(pod.status.phase, 'Pending');
  assert.strictEqual(cond(pod, 'PodScheduled').status, 'False');
  assert.ok(!pod.spec.nodeName, 'not bound');
  c.store.delete(c.pods, 'default', 'claim');
});

test('fsGroup, secret and downwardAPI volumes, the service-account token', { skip: !isRoot && 'needs root' }, async () => {
  c.store.create(c.r('secrets'), { metadata: { name: 'pw', namespace: 'default' }, data: { password: Buffer.from('s3cret').toString('base64') } });
  c.store.create(c.pods, podSpec('vols', [{
    name: 'main', command: ['sleep', '1000'],
    volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'pw', mountPath: '/etc/pw' }, { name: 'info', mountPath: '/etc/info' }],
  }], {
    metadata: { labels: { app: 'one' } },
    spec: {
      securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000 },
      volumes: [
        { name: 'data', emptyDir: {} },
        { name: 'pw', secret: { secretName: 'pw', defaultMode: 0o440 } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      ],
    },
  }));
  await until(() => cstatus(c.pod('vols'), 'main')?.state.running, { what: 'vols running', show: show('vols') });
  const sh = async (cmd) => (await c.kubelet.exec('default', 'vols', 'main', ['bash', '-c', cmd])).stdout;
  assert.strictEqual(await sh('id -u; id -G'), '1000\n1000 2000\n');
  assert.strictEqual(await sh('cat /etc/pw/password'), 's3cret', 'group-readable through fsGroup');
  assert.strictEqual(await sh('touch /data/x && stat -c %g /data/x'), '2000\n', 'setgid directory');
  assert.strictEqual(await sh('cat /var/run/secrets/kubernetes.io/serviceaccount/namespace'), 'default');
  assert.match(await sh('cat /var/run/secrets/kubernetes.io/serviceaccount/token'), /^token-for-default-default/);
  assert.strictEqual(await sh('cat /etc/info/labels'), 'app="one"');
  const pod = c.pod('vols');
  c.store.update(c.pods, { ...pod, metadata: { ...pod.metadata, labels: { app: 'two' } } });
  await until(async () => (await sh('cat /etc/info/labels')) === 'app="two"', { what: 'labels updated' });
  c.store.delete(c.pods, 'default', 'vols', { gracePeriodSeconds: 1 });
});

test('readOnlyRootFilesystem with an emptyDir at /tmp: the root and /run refuse writes, /tmp takes them', { skip: !isRoot && 'needs root' }, async () => {
  const script = 'echo x > /tmp/ok && echo tmp-writable; '
    + '(echo x > /etc/nope) 2>/dev/null && echo root-writable || echo root-readonly; '
    + '(echo x > /run/nope) 2>/dev/null && echo run-writable || echo run-readonly';
  c.store.create(c.pods, podSpec('rofs', [{
    name: 'main', command: ['bash', '-c', script],
    securityContext: { readOnlyRootFilesystem: true },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  }], { spec: { restartPolicy: 'Never', volumes: [{ name: 'tmp', emptyDir: {} }] } }));
  await until(() => c.pod('rofs') && c.pod('rofs').status.phase === 'Succeeded', { what: 'rofs Succeeded', show: show('rofs') });
  assert.strictEqual(await logsOf('rofs'), 'tmp-writable\nroot-readonly\nrun-readonly\n');
  c.store.delete(c.pods, 'default', 'rofs');
  await until(() => !c.pod('rofs'), { what: 'rofs gone' });
});
