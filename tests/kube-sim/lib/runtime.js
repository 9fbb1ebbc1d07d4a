'use strict';
// The container runtime of the test cluster: one container = real processes
// in the pod's network namespace plus their own mount, UTS, IPC and PID
// namespaces, on an overlay root (image layer over host /), run as the pod's
// user with util-linux tools (nsenter, unshare, setpriv, chroot).
//
// Overlayfs refuses layers that share a file system with another layer
// ("overlapping lowerdir path"), and host / is one: so each container gets a
// tmpfs (its writable layer, lost on restart as in a real runtime) holding a
// copy of the image layer — small, its big files are symlinks into host /.

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { safeName } = require('./network');

const NSENTER = '/usr/bin/nsenter';
const UNSHARE = '/usr/bin/unshare';
const ROOTFS_SIZE = '1g';

function shq(s) {
  return `'${String(s).replace(/'/g, "'\\''")}'`;
}

// Kubernetes $(VAR) expansion: defined names are replaced, $$ escapes, an
// undefined reference stays as written.
function expandVars(str, vars) {
  return String(str).replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => {
    if (m === '$$') return '$';
    return Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : m;
  });
}

// command replaces the image's ENTRYPOINT, args its CMD (command alone drops
// CMD); both expanded from the container's env.
function resolveArgv(image, container, envList) {
  const vars = {};
  for (const { name, value } of envList) vars[name] = value ?? '';
  const expand = (a) => (a || []).map((s) => expandVars(s, vars));
  let argv;
  if (container.command && container.command.length) argv = [...expand(container.command), ...expand(container.args)];
  else if (container.args && container.args.length) argv = [...image.entrypoint, ...expand(container.args)];
  else argv = [...image.entrypoint, ...image.cmd];
  return argv;
}

// Image env first, then the container's (already resolved by the kubelet:
// [{name, value}]), later names overriding earlier ones in place.
function mergeEnv(image, env, hostname) {
  const out = new Map();
  out.set('HOSTNAME', hostname);
  for (const [k, v] of image.env) out.set(k, v);
  for (const { name, value } of env || []) out.set(name, value ?? '');
  return [...out].map(([name, value]) => ({ name, value }));
}

function lookupUser(layerDir, uid) {
  try {
    for (const l of fs.readFileSync(path.join(layerDir, 'etc', 'passwd'), 'utf8').split('\n')) {
      const f = l.split(':');
      if (f.length > 3 && f[2] === String(uid)) return { name: f[0], gid: Number(f[3]), home: f[5] };
    }
  } catch { /* no passwd in layer */ }
  return null;
}

// -> {uid, gid, groups:[...], noNewPrivs, dropAll, addCaps}
function resolveIdentity(image, podSC = {}, containerSC = {}) {
  const sc = { ...podSC, ...containerSC };
  const uid = sc.runAsUser ?? image.user.uid;
  const known = lookupUser(image.layerDir, uid);
  const gid = sc.runAsGroup ?? (sc.runAsUser === undefined ? image.user.gid : (known ? known.gid : 0));
  const groups = [];
  if (podSC.fsGroup !== undefined && podSC.fsGroup !== null) groups.push(podSC.fsGroup);
  for (const g of podSC.supplementalGroups || []) groups.push(g);
  const caps = containerSC.capabilities || {};
  return {
    uid: Number(uid), gid: Number(gid), groups: [...new Set(groups.map(Number))],
    home: known ? known.home : '/',
    noNewPrivs: containerSC.allowPrivilegeEscalation === false,
    dropAll: (caps.drop || []).some((c) => String(c).toUpperCase() === 'ALL'),
    addCaps: (caps.add || []).map((c) => String(c).toLowerCase().replace(/^cap_/, '')),
  };
}

function setprivArgs(id) {
  const a = ['/usr/bin/setpriv', `--reuid=${id.uid}`, `--regid=${id.gid}`];
  a.push(id.groups.length ? `--groups=${id.groups.join(',')}` : '--clear-groups');
  if (id.noNewPrivs) a.push('--no-new-privs');
  if (id.dropAll && id.uid === 0) {
    const add = id.addCaps.map((c) => `,+${c}`).join('');
    a.push(`--inh-caps=-all${add}`, `--bounding-set=-all${add}`);
    if (id.addCaps.length) a.push(`--ambient-caps=-all${add}`);
  }
  a.push('--');
  return a;
}

function envArgs(env, workingDir) {
  return ['/usr/bin/env', '-i', ...(workingDir ? ['-C', workingDir] : []), '--', ...env.map((e) => `${e.name}=${e.value}`)];
}

function findChild(pid) {
  try {
    const c = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return c.length ? Number(c[0]) : null;
  } catch { return null; }
}

// Shell functions of the setup: `inroot PATH` sets IN_ROOT to PATH as the
// container sees it, every symlink followed relative to the container root $R
// ('..' stops at it), so that no mount or directory of the container lands on
// the host through a link of the image such as /var/run -> /run; `at PATH`
// sets T to that path on the setup's side ($R/...), `dir_at` and `file_at`
// also create what is missing there.
const SETUP_FUNCTIONS = `
inroot() {
  local rest="$1" out="" name link hops=0
  while [ -n "$rest" ]; do
    name="\${rest%%/*}"
    if [ "$name" = "$rest" ]; then rest=""; else rest="\${rest#*/}"; fi
    case "$name" in
      ''|.) ;;
      ..) out="\${out%/*}" ;;
      *)
        if [ -L "$R$out/$name" ]; then
          hops=$((hops + 1))
          [ "$hops" -le 40 ] || return 1
          link="$(readlink -- "$R$out/$name"; echo .)"
          link="\${link%?.}"
          case "$link" in /*) out="" ;; esac
          rest="$link/$rest"
        else
          out="$out/$name"
        fi ;;
    esac
  done
  IN_ROOT="\${out:-/}"
}
at() { inroot "$1" || fail "$1: too many levels of symbolic links"; T="$R$IN_ROOT"; }
dir_at() { at "$1"; mkdir -p -- "$T"; }
file_at() { at "$1"; mkdir -p -- "$(dirname -- "$T")"; [ -e "$T" ] || touch -- "$T"; }
`;

// The descriptor on which the container's first process reports, from
// inside its root, that its setup is done (see startContainer).
const READY_FD = 4;

// The setup that runs as PID 1 of the container's namespaces and ends by
// exec'ing the container's process in its root. Every path inside the root
// goes through `at` (see SETUP_FUNCTIONS).
function setupScript(o) {
  const R = o.rootDir;
  const L = [];
  const q = shq;
  L.push('set -eu');
  L.push(`R=${q(R)}`);
  L.push(`fail() { printf '%s\\n' "$*" > ${q(o.startErrorFile)}; exit 128; }`);
  L.push(SETUP_FUNCTIONS.trim());
  L.push(`exec 3>&2 2>${q(o.setupLogFile)}`);
  L.push(`mount -t tmpfs -o size=${ROOTFS_SIZE},mode=755 kubesim-rootfs ${q(o.runDir)}`);
  L.push(`mkdir -p ${q(`${o.runDir}/layer`)} ${q(`${o.runDir}/upper`)} ${q(`${o.runDir}/work`)} "$R"`);
  L.push(`(cd ${q(o.layerDir)} && find . -mindepth 1 -maxdepth 1 ! -name .blobs ! -name .complete -exec cp -a {} ${q(`${o.runDir}/layer/`)} \\;)`);
  L.push(`mount -t overlay overlay -o ${q(`lowerdir=${o.runDir}/layer:/,upperdir=${o.runDir}/upper,workdir=${o.runDir}/work`)} "$R" || fail "cannot mount the container root"`);
  L.push('dir_at /proc; mount -t proc -o nosuid,nodev,noexec proc "$T"');
  L.push('dir_at /sys; mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$T" 2>/dev/null || mount --rbind -o ro /sys "$T" || true');
  L.push('dir_at /dev; DEV="$T"; mount -t tmpfs -o mode=755,nosuid,size=65536k kubesim-dev "$DEV"');
  L.push('for d in null zero full random urandom tty; do touch "$DEV/$d"; mount --bind "/dev/$d" "$DEV/$d"; done');
  L.push('mkdir -p "$DEV/shm" "$DEV/pts"');
  L.push('mount -t tmpfs -o nosuid,nodev,mode=1777,size=65536k shm "$DEV/shm"');
  L.push('mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$DEV/pts" 2>/dev/null || true');
  L.push('ln -s pts/ptmx "$DEV/ptmx"; ln -s /proc/self/fd "$DEV/fd"');
  L.push('ln -s /proc/self/fd/0 "$DEV/stdin"; ln -s /proc/self/fd/1 "$DEV/stdout"; ln -s /proc/self/fd/2 "$DEV/stderr"');
  // The host's /tmp and /run are no business of the container: empty tmpfs
  // (read-only below when the root is).
  L.push('dir_at /tmp; TMP="$T"; mount -t tmpfs -o mode=1777,nosuid,nodev kubesim-tmp "$TMP"');
  L.push('dir_at /run; RUN="$T"; mount -t tmpfs -o mode=755,nosuid,nodev kubesim-run "$RUN"');
  for (const b of o.binds) {
    L.push(`{ file_at ${q(b.target)} && mount --bind ${q(b.source)} "$T" && mount -o remount,bind,ro "$T"; } || fail ${q(`image file ${b.target} cannot be mounted from ${b.source}`)}`);
  }
  if (o.hostsFile) L.push(`file_at /etc/hosts; mount --bind ${q(o.hostsFile)} "$T"`);
  if (o.resolvFile) L.push(`file_at /etc/resolv.conf; mount --bind ${q(o.resolvFile)} "$T"`);
  L.push(`file_at /etc/hostname; mount --bind ${q(o.hostnameFile)} "$T"`);
  L.push(`hostname ${q(o.hostname)}`);
  for (const v of o.volumes) {
    L.push(`[ -e ${q(v.source)} ] || fail ${q(`volume ${v.name}: ${v.source} does not exist`)}`);
    L.push(`if [ -d ${q(v.source)} ]; then dir_at ${q(v.mountPath)}; else file_at ${q(v.mountPath)}; fi`);
    L.push(`mount --bind ${q(v.source)} "$T"`);
    if (v.readOnly) L.push('mount -o remount,bind,ro "$T"');
  }
  L.push(`dir_at ${q(o.workingDir)}`);
  if (o.readOnlyRootFilesystem) {
    L.push('mount -o remount,ro "$R"');
    // A volume mounted at /tmp or /run itself (an emptyDir, as a pod with a
    // read-only root usually has) covers the tmpfs and stays writable: only
    // the tmpfs left visible is made read-only.
    const covered = new Set(o.volumes.map((v) => v.mountPath));
    if (!covered.has('/tmp')) L.push('mount -o remount,ro "$TMP"');
    if (!covered.has('/run')) L.push('mount -o remount,ro "$RUN"');
  }
  // A command that is not there is a start error (exit 128), as a runtime
  // reports it, not a process that prints and exits.
  const lookup = 'case "$1" in */*) [ -x "$1" ] ;; *) command -v -- "$1" >/dev/null ;; esac';
  L.push(`chroot "$R" /usr/bin/env -i -C ${q(o.workingDir)} PATH=${q(o.pathValue)} /bin/sh -c ${q(lookup)} sh ${q(o.argv[0])} || fail ${q(`exec: "${o.argv[0]}": executable file not found in $PATH`)}`);
  L.push('exec 2>&3 3>&-');
  // In its root, in the working directory (the container's process sets it
  // again as its user), the process reports that it is ready, then becomes
  // the container's process without the report's descriptor.
  const ready = `cd -- "$1" 2>/dev/null || :; shift; printf 1 >&${READY_FD}; exec "$@" ${READY_FD}>&-`;
  L.push(`exec chroot "$R" /bin/sh -c ${q(ready)} sh ${q(o.workingDir)} ${o.exec.map(q).join(' ')}`);
  return `${L.join('\n')}\n`;
}

const START_TIMEOUT_MS = 60000;

// -> 'ready' once the container's first process reports from inside its
// root; 'gone' when it ended (or never ran) without; 'timeout'. The report
// comes before the end of the stream, which ends only when every process of
// the container's start has let go of it.
function untilReady(child, wait) {
  const stream = child.stdio[READY_FD];
  return new Promise((resolve) => {
    let timer = null;
    const done = (v) => {
      clearTimeout(timer);
      if (stream) { stream.removeAllListeners('data'); stream.destroy(); }
      resolve(v);
    };
    timer = setTimeout(done, START_TIMEOUT_MS, 'timeout');
    if (!stream) { wait.then(() => done('gone')); return; }
    stream.once('data', () => done('ready'));
    stream.once('close', () => done('gone'));
    stream.on('error', () => {});
  });
}

// Starts one container. Resolves {pid, wait, ...} once the container's first
// process (PID 1 of its PID namespace; pid as the host sees it) is in its
// namespaces and its root, every mount made, so that an exec at once runs in
// the container; or, with pid null, once it ended before that (a start error:
// see wait). wait resolves {exitCode, signal, startError?} when every process
// of it is gone. Mount paths (volumes, image files, /etc/hosts...) are
// resolved inside the container's root: its symlinks never lead out of it.
// opts: {podKey, netns, root (an image from images.js), container,
//   podSecurityContext, volumes:[{name, hostPath, mountPath, readOnly,
//   subPath}], hostsFile, resolvFile, readOnlyRootFilesystem (default from
//   container.securityContext), logPath, env:[{name, value}] (resolved),
//   hostname, stateDir}
async function startContainer(opts) {
  const { podKey, netns, root: image, container } = opts;
  if (!image || !image.layerDir) throw new Error('startContainer needs root: an image from images.js');
  const stateDir = opts.stateDir || path.join(path.dirname(opts.logPath), '.runtime');
  const hostname = opts.hostname || String(podKey).split('/').pop();
  const runDir = path.join(stateDir, 'containers', safeName(podKey), safeName(container.name), `${Date.now()}-${process.pid}`);
  fs.rmSync(path.dirname(runDir), { recursive: true, force: true }); // earlier runs of this container
  fs.mkdirSync(runDir, { recursive: true });
  const metaDir = `${runDir}.meta`;
  fs.mkdirSync(metaDir, { recursive: true });
  const hostnameFile = path.join(metaDir, 'hostname');
  fs.writeFileSync(hostnameFile, `${hostname}\n`, { mode: 0o644 });

  const csc = container.securityContext || {};
  const identity = resolveIdentity(image, opts.podSecurityContext || {}, csc);
  const env = mergeEnv(image, opts.env || container.env || [], hostname);
  if (!env.some((e) => e.name === 'HOME')) env.push({ name: 'HOME', value: identity.home || '/' });
  const workingDir = container.workingDir || image.workingDir || '/';
  const argv = resolveArgv(image, container, opts.env || container.env || []);
  if (!argv.length) throw new Error(`container ${container.name}: no command and the image has no entrypoint`);
  const volumes = (opts.volumes || []).map((v) => ({
    name: v.name,
    source: v.subPath ? path.join(v.hostPath, v.subPath) : v.hostPath,
    mountPath: path.posix.normalize(`/${v.mountPath}`),
    readOnly: !!v.readOnly,
    subPath: v.subPath || undefined,
    volumeRoot: v.hostPath,
  })).sort((a, b) => a.mountPath.split('/').length - b.mountPath.split('/').length);
  // A missing subPath is created in the volume, as the kubelet does, with the
  // mode and group of the volume (so an fsGroup volume's group can write it).
  for (const v of volumes) {
    if (v.source && !fs.existsSync(v.source) && v.subPath !== undefined) {
      const parent = fs.statSync(v.volumeRoot);
      fs.mkdirSync(v.source, { recursive: true });
      fs.chmodSync(v.source, parent.mode & 0o7777);
      fs.chownSync(v.source, parent.uid, parent.gid);
    }
  }
  const readOnlyRootFilesystem = opts.readOnlyRootFilesystem ?? !!csc.readOnlyRootFilesystem;
  const pathValue = (env.find((e) => e.name === 'PATH') || {}).value || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const exec = [...setprivArgs(identity), ...envArgs(env, workingDir), ...argv];
  const script = setupScript({
    runDir, rootDir: path.join(runDir, 'root'), layerDir: image.layerDir, binds: image.binds || [], hostsFile: opts.hostsFile,
    resolvFile: opts.resolvFile, hostnameFile, hostname, volumes, workingDir, readOnlyRootFilesystem,
    argv, exec, pathValue, startErrorFile: path.join(metaDir, 'start-error'), setupLogFile: path.join(metaDir, 'setup.log'),
  });
  const scriptPath = path.join(metaDir, 'setup.sh');
  fs.writeFileSync(scriptPath, script, { mode: 0o700 });

  fs.mkdirSync(path.dirname(opts.logPath), { recursive: true });
  const logFd = fs.openSync(opts.logPath, 'a');
  let child;
  try {
    child = spawn(NSENTER, [`--net=/run/netns/${netns}`, UNSHARE, '--mount', '--uts', '--ipc', '--pid', '--fork',
      '--kill-child=SIGKILL', '--propagation', 'private', '/bin/bash', scriptPath],
    { stdio: ['ignore', logFd, logFd, 'ignore', 'pipe'], detached: true });
  } finally {
    fs.closeSync(logFd);
  }
  const wait = new Promise((resolve) => {
    child.on('error', (e) => resolve({ exitCode: 128, signal: null, startError: e.message }));
    child.on('exit', (code, signal) => {
      const errFile = path.join(metaDir, 'start-error');
      const startError = fs.existsSync(errFile) ? fs.readFileSync(errFile, 'utf8').trim() : undefined;
      const exitCode = code ?? 128 + (require('os').constants.signals[signal] || 0);
      // The writable layer is a tmpfs of the container's mount namespace,
      // gone with it; only the empty mount point and metadata remain.
      fs.rmSync(runDir, { recursive: true, force: true });
      resolve({ exitCode, signal, ...(startError ? { startError } : {}) });
    });
  });
  // Started means: the first process is in its namespaces and its root, its
  // setup done (it says so on READY_FD from there); or it is gone. Then its
  // PID 1, unshare's child, is found.
  const ready = await untilReady(child, wait);
  if (ready === 'timeout') {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
    await wait;
    throw new Error(`container ${container.name}: not started within ${START_TIMEOUT_MS / 1000}s (setup log: ${path.join(metaDir, 'setup.log')})`);
  }
  const pid = ready === 'ready' ? findChild(child.pid) : null;
  return {
    pid, wrapperPid: child.pid, wait, podKey, netns, uid: identity.uid, gid: identity.gid, groups: identity.groups,
    identity, env, workingDir, argv, metaDir, logPath: opts.logPath,
  };
}

// SIGTERM to the container's first process, SIGKILL after the grace period
// (that ends its PID namespace, so every descendant goes). Resolves the
// wait() result once all is gone.
async function stopContainer(handle, { gracePeriodSeconds = 30 } = {}) {
  const timeout = (ms) => new Promise((r) => { const t = setTimeout(r, ms, 'timeout'); t.unref?.(); });
  const send = (sig) => {
    try { process.kill(handle.pid || handle.wrapperPid, sig); } catch { /* already gone */ }
  };
  if (gracePeriodSeconds > 0) {
    send('SIGTERM');
    const r = await Promise.race([handle.wait, timeout(gracePeriodSeconds * 1000)]);
    if (r !== 'timeout') return r;
  }
  // The wrapper first: its --kill-child takes PID 1 and so the whole PID
  // namespace. Killing PID 1 first lets the wrapper see its child die and
  // exit 1 ("sigprocmask unblock failed", util-linux 2.38), which would be
  // reported as the container's exit code.
  try { process.kill(handle.wrapperPid, 'SIGKILL'); } catch { /* gone */ }
  send('SIGKILL');
  return handle.wait;
}

// Runs argv inside a running container (its namespaces, root, working dir and
// user), as an exec probe or `kubectl exec` does. target: a handle from
// startContainer (or {pid, uid, gid, groups, env, workingDir}).
// opts: {timeoutMs, env:[{name, value}] (added), user:{uid, gid}, input}
// Resolves {exitCode, signal, stdout, stderr, timedOut}.
// nsenter's arguments to run argv inside a running container as its user,
// with its environment (plus env) — shared by execIn and streamed exec.
function enterArgs(target, argv, { env = [], user } = {}) {
  const id = { uid: target.uid ?? 0, gid: target.gid ?? 0, groups: target.groups || [], ...(target.identity || {}), ...(user || {}) };
  const merged = new Map((target.env || []).map((e) => [e.name, e.value]));
  for (const e of env) merged.set(e.name, e.value);
  const envList = [...merged].map(([name, value]) => ({ name, value }));
  return ['--target', String(target.pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--root', '--wd', '--',
    ...setprivArgs(id), ...envArgs(envList, null), ...argv];
}

function execIn(target, argv, { timeoutMs = 10000, env = [], user, input, maxOutput = 1 << 20 } = {}) {
  if (!target || !target.pid) return Promise.resolve({ exitCode: 126, signal: null, stdout: '', stderr: 'container is not running', timedOut: false });
  const args = enterArgs(target, argv, { env, user });
  return new Promise((resolve) => {
    const child = spawn(NSENTER, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { if (stdout.length < maxOutput) stdout += d; });
    child.stderr.on('data', (d) => { if (stderr.length < maxOutput) stderr += d; });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); resolve({ exitCode: 126, signal: null, stdout, stderr: e.message, timedOut }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? 137, signal, stdout, stderr, timedOut });
    });
  });
}

// Gives a volume directory to the pod's fsGroup as the kubelet does: group
// ownership, group read/write, setgid directories.
function applyFsGroup(dir, gid) {
  const walk = (p) => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    fs.chownSync(p, st.uid, gid);
    if (st.isDirectory()) {
      fs.chmodSync(p, (st.mode & 0o7777) | 0o2070);
      for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    } else {
      fs.chmodSync(p, (st.mode & 0o7777) | 0o060 | ((st.mode & 0o100) ? 0o010 : 0));
    }
  };
  walk(dir);
}

// Removes what the runtime keeps for a pod (per-container metadata) once
// every container of it is gone.
function removePodState(stateDir, podKey) {
  fs.rmSync(path.join(stateDir, 'containers', safeName(podKey)), { recursive: true, force: true });
}

// Log files: one per container run, <logDir>/<ns_pod>/<container>/<restartCount>.log;
// "previous" is restartCount - 1.
function containerLogPath(logDir, podKey, containerName, restartCount) {
  return path.join(logDir, safeName(podKey), safeName(containerName), `${restartCount}.log`);
}

module.exports = {
  enterArgs,
  startContainer,
  stopContainer,
  execIn,
  applyFsGroup,
  removePodState,
  containerLogPath,
  expandVars,
  resolveArgv,
  resolveIdentity,
  ...require('./netcheck'),
};
