'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Network } = require('../lib/network');
const rt = require('../lib/runtime');
const images = require('../lib/images');
const { isRoot, scratch, until } = require('./runtime-helpers');

const PROM = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

test('image references and unknown images', () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-sim-img-'));
  try {
    assert.deepStrictEqual(images.parseImageRef('zookeeper:3.8.0'), { registry: 'docker.io', repository: 'library/zookeeper', tag: '3.8.0', digest: null });
    assert.deepStrictEqual(images.parseImageRef('docker.io/library/zookeeper:3.8.0'), images.parseImageRef('zookeeper:3.8.0'));
    assert.deepStrictEqual(images.parseImageRef('registry-1.docker.io/zookeeper:3.8.0'), images.parseImageRef('zookeeper:3.8.0'));
    const bad = images.resolveImage('quay.io/zookeeper:3.8.0', { cacheDir: cache });
    assert.strictEqual(bad.ok, false);
    assert.strictEqual(bad.reason, 'ErrImagePull');
    assert.strictEqual(images.resolveImage('zookeeper:9.9.9', { cacheDir: cache }).ok, false);
    const r = images.resolveImage('docker.io/library/zookeeper:3.8.0', { cacheDir: cache });
    assert.ok(r.ok, r.message);
    assert.strictEqual(images.defaultUid(r.image), 0);
    assert.deepStrictEqual(r.image.users.zookeeper, { uid: 1000, gid: 1000 });
    assert.match(fs.readFileSync(path.join(r.image.layerDir, 'etc', 'passwd'), 'utf8'), /^zookeeper:x:1000:1000:/m);

    const cfg = [
      `metricsProvider.className=${PROM}Factory`,
      `metricsProvider.className=${PROM}`,
      'metricsProvider.httpPort=7000',
      'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
      'authProvider.1=org.apache.zookeeper.server.auth.X509AuthenticationProvider',
      'authProvider.2=org.apache.zookeeper.server.auth.DigestAuthenticationProvider',
      'dataDir=/data',
    ].join('\n');
    const problems = images.checkConfigClasses(r.image, cfg);
    const byClass = Object.fromEntries(problems.map((p) => [p.className, p.problem]));
    assert.strictEqual(byClass[`${PROM}Factory`], 'missing');
    if (r.image.distribution.startsWith('debian')) assert.strictEqual(byClass[PROM], 'absent-locally');
    assert.strictEqual(problems.length, r.image.distribution.startsWith('debian') ? 2 : 1);
    const stripped = images.withoutAbsentClasses(cfg, problems);
    if (r.image.distribution.startsWith('debian')) assert.ok(!/metricsProvider/.test(stripped));
    assert.match(images.zookeeperFailure(problems[0]).log, /Unexpected exception, exiting abnormally/);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

async function ruok(net, host) {
  const r = await net.runIn(['bash', '-c', `exec 3<>/dev/tcp/${host}/2181 && printf ruok >&3 && timeout 2 cat <&3`], { timeoutMs: 5000 });
  return r.stdout === 'imok';
}

for (const version of ['3.8.0', '3.9.3']) {
  test(`zookeeper:${version} starts from its image layer and answers ruok`, { skip: !isRoot && 'needs root' }, async (t) => {
    const { prefix, dir } = scratch(`zk${version.replace(/\./g, '')}`);
    const img = images.resolveImage(`zookeeper:${version}`, { cacheDir: path.join(dir, 'cache') });
    if (!img.ok && version !== '3.8.0') { t.skip(img.message); fs.rmSync(dir, { recursive: true, force: true }); return; }
    assert.ok(img.ok, img.message);
    const net = new Network({ stateDir: dir, prefix });
    let handle = null;
    t.after(async () => {
      if (handle) await rt.stopContainer(handle, { gracePeriodSeconds: 0 });
      await net.down();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    await net.up();
    const pod = await net.addPod('default/zk-0', { subdomain: 'zk-hs' });
    await net.setRecords([{ name: 'zk-0.zk-hs.default.svc.cluster.local', ip: pod.ip }]);
    const vols = {};
    for (const v of ['config', 'conf', 'data']) { vols[v] = path.join(dir, 'vol', v); fs.mkdirSync(vols[v], { recursive: true }); }
    fs.writeFileSync(path.join(vols.config, 'zoo.cfg'), [
      'tickTime=2000', 'initLimit=10', 'syncLimit=5', 'dataDir=/data', '4lw.commands.whitelist=ruok,srvr',
      'admin.enableServer=false', 'standaloneEnabled=false', 'reconfigEnabled=true', 'quorumListenOnAllIPs=true',
      'server.1=zk-0.zk-hs.default.svc.cluster.local:2888:3888;2181', ''].join('\n'));
    fs.copyFileSync(path.join(img.image.layerDir, 'conf', 'logback.xml'), path.join(vols.config, 'logback.xml'));
    for (const v of ['conf', 'data']) rt.applyFsGroup(vols[v], 1000);
    const logPath = path.join(dir, 'logs', '0.log');
    handle = await rt.startContainer({
      podKey: 'default/zk-0', netns: pod.netns, root: img.image, stateDir: dir, logPath,
      hostsFile: pod.hostsFile, resolvFile: pod.resolvFile,
      podSecurityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true },
      volumes: [{ name: 'config', hostPath: vols.config, mountPath: '/config', readOnly: true },
        { name: 'conf', hostPath: vols.conf, mountPath: '/conf' }, { name: 'data', hostPath: vols.data, mountPath: '/data' }],
      env: [{ name: 'ZOO_MY_ID', value: '1' }, { name: 'ZK_DATA_DIR', value: '/data' }, { name: 'ZOOCFGDIR', value: '/conf' },
        { name: 'JVMFLAGS', value: '-Xmx256m -Xms256m' }],
      container: {
        name: 'zookeeper',
        command: ['bash', '-ec', 'mkdir -p "$ZOOCFGDIR"\ncp /config/zoo.cfg /config/logback.xml "$ZOOCFGDIR/"\necho "$ZOO_MY_ID" > "$ZK_DATA_DIR/myid"\nexec zkServer.sh start-foreground\n'],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    });
    let exited = null;
    handle.wait.then((r) => { exited = r; });
    await until(async () => {
      if (exited) throw new Error(`ZooKeeper exited ${JSON.stringify(exited)}:\n${fs.readFileSync(logPath, 'utf8')}`);
      return ruok(net, 'zk-0.zk-hs.default.svc.cluster.local');
    }, { timeoutMs: 60000, intervalMs: 500, what: `ZooKeeper ${version} ruok` });
    const log = fs.readFileSync(logPath, 'utf8');
    assert.match(log, /Using config: \/conf\/zoo\.cfg/);
    assert.match(log, /INFO/, 'logback writes the server log to the console');
    // The exec probe scripts of the package work inside (bash /dev/tcp).
    const srvr = await until(async () => {
      const r = await rt.execIn(handle, ['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/2181; printf srvr >&3; timeout 2 cat <&3'], { timeoutMs: 5000 });
      return /Mode: /.test(r.stdout) && r;
    }, { timeoutMs: 30000, intervalMs: 300, what: 'srvr with a Mode' });
    assert.match(srvr.stdout, new RegExp(`Zookeeper version: ${version.replace(/\./g, '\\.')}`));
    const res = await rt.stopContainer(handle, { gracePeriodSeconds: 10 });
    handle = null;
    assert.ok(res.exitCode === 143 || res.signal === 'SIGTERM' || res.exitCode === 0, JSON.stringify(res));
  });
}
