'use strict';
// Container images of the test cluster: image references mapped to local
// file-system layers laid out like the official images, so that commands
// rendered for the real images run unchanged. There is no registry: an image
// that is not in IMAGE_TABLE (or whose local files are missing) is an
// ErrImagePull for the kubelet.
//
// A layer is a directory built once under <cacheDir>/images/ and used as the
// top lower layer of a container's overlay root (host / below it). Large files
// (jars, the zkpilot binary) are symlinks to absolute host paths, which
// resolve inside the container because host / is the layer below.

const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { classesInJar } = require('./jar');

const FILES_DIR = path.join(__dirname, 'image-files', 'zookeeper');
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const SYSTEM_JAVA_DIR = '/usr/share/java';
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Debian's zookeeper jar leaves these out of its manifest Class-Path (see
// src/platform/local/distribution.cc): the AdminServer, the Netty connection
// factory and an SLF4J binding. The binding here is logback (Debian's
// liblogback-java), as in the Apache release, so the logback.xml a pod puts
// in $ZOOCFGDIR is honoured.
const DEBIAN_EXTRA_JARS = ['servlet-api.jar', 'netty-codec.jar', 'netty-resolver.jar',
  'netty-transport-native-unix-common.jar', 'logback-classic.jar', 'logback-core.jar'];

// Classes of the Apache binary release that no Debian package has: the
// zookeeper-prometheus-metrics jar (in lib/ of every release since 3.6).
const PROMETHEUS_PROVIDER_CLASSES = [
  'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
];

// THE table. Each entry: repository (after normalisation, see parseImageRef),
// tag ('*' = any), and how to build it.
//  - zookeeper:3.8.0  the official image (openjdk:11-jre-slim + Apache 3.8.0
//    at /apache-zookeeper-3.8.0-bin, dumb-init entrypoint) from Debian 12's
//    zookeeper package (or an apache-3.8.0 distribution when registered).
//    Runs on the host's Java 17 under the image's JAVA_HOME path.
//  - zookeeper:3.8.4  only if a local 3.8.4 distribution exists (apache-3.8.4
//    from scripts/fetch-zookeeper.sh --tarball, or debian-3.8.4).
//  - zookeeper:3.9.3  the official image (eclipse-temurin:17-jre-jammy +
//    Apache 3.9.3) from the distribution store: apache-3.9.3 if registered,
//    else debian-3.9.3 (scripts/fetch-zookeeper.sh 3.9.3).
//  - ghcr.io/zkpilot/zkpilot:<any tag>  zkpilot's build/zkpilot at
//    /usr/local/bin/zkpilot, entrypoint zkpilot, user 65532 (nonroot).
//  - prom/prometheus:<any tag>, prom/alertmanager:<any tag>  Debian's
//    prometheus (2.42) and prometheus-alertmanager (0.25) packages laid out as
//    the official images (ENTRYPOINT /bin/prometheus or /bin/alertmanager,
//    the images' default CMD, WORKDIR /prometheus or /alertmanager, USER
//    nobody 65534): the tag is not honoured, whatever version it names.
//  - kube-sim/host:<any tag>  for the test cluster's own tests only: the
//    machine's root filesystem as it is (bash, coreutils, python3), no
//    entrypoint, user root (uid 0) as most general-purpose images.
const IMAGE_TABLE = [
  { repository: 'library/zookeeper', tag: '3.8.0', kind: 'zookeeper', version: '3.8.0',
    sources: ['apache-3.8.0', 'system-debian', 'debian-3.8.0'],
    javaHome: '/usr/local/openjdk-11', dumbInit: true, myidFromHostname: true },
  { repository: 'library/zookeeper', tag: '3.8.4', kind: 'zookeeper', version: '3.8.4',
    sources: ['apache-3.8.4', 'debian-3.8.4'], javaHome: '/opt/java/openjdk' },
  { repository: 'library/zookeeper', tag: '3.9.3', kind: 'zookeeper', version: '3.9.3',
    sources: ['apache-3.9.3', 'debian-3.9.3'], javaHome: '/opt/java/openjdk' },
  { repository: 'zkpilot/zkpilot', registry: 'ghcr.io', tag: '*', kind: 'zkpilot' },
  { repository: 'kube-sim/host', tag: '*', kind: 'host' },
  { repository: 'prom/prometheus', tag: '*', kind: 'prometheus', binary: '/usr/bin/prometheus', entrypoint: '/bin/prometheus',
    cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'], workingDir: '/prometheus' },
  { repository: 'prom/alertmanager', tag: '*', kind: 'prometheus', binary: '/usr/bin/prometheus-alertmanager', entrypoint: '/bin/alertmanager',
    cmd: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'], workingDir: '/alertmanager' },
];

const ZOOKEEPER_UID = 1000;
const ZKPILOT_UID = 65532;

// "zookeeper:3.8.0", "docker.io/library/zookeeper:3.8.0",
// "registry-1.docker.io/zookeeper:3.8.0" -> {registry:'docker.io',
// repository:'library/zookeeper', tag:'3.8.0'}; digests are kept in .digest.
function parseImageRef(ref) {
  let rest = String(ref || '').trim();
  let digest = null;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  let registry = 'docker.io';
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  if (['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(registry)) registry = 'docker.io';
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  let repository = rest;
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository, tag, digest };
}

function distributionStoreDir(env = process.env) {
  if (env.ZKPILOT_DISTRIBUTIONS) return env.ZKPILOT_DISTRIBUTIONS;
  const state = env.XDG_STATE_HOME || path.join(env.HOME || os.homedir(), '.local', 'state');
  return path.join(env.ZKPILOT_HOME || path.join(state, 'zkpilot'), 'distributions');
}

function hostJavaHome() {
  const java = fs.realpathSync('/usr/bin/java');
  return path.dirname(path.dirname(java));
}

// Where the jars of a ZooKeeper version come from: {id, jute, server, jars:[],
// binDir?} or null when not present on this machine.
function findDistribution(source, version, storeDir) {
  if (source === 'system-debian') {
    const server = path.join(SYSTEM_JAVA_DIR, `zookeeper-${version}.jar`);
    if (!fs.existsSync(server)) return null;
    const jute = path.join(SYSTEM_JAVA_DIR, 'zookeeper-jute.jar');
    return { id: `debian-${version} (system)`, jute, server, jars: debianExtraJars(), binDir: null };
  }
  const dir = path.join(storeDir, source);
  const desc = path.join(dir, 'distribution.json');
  if (!fs.existsSync(desc)) return null;
  let d;
  try { d = JSON.parse(fs.readFileSync(desc, 'utf8')); } catch { return null; }
  if (!Array.isArray(d.classpath) || !d.classpath.every((j) => fs.existsSync(j))) return null;
  if (source.startsWith('apache-')) {
    const lib = path.join(dir, 'zookeeper', 'lib');
    const jars = fs.readdirSync(lib).filter((n) => n.endsWith('.jar')).map((n) => path.join(lib, n));
    // bin/ is copied into the layer: only its scripts are needed.
    return { id: source, jute: null, server: null, jars, binDir: path.join(dir, 'zookeeper', 'bin') };
  }
  const jute = d.classpath.find((j) => /zookeeper-jute-[\d.]+\.jar$/.test(j));
  const server = d.classpath.find((j) => /zookeeper-[\d.]+\.jar$/.test(path.basename(j)) && j !== jute);
  if (!jute || !server) return null;
  return { id: source, jute, server, jars: debianExtraJars(), binDir: null };
}

function debianExtraJars() {
  return DEBIAN_EXTRA_JARS.map((j) => path.join(SYSTEM_JAVA_DIR, j));
}

function missingDebianExtras() {
  return debianExtraJars().filter((j) => !fs.existsSync(j));
}

function passwdFiles(user) {
  // The host's accounts (so that host tools inside the container resolve
  // theirs) with the image's user in place of any account using its ids.
  const clash = (line) => {
    const f = line.split(':');
    return f[0] === user.name || f[2] === String(user.uid);
  };
  const clashGroup = (line) => {
    const f = line.split(':');
    return f[0] === user.name || f[2] === String(user.gid);
  };
  const read = (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')) : []);
  const passwd = read('/etc/passwd').filter((l) => !clash(l));
  passwd.push(`${user.name}:x:${user.uid}:${user.gid}::${user.home}:/bin/sh`);
  const group = read('/etc/group').filter((l) => !clashGroup(l));
  group.push(`${user.name}:x:${user.gid}:`);
  return { passwd: `${passwd.join('\n')}\n`, group: `${group.join('\n')}\n` };
}

function fingerprint(parts) {
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify(parts));
  for (const f of fs.readdirSync(FILES_DIR).sort()) h.update(fs.readFileSync(path.join(FILES_DIR, f)));
  return h.digest('hex').slice(0, 12);
}

// Builds dir with build(tmp) unless it is already complete; atomic (a
// directory is renamed into place only once complete).
function buildOnce(dir, build) {
  if (fs.existsSync(path.join(dir, '.complete'))) return;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  try {
    fs.mkdirSync(tmp);
    build(tmp);
    fs.writeFileSync(path.join(tmp, '.complete'), '');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, '.complete'))) throw e;
  }
}

// Files of the image that the runtime binds read-only into the container
// root: [{source (host path), target (path in the container)}].
function readBinds(layerDir) {
  const p = path.join(layerDir, '.binds.json');
  return fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, 'utf8')) : [];
}

function chownTree(p, uid, gid) {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

function copyFile(src, dst, mode) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.copyFileSync(src, dst);
  if (mode !== undefined) fs.chmodSync(dst, mode);
}

function zookeeperImage(entry, ref, { cacheDir, storeDir }) {
  const v = entry.version;
  let dist = null;
  const tried = [];
  for (const s of entry.sources) {
    tried.push(s === 'system-debian' ? `Debian's zookeeper package (${SYSTEM_JAVA_DIR}/zookeeper-${v}.jar)` : path.join(storeDir, s));
    dist = findDistribution(s, v, storeDir);
    if (dist) break;
  }
  if (!dist) {
    return { ok: false, reason: 'ErrImagePull', message: `image ${ref}: no local ZooKeeper ${v} (looked for ${tried.join(', ')}); fetch it with scripts/fetch-zookeeper.sh` };
  }
  if (!dist.binDir) {
    const missing = missingDebianExtras();
    if (missing.length) return { ok: false, reason: 'ErrImagePull', message: `image ${ref}: jars missing: ${missing.join(', ')} (Debian packages libservlet-api-java, libnetty-java, liblogback-java)` };
  }
  const distroName = `apache-zookeeper-${v}-bin`;
  const javaHome = entry.javaHome;
  const hostJava = hostJavaHome();
  const key = fingerprint([ref, entry, dist, hostJava]);
  const layerDir = path.join(cacheDir, 'images', `zookeeper-${v}-${key}`);
  buildOnce(layerDir, (root) => {
    const home = path.join(root, distroName);
    for (const d of ['bin', 'conf', 'lib']) fs.mkdirSync(path.join(home, d), { recursive: true });
    if (dist.binDir) {
      for (const f of fs.readdirSync(dist.binDir)) {
        if (f.endsWith('.sh')) copyFile(path.join(dist.binDir, f), path.join(home, 'bin', f), 0o755);
      }
    } else {
      for (const f of ['zkEnv.sh', 'zkServer.sh', 'zkCli.sh']) copyFile(path.join(FILES_DIR, f), path.join(home, 'bin', f), 0o755);
    }
    const jars = [...(dist.jute ? [[`zookeeper-jute-${v}.jar`, dist.jute]] : []),
      ...(dist.server ? [[`zookeeper-${v}.jar`, dist.server]] : []),
      ...dist.jars.map((j) => [path.basename(j), j])];
    // System jars are symlinked (host / is the layer below). Others (the
    // distribution store may sit in a home only root can enter) are bound
    // read-only onto a placeholder by the runtime, which needs no access to
    // the directories above them.
    const binds = [];
    for (const [name, target] of jars) {
      const real = fs.realpathSync(target);
      const inLayer = path.join(home, 'lib', name);
      if (real.startsWith(`${SYSTEM_JAVA_DIR}/`)) fs.symlinkSync(real, inLayer);
      else { fs.writeFileSync(inLayer, ''); binds.push({ source: real, target: `/${distroName}/lib/${name}` }); }
    }
    fs.writeFileSync(path.join(root, '.binds.json'), JSON.stringify(binds));
    // The official Dockerfile moves the release's conf/ to /conf.
    fs.mkdirSync(path.join(root, 'conf'));
    copyFile(path.join(FILES_DIR, 'logback.xml'), path.join(root, 'conf', 'logback.xml'), 0o644);
    copyFile(path.join(FILES_DIR, 'zoo_sample.cfg'), path.join(root, 'conf', 'zoo_sample.cfg'), 0o644);
    for (const d of ['data', 'datalog', 'logs']) fs.mkdirSync(path.join(root, d));
    const ep = fs.readFileSync(path.join(FILES_DIR, 'docker-entrypoint.sh'), 'utf8')
      .replace('"${KUBESIM_ZOO_MYID_FROM_HOSTNAME:-}"', entry.myidFromHostname ? '1' : '0');
    fs.writeFileSync(path.join(root, 'docker-entrypoint.sh'), ep, { mode: 0o755 });
    copyFile(path.join(FILES_DIR, 'gosu'), path.join(root, 'usr', 'sbin', 'gosu'), 0o755);
    if (entry.dumbInit) copyFile(path.join(FILES_DIR, 'dumb-init'), path.join(root, 'usr', 'bin', 'dumb-init'), 0o755);
    fs.mkdirSync(path.dirname(path.join(root, javaHome)), { recursive: true });
    fs.symlinkSync(hostJava, path.join(root, javaHome));
    const files = passwdFiles({ name: 'zookeeper', uid: ZOOKEEPER_UID, gid: ZOOKEEPER_UID, home: '/home/zookeeper' });
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), files.passwd, { mode: 0o644 });
    fs.writeFileSync(path.join(root, 'etc', 'group'), files.group, { mode: 0o644 });
    for (const d of [distroName, 'conf', 'data', 'datalog', 'logs']) chownTree(path.join(root, d), ZOOKEEPER_UID, ZOOKEEPER_UID);
  });
  const libDir = path.join(layerDir, distroName, 'lib');
  return {
    ok: true,
    image: {
      ref,
      kind: 'zookeeper',
      binds: readBinds(layerDir),
      version: v,
      distribution: dist.id,
      layerDir,
      env: [
        ['PATH', `${javaHome}/bin:${BASE_PATH}:/${distroName}/bin`],
        ['JAVA_HOME', javaHome],
        ['LANG', 'C.UTF-8'],
        ['ZOO_CONF_DIR', '/conf'],
        ['ZOO_DATA_DIR', '/data'],
        ['ZOO_DATA_LOG_DIR', '/datalog'],
        ['ZOO_LOG_DIR', '/logs'],
        ['ZOO_TICK_TIME', '2000'],
        ['ZOO_INIT_LIMIT', '5'],
        ['ZOO_SYNC_LIMIT', '2'],
        ['ZOO_AUTOPURGE_PURGEINTERVAL', '0'],
        ['ZOO_AUTOPURGE_SNAPRETAINCOUNT', '3'],
        ['ZOO_MAX_CLIENT_CNXNS', '60'],
        ['ZOO_STANDALONE_ENABLED', 'true'],
        ['ZOO_ADMINSERVER_ENABLED', 'true'],
        ['ZOOCFGDIR', '/conf'],
      ],
      workingDir: `/${distroName}`,
      entrypoint: entry.dumbInit ? ['/usr/bin/dumb-init', '--', '/docker-entrypoint.sh'] : ['/docker-entrypoint.sh'],
      cmd: ['zkServer.sh', 'start-foreground'],
      // No USER in the official Dockerfile: the entrypoint starts as root and
      // switches to zookeeper (1000:1000) with gosu.
      user: { uid: 0, gid: 0 },
      users: { zookeeper: { uid: ZOOKEEPER_UID, gid: ZOOKEEPER_UID } },
      exposedPorts: [2181, 2888, 3888, 8080],
      // Which pluggable classes the real image and this layer have.
      classes: {
        real: (cls) => PROMETHEUS_PROVIDER_CLASSES.some((p) => cls === p || cls.startsWith(`${p}$`)) || serverJarClasses(dist, libDir).has(cls),
        local: (cls) => layerClasses(libDir).has(cls),
      },
    },
  };
}

const classCache = new Map();
function cachedClasses(key, fn) {
  if (!classCache.has(key)) classCache.set(key, fn());
  return classCache.get(key);
}
function layerClasses(libDir) {
  return cachedClasses(`layer:${libDir}`, () => {
    const all = new Set();
    const bound = new Map(readBinds(path.dirname(path.dirname(libDir))).map((b) => [path.basename(b.target), b.source]));
    for (const n of fs.readdirSync(libDir)) {
      if (n.endsWith('.jar')) for (const c of classesInJar(bound.get(n) || path.join(libDir, n))) all.add(c);
    }
    return all;
  });
}
// The real release's zookeeper-<v>.jar has the same classes as Debian's
// (same source): read them from the local one.
function serverJarClasses(dist, libDir) {
  const jar = dist.server || path.join(libDir, fs.readdirSync(libDir).find((n) => /^zookeeper-\d+\.\d+\.\d+\.jar$/.test(n)) || '');
  return cachedClasses(`server:${jar}`, () => new Set(fs.existsSync(jar) ? classesInJar(jar) : []));
}

function zkpilotImage(ref, { cacheDir, zkpilotBinary }) {
  const bin = zkpilotBinary || process.env.ZKPILOT_BINARY || path.join(REPO_ROOT, 'build', 'zkpilot');
  if (!fs.existsSync(bin)) {
    return { ok: false, reason: 'ErrImagePull', message: `image ${ref}: ${bin} does not exist (build zkpilot first)` };
  }
  const st = fs.statSync(bin);
  const key = fingerprint([ref, bin, st.size, st.mtimeMs]);
  const layerDir = path.join(cacheDir, 'images', `zkpilot-${key}`);
  buildOnce(layerDir, (root) => {
    // A private copy, so that a rebuild does not change a running container.
    // Bound onto a placeholder by the runtime (see .binds.json).
    const store = path.join(root, '.blobs');
    copyFile(bin, path.join(store, 'zkpilot'), 0o755);
    fs.mkdirSync(path.join(root, 'usr', 'local', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr', 'local', 'bin', 'zkpilot'), '', { mode: 0o755 });
    fs.writeFileSync(path.join(root, '.binds.json'), JSON.stringify([{ source: path.join(layerDir, '.blobs', 'zkpilot'), target: '/usr/local/bin/zkpilot' }]));
    const files = passwdFiles({ name: 'nonroot', uid: ZKPILOT_UID, gid: ZKPILOT_UID, home: '/home/nonroot' });
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), files.passwd, { mode: 0o644 });
    fs.writeFileSync(path.join(root, 'etc', 'group'), files.group, { mode: 0o644 });
  });
  return {
    ok: true,
    image: {
      ref, kind: 'zkpilot', layerDir, binds: readBinds(layerDir),
      env: [['PATH', BASE_PATH]],
      workingDir: '/',
      entrypoint: ['/usr/local/bin/zkpilot'],
      cmd: [],
      user: { uid: ZKPILOT_UID, gid: ZKPILOT_UID },
      users: { nonroot: { uid: ZKPILOT_UID, gid: ZKPILOT_UID } },
      exposedPorts: [],
      classes: null,
    },
  };
}

// The official Prometheus and Alertmanager images from Debian's binaries:
// /bin is /usr/bin on Debian, so the entrypoint is a link in usr/bin.
const NOBODY = 65534;
function prometheusImage(entry, ref, { cacheDir }) {
  if (!fs.existsSync(entry.binary)) {
    return { ok: false, reason: 'ErrImagePull', message: `image ${ref}: ${entry.binary} is not installed (Debian package ${path.basename(entry.binary)})` };
  }
  const name = path.basename(entry.entrypoint);
  const layerDir = path.join(cacheDir, 'images', `prom-${name}`);
  buildOnce(layerDir, (root) => {
    fs.mkdirSync(path.join(root, 'usr', 'bin'), { recursive: true });
    if (entry.binary !== path.join('/usr/bin', name)) fs.symlinkSync(entry.binary, path.join(root, 'usr', 'bin', name));
    fs.mkdirSync(path.join(root, entry.workingDir.slice(1)), { recursive: true, mode: 0o777 });
    fs.chownSync(path.join(root, entry.workingDir.slice(1)), NOBODY, NOBODY);
  });
  return {
    ok: true,
    image: {
      ref, kind: 'prometheus', layerDir, binds: [],
      env: [['PATH', BASE_PATH]],
      workingDir: entry.workingDir,
      entrypoint: [entry.entrypoint],
      cmd: entry.cmd,
      user: { uid: NOBODY, gid: NOBODY },
      users: { nobody: { uid: NOBODY, gid: NOBODY } },
      exposedPorts: [],
      classes: null,
    },
  };
}

function hostImage(ref, { cacheDir }) {
  const layerDir = path.join(cacheDir, 'images', 'host');
  buildOnce(layerDir, () => {});
  return {
    ok: true,
    image: {
      ref, kind: 'host', layerDir, binds: [],
      env: [['PATH', BASE_PATH]],
      workingDir: '/',
      entrypoint: [],
      cmd: ['/bin/sh'],
      user: { uid: 0, gid: 0 },
      users: { root: { uid: 0, gid: 0 } },
      exposedPorts: [],
      classes: null,
    },
  };
}

// Resolves an image reference. opts: {cacheDir (required), storeDir
// (distribution store, default as zkpilot's), zkpilotBinary}. Returns
// {ok:true, image} or {ok:false, reason:'ErrImagePull', message}.
// image: {ref, kind, version?, layerDir, binds:[{source, target}], env:[[name, value]...], workingDir,
//   entrypoint:[...], cmd:[...], user:{uid, gid}, users:{name:{uid,gid}},
//   exposedPorts, classes}
function resolveImage(ref, { cacheDir, storeDir = distributionStoreDir(), zkpilotBinary } = {}) {
  if (!cacheDir) throw new Error('resolveImage needs {cacheDir}');
  const p = parseImageRef(ref);
  const entry = IMAGE_TABLE.find((e) => e.repository === p.repository
    && (e.registry || 'docker.io') === p.registry && (e.tag === '*' || e.tag === p.tag));
  if (!entry || p.digest) {
    return { ok: false, reason: 'ErrImagePull', message: `Failed to pull image "${ref}": image not known to this test cluster (${knownImages().join(', ')})` };
  }
  try {
    if (entry.kind === 'zkpilot') return zkpilotImage(ref, { cacheDir, zkpilotBinary });
    if (entry.kind === 'host') return hostImage(ref, { cacheDir });
    if (entry.kind === 'prometheus') return prometheusImage(entry, ref, { cacheDir });
    return zookeeperImage(entry, ref, { cacheDir, storeDir });
  } catch (e) {
    return { ok: false, reason: 'ErrImagePull', message: `image ${ref}: cannot build its layer: ${e.message}` };
  }
}

function knownImages() {
  return IMAGE_TABLE.map((e) => `${e.registry ? `${e.registry}/` : ''}${e.repository.replace(/^library\//, '')}:${e.tag === '*' ? '<tag>' : e.tag}`);
}

// The image's default uid (what the container runs as without runAsUser), for
// the kubelet's runAsNonRoot check.
function defaultUid(image) {
  return image.user.uid;
}

// zoo.cfg values that name a Java class (metricsProvider.className,
// serverCnxnFactory, authProvider.N, ssl.context.supplier.class, ...): every
// value that looks like a fully qualified class name.
const CLASS_NAME = /^(?:[a-z_][A-Za-z0-9_]*\.)+[A-Z][A-Za-z0-9_$]*$/;

// -> [{key, className, problem}] with problem
//  'missing'         the real image does not have the class: ZooKeeper fails
//                    to start. The local layer never has a pluggable class
//                    the real image lacks, so running it fails the same way
//                    for real (zookeeperFailure() gives the log line when a
//                    caller wants it without starting a JVM).
//  'absent-locally'  the real image has it but this layer does not (the
//                    Prometheus provider on Debian-based layers). The
//                    kubelet's choice: run the pod with the metricsProvider.*
//                    lines removed from a private copy of zoo.cfg
//                    (withoutAbsentClasses) and record a Warning event —
//                    never silently.
function checkConfigClasses(image, zooCfgText) {
  if (!image || !image.classes) return [];
  const out = [];
  for (const raw of String(zooCfgText).split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!CLASS_NAME.test(value)) continue;
    if (!image.classes.real(value)) out.push({ key, className: value, problem: 'missing' });
    else if (!image.classes.local(value)) out.push({ key, className: value, problem: 'absent-locally' });
  }
  return out;
}

// zoo.cfg text without the settings of the 'absent-locally' problems (for a
// metrics provider: every metricsProvider.* line).
function withoutAbsentClasses(zooCfgText, problems) {
  const absent = problems.filter((p) => p.problem === 'absent-locally');
  const prefixes = absent.map((p) => (p.key.startsWith('metricsProvider.') ? 'metricsProvider.' : p.key));
  return String(zooCfgText).split('\n').filter((l) => {
    const k = l.trim().split('=')[0].trim();
    return !prefixes.some((p) => (p.endsWith('.') ? k.startsWith(p) : k === p));
  }).join('\n');
}

// How ZooKeeper reports a missing class at start (QuorumPeerMain exits with
// ExitCode.UNEXPECTED_ERROR = 1): {exitCode, log}.
function zookeeperFailure({ key, className }) {
  const ts = new Date().toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
  const cause = key.startsWith('metricsProvider.')
    ? `java.io.IOException: Cannot boot MetricsProvider ${className}\n` +
      `Caused by: org.apache.zookeeper.metrics.MetricsProviderLifeCycleException: java.lang.ClassNotFoundException: ${className}\n` +
      `Caused by: java.lang.ClassNotFoundException: ${className}`
    : `java.lang.ClassNotFoundException: ${className}`;
  return {
    exitCode: 1,
    log: `${ts} [myid:] - ERROR [main:o.a.z.s.q.QuorumPeerMain@114] - Unexpected exception, exiting abnormally\n${cause}\n` +
      `${ts} [myid:] - INFO  [main:o.a.z.a.ZKAuditProvider@42] - ZooKeeper audit is disabled.\n` +
      `${ts} [myid:] - ERROR [main:o.a.z.u.ServiceUtils@48] - Exiting JVM with code 1\n`,
  };
}

module.exports = {
  IMAGE_TABLE,
  resolveImage,
  parseImageRef,
  defaultUid,
  checkConfigClasses,
  withoutAbsentClasses,
  zookeeperFailure,
  distributionStoreDir,
  knownImages,
  PROMETHEUS_PROVIDER_CLASSES,
};
