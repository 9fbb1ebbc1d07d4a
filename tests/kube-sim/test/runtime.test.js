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
