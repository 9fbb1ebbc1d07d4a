'use strict';
// Pod volumes on the host, laid out as the kubelet does under
// stateDir/pods/<uid>/volumes/<plugin>/<name>. configMap, secret, projected
// and downwardAPI volumes use the kubelet's atomic writer layout: the files
// live in a timestamped directory, `..data` is a symlink to it and every
// top-level name is a symlink through `..data`, so an update is one rename and
// a file mounted with subPath keeps the old content, as on a real node.

const fs = require('fs');
const fsp = require('fs/promises');
const path = require('path');
const { fieldRefValue, resourceFieldValue } = require('./podenv');

const SA_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const AUTO_SA_VOLUME = 'kube-api-access-auto';

// A volume that cannot be set up (yet): the pod waits, with an event.
class VolumeError extends Error {
  constructor(reason, message) { super(message); this.reason = reason; }
}

const PLUGIN = {
  configMap: 'kubernetes.io~configmap', secret: 'kubernetes.io~secret', emptyDir: 'kubernetes.io~empty-dir',
  projected: 'kubernetes.io~projected', downwardAPI: 'kubernetes.io~downward-api',
};

function stamp() {
  const d = new Date();
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${process.hrtime.bigint() % 1000000000n}`;
}

// files: Map relPath -> {data: Buffer, mode}. Rewrites only when something
// changed; returns true when it did.
async function atomicWrite(dir, files, owner) {
  await fsp.mkdir(dir, { recursive: true });
  const dataLink = path.join(dir, '..data');
  let current = null;
  try { current = await fsp.readlink(dataLink); } catch { /* first write */ }
  if (current && await sameContent(path.join(dir, current), files)) return false;
  const ts = stamp();
  const tsDir = path.join(dir, ts);
  await fsp.mkdir(tsDir, { mode: 0o755 });
  for (const [rel, f] of files) {
    const file = path.join(tsDir, rel);
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
    await fsp.writeFile(file, f.data);
    await fsp.chmod(file, f.mode);
  }
  if (owner) await applyOwnership(tsDir, owner.fsGroup, true);
  const tmp = path.join(dir, '..data_tmp');
  await fsp.rm(tmp, { force: true });
  await fsp.symlink(ts, tmp);
  await fsp.rename(tmp, dataLink);
  const tops = new Set([...files.keys()].map((r) => r.split('/')[0]));
  for (const top of tops) {
    const link = path.join(dir, top);
    try { await fsp.readlink(link); } catch { await fsp.symlink(path.join('..data', top), link); }
  }
  for (const name of await fsp.readdir(dir)) {
    if (name.startsWith('..') || tops.has(name)) continue;
    await fsp.rm(path.join(dir, name), { recursive: true, force: true });
  }
  if (current) await fsp.rm(path.join(dir, current), { recursive: true, force: true });
  return true;
}

async function sameContent(tsDir, files) {
  try {
    const have = await listFiles(tsDir);
    if (have.length !== files.size) return false;
    for (const rel of have) {
      const f = files.get(rel);
      if (!f) return false;
      const st = await fsp.stat(path.join(tsDir, rel));
      if (!(await fsp.readFile(path.join(tsDir, rel))).equals(f.data)) return false;
      if ((st.mode & 0o777) !== (f.mode & 0o777)) return false;
    }
    return true;
  } catch { return false; }
}

async function listFiles(dir, prefix = '') {
  const out = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...await listFiles(path.join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

// fsGroup as the kubelet's SetVolumeOwnership applies it: group-owned,
// group-readable (and writable unless read-only), setgid directories.
async function applyOwnership(dir, fsGroup, readOnly) {
  if (fsGroup === undefined || fsGroup === null) return;
  const mask = readOnly ? 0o440 : 0o660;
  const walk = async (p) => {
    const st = await fsp.lstat(p);
    if (st.isSymbolicLink()) return;
    await fsp.chown(p, st.uid, fsGroup);
    if (st.isDirectory()) {
      await fsp.chmod(p, (st.mode & 0o7777) | mask | 0o2000 | 0o110);
      for (const n of await fsp.readdir(p)) await walk(path.join(p, n));
    } else {
      await fsp.chmod(p, (st.mode & 0o7777) | mask);
    }
  };
  await walk(dir);
}

class Volumes {
  // auth: issueToken for projected service-account tokens; caPem: ca.crt of
  // the service-account volume. allowHostPath: hostPath volumes are refused
  // unless true (they would reach into this machine's file system).
  constructor({ store, registry, auth, stateDir, caPem, allowHostPath = false }) {
    this.store = store;
    this.registry = registry;
    this.auth = auth;
    this.stateDir = stateDir;
    this.caPem = caPem || (auth && auth.pki && auth.pki.ca && auth.pki.ca.certPem);
    this.allowHostPath = allowHostPath;
    this.tokens = new Map(); // `${uid}/${volume}/${path}` -> {token, refreshAt}
    const r = (p) => registry.byPlural('', 'v1', p);
    this.res = { cm: r('configmaps'), secret: r('secrets'), pvc: r('persistentvolumeclaims'), pv: r('persistentvolumes'), sa: r('serviceaccounts') };
  }

  podDir(uid) { return path.join(this.stateDir, 'pods', uid); }

  // The pod's volumes, plus the automatic service-account one when it applies.
  volumesOf(pod) {
    const vols = [...(pod.spec.volumes || [])];
    if (this.wantsAutoToken(pod)) {
      vols.push({
        name: AUTO_SA_VOLUME,
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }], optional: true, _caFallback: true } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      });
    }
    return vols;
  }

  // The API server's admission normally adds a kube-api-access volume; when
  // it did not (and nothing is mounted there already), the kubelet does.
  wantsAutoToken(pod) {
    const all = [...(pod.spec.initContainers || []), ...(pod.spec.containers || [])];
    if (all.some((c) => (c.volumeMounts || []).some((m) => m.mountPath.replace(/\/$/, '') === SA_MOUNT))) return false;
    if (pod.spec.automountServiceAccountToken !== undefined) return pod.spec.automountServiceAccountToken;
    const sa = this.store.tryGet(this.res.sa, pod.metadata.namespace, pod.spec.serviceAccountName || 'default');
    return !(sa && sa.automountServiceAccountToken === false);
  }

  // -> Map volumeName -> {hostPath, readOnly}. Throws VolumeError while a
  // volume cannot be made (missing object, unbound claim, hostPath refused).
  async setup(pod) {
    const out = new Map();
    const base = path.join(this.podDir(pod.metadata.uid), 'volumes');
    const fsGroup = pod.spec.securityContext && pod.spec.securityContext.fsGroup;
    for (const v of this.volumesOf(pod)) {
      if (v.persistentVolumeClaim) {
        const dir = this.claimPath(pod, v);
        await fsp.mkdir(dir, { recursive: true });
        await applyOwnership(dir, fsGroup, false);
        out.set(v.name, { hostPath: dir, readOnly: !!v.persistentVolumeClaim.readOnly });
      } else if (v.hostPath) {
        if (!this.allowHostPath) {
          throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${v.name}" : hostPath volumes are not allowed in this test cluster (start it with hostPath allowed to use them)`);
        }
        out.set(v.name, { hostPath: v.hostPath.path, readOnly: false });
      } else if (v.emptyDir) {
        const dir = path.join(base, PLUGIN.emptyDir, v.name);
        if (!fs.existsSync(dir)) {
          await fsp.mkdir(dir, { recursive: true });
          await fsp.chmod(dir, 0o777);
        }
        await applyOwnership(dir, fsGroup, false);
        out.set(v.name, { hostPath: dir, readOnly: false });
      } else {
        const kind = Object.keys(PLUGIN).find((k) => v[k]);
        if (!kind) throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${v.name}" : volume type not supported by this kubelet`);
        const dir = path.join(base, PLUGIN[kind], v.name);
        await this.writeVolume(pod, v, dir, fsGroup);
        out.set(v.name, { hostPath: dir, readOnly: true });
      }
    }
    return out;
  }

  claimPath(pod, v) {
    const claim = v.persistentVolumeClaim.claimName;
    const pvc = this.store.tryGet(this.res.pvc, pod.metadata.namespace, claim);
    if (!pvc) throw new VolumeError('FailedScheduling', `persistentvolumeclaim "${claim}" not found`);
    if (!pvc.status || pvc.status.phase !== 'Bound' || !pvc.spec.volumeName) {
      throw new VolumeError('FailedScheduling', 'pod has unbound immediate PersistentVolumeClaims');
    }
    const pv = this.store.tryGet(this.res.pv, '', pvc.spec.volumeName);
    const p = pv && pv.spec && ((pv.spec.hostPath && pv.spec.hostPath.path) || (pv.spec.local && pv.spec.local.path));
    if (!p) throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${v.name}" : persistentvolume "${pvc.spec.volumeName}" has no hostPath`);
    return p;
  }

  // Rewrites the file-backed volumes whose sources changed (config maps,
  // secrets, labels, tokens near expiry). Errors are left to the next round.
  async refresh(pod) {
    const base = path.join(this.podDir(pod.metadata.uid), 'volumes');
    const fsGroup = pod.spec.securityContext && pod.spec.securityContext.fsGroup;
    for (const v of this.volumesOf(pod)) {
      const kind = ['configMap', 'secret', 'projected', 'downwardAPI'].find((k) => v[k]);
      if (!kind) continue;
      try { await this.writeVolume(pod, v, path.join(base, PLUGIN[kind], v.name), fsGroup); } catch { /* kept as is */ }
    }
  }

  async writeVolume(pod, v, dir, fsGroup) {
    const files = new Map();
    if (v.configMap) this.addObject(files, pod, 'configMap', v.configMap, v.configMap.defaultMode ?? 420, v.name);
    else if (v.secret) this.addObject(files, pod, 'secret', { ...v.secret, name: v.secret.secretName }, v.secret.defaultMode ?? 420, v.name);
    else if (v.downwardAPI) this.addDownward(files, pod, v.downwardAPI.items || [], v.downwardAPI.defaultMode ?? 420);
    else if (v.projected) {
      const mode = v.projected.defaultMode ?? 420;
      for (const s of v.projected.sources || []) {
        if (s.configMap) {
          const before = files.size;
          this.addObject(files, pod, 'configMap', s.configMap, mode, v.name);
          if (s.configMap._caFallback && files.size === before && this.caPem) files.set('ca.crt', { data: Buffer.from(this.caPem), mode });
        } else if (s.secret) this.addObject(files, pod, 'secret', s.secret, mode, v.name);
        else if (s.downwardAPI) this.addDownward(files, pod, s.downwardAPI.items || [], mode);
        else if (s.serviceAccountToken) files.set(s.serviceAccountToken.path, { data: Buffer.from(await this.token(pod, v.name, s.serviceAccountToken)), mode });
        else if (s.clusterTrustBundle) throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${v.name}" : clusterTrustBundle sources are not supported`);
      }
    }
    await atomicWrite(dir, files, { fsGroup });
  }

  // A configMap or secret source: every key, or the listed items.
  addObject(files, pod, kind, src, defaultMode, volName) {
    const res = kind === 'configMap' ? this.res.cm : this.res.secret;
    const obj = this.store.tryGet(res, pod.metadata.namespace, src.name);
    const label = kind === 'configMap' ? 'configmap' : 'secret';
    if (!obj) {
      if (src.optional) return;
      throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${volName}" : ${label} "${src.name}" not found`);
    }
    const data = new Map();
    if (kind === 'configMap') {
      for (const [k, val] of Object.entries(obj.data || {})) data.set(k, Buffer.from(val));
      for (const [k, val] of Object.entries(obj.binaryData || {})) data.set(k, Buffer.from(val, 'base64'));
    } else {
      for (const [k, val] of Object.entries(obj.data || {})) data.set(k, Buffer.from(val, 'base64'));
    }
    if (!src.items) {
      for (const [k, d] of data) files.set(k, { data: d, mode: defaultMode });
      return;
    }
    for (const it of src.items) {
      if (!data.has(it.key)) {
        if (src.optional) continue;
        throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${volName}" : configmap references non-existent config key: ${it.key}`.replace('configmap', label));
      }
      files.set(it.path, { data: data.get(it.key), mode: it.mode ?? defaultMode });
    }
  }

  addDownward(files, pod, items, defaultMode) {
    for (const it of items) {
      let value;
      if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef.fieldPath);
      else if (it.resourceFieldRef) value = resourceFieldValue(pod, it.resourceFieldRef);
      else continue;
      files.set(it.path, { data: Buffer.from(value), mode: it.mode ?? defaultMode });
    }
  }

  // Bound tokens are reissued once 80% of their lifetime has passed, as the
  // kubelet's token manager does.
  async token(pod, volName, src) {
    const key = `${pod.metadata.uid}/${volName}/${src.path}`;
    const have = this.tokens.get(key);
    if (have && Date.now() < have.refreshAt) return have.token;
    if (!this.auth || typeof this.auth.issueToken !== 'function') {
      throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${volName}" : no token issuer in this cluster`);
    }
    const seconds = src.expirationSeconds || 3600;
    let r;
    try {
      r = await this.auth.issueToken(
        { metadata: { namespace: pod.metadata.namespace, name: pod.spec.serviceAccountName || 'default' } },
        { audiences: src.audience ? [src.audience] : undefined, expirationSeconds: seconds, boundPod: pod },
      );
    } catch (e) {
      throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${volName}" : failed to fetch token: ${e.message}`);
    }
    const token = typeof r === 'string' ? r : r.token;
    this.tokens.set(key, { token, refreshAt: Date.now() + seconds * 800 });
    return token;
  }

  // A copy of the file-backed volume at src in dst (same layout) with one
  // file rewritten by transform(text) -> text; kept in step by refresh.
  async derive(src, dst, fileName, transform) {
    const data = path.join(src, '..data');
    const files = new Map();
    for (const rel of await listFiles(data)) {
      const full = path.join(data, rel);
      const st = await fsp.stat(full);
      let buf = await fsp.readFile(full);
      if (rel === fileName) buf = Buffer.from(transform(buf.toString('utf8')));
      files.set(rel, { data: buf, mode: st.mode & 0o777 });
    }
    await atomicWrite(dst, files, null);
    const st = await fsp.stat(data);
    await applyOwnership(path.join(dst, '..data'), st.gid || undefined, true);
  }

  // Everything of the pod except claim data (which belongs to the PV).
  async teardown(uid) {
    for (const k of this.tokens.keys()) if (k.startsWith(`${uid}/`)) this.tokens.delete(k);
    await fsp.rm(path.join(this.podDir(uid), 'volumes'), { recursive: true, force: true });
  }

  // The runtime's mount list for one container. Mount paths are as the pod
  // spec writes them: the runtime resolves them inside the container's root.
  static mountsFor(container, volumeMap) {
    const mounts = [];
    const explicit = (container.volumeMounts || []);
    for (const m of explicit) {
      const v = volumeMap.get(m.name);
      if (!v) throw new VolumeError('FailedMount', `volumeMount "${m.name}" of container "${container.name}" names no volume of the pod`);
      mounts.push({ name: m.name, hostPath: v.hostPath, mountPath: m.mountPath, readOnly: !!m.readOnly || v.readOnly, subPath: m.subPath || undefined });
    }
    const auto = volumeMap.get(AUTO_SA_VOLUME);
    if (auto) mounts.push({ name: AUTO_SA_VOLUME, hostPath: auto.hostPath, mountPath: SA_MOUNT, readOnly: true });
    return mounts;
  }
}

module.exports = { Volumes, VolumeError, atomicWrite, applyOwnership, SA_MOUNT, AUTO_SA_VOLUME };
