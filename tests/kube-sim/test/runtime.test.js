'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { Network } = require('../lib/network');
const rt = require('../lib/runtime');
const images = require('../lib/images');
const { isRoot, scratch, until, netnsList } = require('./runtime-helpers');

test('expandVars and command resolution follow Kubernetes', () => {
  assert.strictEqual(rt.expandVars('a $(X) $$(X) $(Y)', { X: '1' }), 'a 1 $(X) $(Y)');
  const image = { entrypoint: ['/ep'], cmd: ['c1'] };
  const env = [{ name: 'N', value: 'v' }];
  assert.deepStrictEqual(rt.resolveArgv(image, {}, env), ['/ep', 'c1']);
  assert.deepStrictEqual(rt.resolveArgv(image, { args: ['$(N)'] }, env), ['/ep', 'v']);
  assert.deepStrictEqual(rt.resolveArgv(image, { command: ['sh'] }, env), ['sh']);
  assert.deepStrictEqual(rt.resolveArgv(image, { command: ['sh'], args: ['-c', 'x$(N)'] }, env), ['sh', '-c', 'xv']);
});

test('containers: user, read-only root, volumes, exec, stop', { skip: !isRoot && 'needs root' }, async (t) => {
  const { prefix, dir } = scratch('rt');
  const net = new Network({ stateDir: dir, prefix });
  const handles = [];
  t.after(async () => {
    for (const h of handles) await rt.stopContainer(h, { gracePeriodSeconds: 0 });
    await net.down();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await net.up();
  const pod = await net.addPod('default/p');
  const r = images.resolveImage('zookeeper:3.8.0', { cacheDir: path.join(dir, 'cache') });
  assert.ok(r.ok, r.message);
  const vol = path.join(dir, 'vol');
  fs.mkdirSync(vol);
  rt.applyFsGroup(vol, 1000);
  const ro = path.join(dir, 'ro');
  fs.mkdirSync(ro);
  fs.writeFileSync(path.join(ro, 'f'), 'config');
  const base = {
    podKey: 'default/p', netns: pod.netns, root: r.image, hostsFile: pod.hostsFile, resolvFile: pod.resolvFile,
    stateDir: dir, podSecurityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
    volumes: [{ name: 'data', hostPath: vol, mountPath: '/data' }, { name: 'cfg', hostPath: ro, mountPath: '/config', readOnly: true }],
  };

  const log1 = path.join(dir, 'logs', '0.log');
  const script = [
    'id -u; id -g; pwd; echo "$ZOO_DATA_DIR $MY_POD"',
    'touch /rootfile 2>&1 | grep -o "Read-only file system" || echo writable-root',
    'touch /tmp/x 2>&1 | grep -o "Read-only file system" || echo writable-tmp',
    'echo data > /data/file && echo volume-ok',
    'touch /config/g 2>&1 | grep -o "Read-only file system"',
    'cat /config/f; echo',
    'exec sleep 1000',
  ].join('; ');
  const h = await rt.startContainer({
    ...base, logPath: log1, env: [{ name: 'MY_POD', value: 'p' }],
    container: { name: 'c', command: ['bash', '-c', script], securityContext: { readOnlyRootFilesystem: true } },
  });
  handles.push(h);
  assert.ok(h.pid > 0);
  const out = await until(() => { const s = fs.readFileSync(log1, 'utf8'); return s.includes('config') && s; }, { what: 'container output' });
  assert.deepStrictEqual(out.trim().split('\n'), ['1000', '1000', '/apache-zookeeper-3.8.0-bin', '/data p',
    'Read-only file system', 'Read-only file system', 'volume-ok', 'Read-only file system', 'config']);
  assert.strictEqual(fs.readFileSync(path.join(vol, 'file'), 'utf8'), 'data\n');
  // Nothing of the container is visible in the host's mount table.
  assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(dir));

  // exec runs in the container: its user, root, hostname and network.
  const e = await rt.execIn(h, ['sh', '-c', 'id -u; cat /etc/hostname; ls /data; cat /proc/net/fib_trie | grep -c 10.244.0.2']);
  assert.strictEqual(e.exitCode, 0, e.stderr);
  assert.deepStrictEqual(e.stdout.trim().split('\n').slice(0, 3), ['1000', 'p', 'file']);
  assert.ok(Number(e.stdout.trim().split('\n')[3]) >= 1);
  const slow = await rt.execIn(h, ['sleep', '10'], { timeoutMs: 300 });
  assert.strictEqual(slow.timedOut, true);

  // `sleep` as PID 1 ignores SIGTERM: killed after the grace period.
  const t0 = Date.now();
  const res = await rt.stopContainer(h, { gracePeriodSeconds: 1 });
  assert.ok(Date.now() - t0 >= 900, 'waited for the grace period');
  assert.strictEqual(res.signal, 'SIGKILL');
  assert.strictEqual(res.exitCode, 137);

  // A process handling SIGTERM ends within the grace period, with its code.
  const log2 = path.join(dir, 'logs', '1.log');
  const h2 = await rt.startContainer({ ...base, logPath: log2,
    container: { name: 'c', command: ['bash', '-c', 'trap "echo bye; exit 3" TERM; echo ready; while true; do sleep 0.1; done'] } });
  handles.push(h2);
  await until(() => fs.readFileSync(log2, 'utf8').includes('ready'), { what: 'ready' });
  const t1 = Date.now();
  const res2 = await rt.stopContainer(h2, { gracePeriodSeconds: 20 });
  assert.ok(Date.now() - t1 < 5000);
  assert.strictEqual(res2.exitCode, 3);
  assert.match(fs.readFileSync(log2, 'utf8'), /bye/);
  assert.ok(!fs.readFileSync(log1, 'utf8').includes('bye'), 'one log file per run');

  // A missing executable is a start error, as a runtime reports it.
  const h3 = await rt.startContainer({ ...base, logPath: path.join(dir, 'logs', '2.log'), container: { name: 'c', command: ['no-such-cmd'] } });
  const res3 = await h3.wait;
  assert.strictEqual(res3.exitCode, 128);
  assert.match(res3.startError, /executable file not found/);

  await net.down();
  assert.ok(!netnsList().includes(prefix));
  assert.ok(!execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(dir));
  assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(dir));
});

test('startContainer resolves once the process is in its namespaces and root: exec sees the container\'s PID 1', { skip: !isRoot && 'needs root' }, async (t) => {
  const { prefix, dir } = scratch('rtp');
  const net = new Network({ stateDir: dir, prefix });
  const handles = [];
  t.after(async () => {
    for (const h of handles) await rt.stopContainer(h, { gracePeriodSeconds: 0 });
    await net.down();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await net.up();
  const pod = await net.addPod('default/p');
  const r = images.resolveImage('zookeeper:3.8.0', { cacheDir: path.join(dir, 'cache') });
  assert.ok(r.ok, r.message);
  // This test runs in the host's namespaces, as does the host's init.
  const hostMnt = fs.readlinkSync('/proc/self/ns/mnt');
  const hostPidNs = fs.readlinkSync('/proc/self/ns/pid');
  const hostInit = fs.readFileSync('/proc/1/comm', 'utf8').trim();
  for (let i = 0; i < 3; i += 1) {
    const h = await rt.startContainer({
      podKey: 'default/p', netns: pod.netns, root: r.image, hostsFile: pod.hostsFile, resolvFile: pod.resolvFile,
      stateDir: dir, logPath: path.join(dir, 'logs', `${i}.log`),
      podSecurityContext: { runAsUser: 1000, runAsGroup: 1000 },
      container: { name: 'c', command: ['sleep', '1000'] },
    });
    handles.push(h);
    // At once: no waiting between the start and the exec.
    const root = fs.readlinkSync(`/proc/${h.pid}/root`);
    const e = await rt.execIn(h, ['sh', '-c', 'cat /proc/1/comm; readlink /proc/1/ns/mnt; readlink /proc/1/ns/pid; readlink /proc/self/ns/pid; pwd; id -u'],
      { user: { uid: 0, gid: 0, groups: [] } });
    assert.notStrictEqual(root, '/', 'the container process is in its root');
    assert.strictEqual(e.exitCode, 0, e.stderr);
    const [comm1, mnt1, pid1, pidSelf, cwd, uid] = e.stdout.trim().split('\n');
    assert.notStrictEqual(comm1, hostInit, 'PID 1 seen by exec is not the host\'s init');
    assert.notStrictEqual(mnt1, hostMnt);
    assert.strictEqual(mnt1, fs.readlinkSync(`/proc/${h.pid}/ns/mnt`), 'PID 1 seen by exec is the container\'s process');
    assert.strictEqual(pid1, fs.readlinkSync(`/proc/${h.pid}/ns/pid`));
    assert.strictEqual(pidSelf, pid1, 'exec runs in the container\'s PID namespace');
    assert.notStrictEqual(pid1, hostPidNs);
    assert.strictEqual(cwd, '/apache-zookeeper-3.8.0-bin', 'in the working directory');
    assert.strictEqual(uid, '0');
  }
  // A process that ends at once: start resolves, wait reports its end.
  const quick = await rt.startContainer({
    podKey: 'default/p', netns: pod.netns, root: r.image, stateDir: dir, logPath: path.join(dir, 'logs', 'quick.log'),
    container: { name: 'q', command: ['true'] },
  });
  assert.deepStrictEqual(await quick.wait, { exitCode: 0, signal: null });
});

test('mount targets resolve inside the container root: symlinks of the image never reach the host', { skip: !isRoot && 'needs root' }, async (t) => {
  const { prefix, dir } = scratch('rtm');
  const net = new Network({ stateDir: dir, prefix });
  const tag = path.basename(dir);
  const handles = [];
  t.after(async () => {
    for (const h of handles) await rt.stopContainer(h, { gracePeriodSeconds: 0 });
    await net.down();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(path.join('/run', tag), { recursive: true, force: true });
  });
  await net.up();
  const pod = await net.addPod('default/p');
  const host = images.resolveImage('kube-sim/host:latest', { cacheDir: path.join(dir, 'cache') });
  assert.ok(host.ok, host.message);
  // An image layer with the links of a real one (/var/run -> /run), an
  // absolute and a relative link, and one climbing far above the root
  // towards a directory of the host.
  const layer = path.join(dir, 'layer');
  const hostSide = path.join(dir, 'host-side');
  fs.mkdirSync(hostSide);
  fs.mkdirSync(path.join(layer, 'var'), { recursive: true });
  fs.mkdirSync(path.join(layer, 'opt'));
  fs.symlinkSync('/run', path.join(layer, 'var', 'run'));
  fs.symlinkSync('/opt/real', path.join(layer, 'conf'));
  fs.symlinkSync('../opt', path.join(layer, 'rel'));
  fs.symlinkSync(`${'../'.repeat(40)}${hostSide.slice(1)}`, path.join(layer, 'esc'));
  const bound = path.join(dir, 'bound');
  fs.writeFileSync(bound, 'bound-file');
  const image = { ...host.image, layerDir: layer, binds: [{ source: bound, target: `/var/run/${tag}/bin/tool` }] };
  const vol = path.join(dir, 'vol');
  fs.mkdirSync(vol);
  fs.writeFileSync(path.join(vol, 'token'), 'secret-token');
  const cfg = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(cfg, 'tickTime=2000');
  const log = path.join(dir, 'logs', '0.log');
  const h = await rt.startContainer({
    podKey: 'default/p', netns: pod.netns, root: image, hostsFile: pod.hostsFile, resolvFile: pod.resolvFile,
    stateDir: dir, logPath: log,
    volumes: [
      { name: 'sa', hostPath: vol, mountPath: `/var/run/${tag}/secrets/sa`, readOnly: true },
      { name: 'cfg', hostPath: cfg, mountPath: '/conf/zoo.cfg' },
      { name: 'rel', hostPath: vol, mountPath: '/rel/x' },
      { name: 'esc', hostPath: vol, mountPath: '/esc/y' },
    ],
    container: {
      name: 'c', workingDir: `/var/run/${tag}/wd`,
      command: ['sh', '-c', [
        `cat /var/run/${tag}/secrets/sa/token; echo`, `cat /run/${tag}/secrets/sa/token; echo`,
        'cat /opt/real/zoo.cfg; echo', 'cat /opt/x/token; echo', `cat ${hostSide}/y/token; echo`,
        `cat /run/${tag}/bin/tool; echo`, 'pwd', 'echo done', 'exec sleep 1000'].join('; ')],
    },
  });
  handles.push(h);
  const out = await until(() => { const s = fs.readFileSync(log, 'utf8'); return s.includes('done') && s; }, { what: 'container output' });
  assert.deepStrictEqual(out.trim().split('\n'), ['secret-token', 'secret-token', 'tickTime=2000', 'secret-token', 'secret-token',
    'bound-file', `/run/${tag}/wd`, 'done']);
  // Nothing of it on the host: not on its /run, not beside the root.
  assert.ok(!fs.existsSync(path.join('/run', tag)), `/run/${tag} was created on the host`);
  assert.deepStrictEqual(fs.readdirSync(hostSide), []);
  assert.ok(!fs.existsSync('/opt/real') && !fs.existsSync('/opt/x'));
  // exec sees the same file system.
  const e = await rt.execIn(h, ['sh', '-c', `ls /var/run/${tag}/secrets/sa; readlink /var/run`]);
  assert.strictEqual(e.exitCode, 0, e.stderr);
  assert.deepStrictEqual(e.stdout.trim().split('\n'), ['token', '/run']);
  const res = await rt.stopContainer(h, { gracePeriodSeconds: 0 });
  assert.strictEqual(res.signal, 'SIGKILL');
  assert.ok(!fs.existsSync(path.join('/run', tag)));
  assert.deepStrictEqual(fs.readdirSync(hostSide), []);
});
